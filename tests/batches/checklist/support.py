"""Helpers for tests that leave the test process: a database URL for another process, task counting."""

from collections.abc import Iterator
from contextlib import contextmanager
from urllib.parse import quote

from celery.signals import task_prerun
from django.conf import settings


def database_url() -> str:
    """The test database as a DATABASE_URL another process can use (the host may be a unix-socket directory)."""
    db = settings.DATABASES["default"]
    user = quote(db.get("USER") or "", safe="")
    password = quote(db.get("PASSWORD") or "", safe="")
    credentials = f"{user}:{password}@" if password else f"{user}@" if user else ""
    host = db.get("HOST") or ""
    if host.startswith("/"):
        # django-environ reads a socket directory from the path: postgres://user@/%2Fsocket%2Fdir%2Fdbname
        socket_path = quote(f"{host}/{db['NAME']}", safe="")
        return f"postgres://{credentials}/{socket_path}"
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{credentials}{host}{port}/{quote(db['NAME'], safe='')}"


def psycopg_conninfo() -> dict:
    db = settings.DATABASES["default"]
    info = {"dbname": db["NAME"], "user": db.get("USER") or None, "password": db.get("PASSWORD") or None}
    if db.get("HOST"):
        info["host"] = db["HOST"]
    if db.get("PORT"):
        info["port"] = db["PORT"]
    return {k: v for k, v in info.items() if v is not None}


@contextmanager
def tasks_run() -> Iterator[list[tuple[str, dict]]]:
    """Record (task name, kwargs) of every task that starts in this process (eager mode)."""
    seen: list[tuple[str, dict]] = []

    def record(sender=None, task=None, kwargs=None, **_):
        seen.append((task.name, dict(kwargs or {})))

    task_prerun.connect(record, weak=False)
    try:
        yield seen
    finally:
        task_prerun.disconnect(record)
