"""The scratch database a benchmark fills: on DATABASE_URL's server, or the embedded one."""

from pathlib import Path

import psycopg
from psycopg import sql

from lims.database import settings_conninfo, settings_database_url

BASE_DIR = Path(__file__).resolve().parent.parent


def server() -> dict:
    """Django settings of the server to create the benchmark database on."""
    from lims.env import env_database

    database = env_database("DATABASE_URL")
    if database is None:
        from lims.embedded_db import embedded_database_settings

        database = embedded_database_settings(BASE_DIR / "var" / "pgdata")
    return database


def create_database(database: dict, name: str, *, drop: bool, template: str | None = None) -> str:
    """Create `name` (dropping it first when `drop`; a copy of `template` when given) and return its DATABASE_URL."""
    with psycopg.connect(**settings_conninfo(database, "postgres"), autocommit=True) as conn:
        if drop:
            conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
            if template:
                conn.execute(
                    sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(sql.Identifier(name), sql.Identifier(template))
                )
            else:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return settings_database_url(database, name)


def drop_database(database: dict, name: str) -> None:
    with psycopg.connect(**settings_conninfo(database, "postgres"), autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


def finish(database: dict, name: str, *, keep: bool) -> None:
    """Close this process's connections, then drop the scratch database unless it is to be kept."""
    from django.db import connections

    connections.close_all()
    if not keep:
        drop_database(database, name)
        print(f"database {name} dropped")
