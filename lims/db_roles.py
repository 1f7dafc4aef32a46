"""Two database roles: the owner runs migrations; the application only reads and writes rows.

Altering a table, disabling its triggers or truncating it needs the table's owner (or a superuser),
so an application role that owns nothing cannot switch off the rules the database keeps. On top of
that it may only INSERT into the history, the audit seals, signatures and lifecycle logs — never
UPDATE or DELETE them — and may not touch the migration ledger.

`manage.py migrate` connects as the owner (`DATABASE_OWNER_URL`, or the embedded server's superuser)
and, after migrating, grants the application role exactly this (`grant_application_role`).
"""

from collections.abc import Iterator
from contextlib import contextmanager

from django.apps import apps
from django.conf import settings
from django.db import connections

from lims.constraints import APPEND_ONLY

# Tables written by triggers and libraries rather than by models with an append_only trigger.
INSERT_ONLY_TABLES = ("pghistory_context",)
READ_ONLY_TABLES = ("django_migrations",)
_CREDENTIALS = ("USER", "PASSWORD", "HOST", "PORT")


def insert_only_tables() -> list[str]:
    """History tables, audit seals and shapes, signatures and lifecycle logs: rows are added, never changed."""
    from pghistory.models import Event

    tables = set(INSERT_ONLY_TABLES)
    for model in apps.get_models():
        if model._meta.proxy or not model._meta.managed:
            continue
        if issubclass(model, Event) or any(
            getattr(trigger, "name", None) == APPEND_ONLY for trigger in getattr(model._meta, "triggers", [])
        ):
            tables.add(model._meta.db_table)
    return sorted(tables)


def grant_application_role(*, cursor, role: str) -> None:
    """Give `role` row access to every table of the public schema, as described above (idempotent)."""
    who = _quoted(role)
    cursor.execute(f"GRANT USAGE ON SCHEMA public TO {who}")
    cursor.execute(f"REVOKE ALL ON ALL TABLES IN SCHEMA public FROM {who}")
    cursor.execute(f"GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO {who}")
    cursor.execute(f"GRANT USAGE, SELECT ON ALL SEQUENCES IN SCHEMA public TO {who}")
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
    existing = {row[0] for row in cursor.fetchall()}
    for table in insert_only_tables():
        if table in existing:
            revoked = "DELETE" if table in INSERT_ONLY_TABLES else "UPDATE, DELETE"
            cursor.execute(f"REVOKE {revoked} ON {_quoted(table)} FROM {who}")
    for table in READ_ONLY_TABLES:
        if table in existing:
            cursor.execute(f"REVOKE INSERT, UPDATE, DELETE ON {_quoted(table)} FROM {who}")


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def owner_settings() -> dict | None:
    """The owner's credentials when they differ from the application's, else None (one role does both)."""
    owner = getattr(settings, "DATABASE_OWNER", None)
    if not owner:
        return None
    return {key: owner.get(key, "") for key in _CREDENTIALS}


def application_role(alias: str = "default") -> str | None:
    """The role the application connects as, when it is not the owner."""
    owner = owner_settings()
    user = connections[alias].settings_dict.get("USER")
    if owner is None or not user or user == owner["USER"]:
        return None
    return user


@contextmanager
def as_owner(alias: str = "default") -> Iterator[None]:
    """Within the block, the connection `alias` is made as the owner (same database)."""
    owner = owner_settings()
    if owner is None:
        yield
        return
    connection = connections[alias]
    saved = {key: connection.settings_dict.get(key) for key in _CREDENTIALS}
    connection.close()
    connection.settings_dict.update(owner)
    try:
        yield
    finally:
        connection.close()
        connection.settings_dict.update(saved)
