"""The embedded PostgreSQL used when DATABASE_URL is unset.

pgserver ships the PostgreSQL binaries in its wheel. It serialises start-up with an inter-process
lock and counts handles per process, so runserver's autoreloader, pytest and two commands started
at once all share one server; the last process to exit stops it.
"""

import logging
import warnings
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import psycopg
from psycopg import errors, sql

logger = logging.getLogger(__name__)

DATABASE_NAME = "lims"


def embedded_database_settings(pgdata: Path) -> dict:
    with warnings.catch_warnings():
        # platformdirs warns when XDG_RUNTIME_DIR is unset and falls back to /tmp; that is fine here.
        warnings.simplefilter("ignore")
        import pgserver

    # pgserver creates the folder without exist_ok, outside its lock: two processes starting at once on a
    # fresh checkout would race on that mkdir. Create it here, where a second creator is harmless.
    pgdata.mkdir(parents=True, exist_ok=True)
    server = pgserver.get_server(pgdata, cleanup_mode="stop")
    uri = server.get_uri()
    socket_dir = parse_qs(urlparse(uri).query)["host"][0]
    _ensure_database(socket_dir)
    return {
        "ENGINE": "django.db.backends.postgresql",
        "NAME": DATABASE_NAME,
        "USER": "postgres",
        "PASSWORD": "",
        "HOST": socket_dir,
        "PORT": "",
    }


def _ensure_database(socket_dir: str) -> None:
    with psycopg.connect(host=socket_dir, user="postgres", dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [DATABASE_NAME]).fetchone()
        if exists:
            return
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(DATABASE_NAME)))
        except (errors.DuplicateDatabase, errors.UniqueViolation):
            # Another process created it between our check and our CREATE.
            logger.debug("database %s created concurrently", DATABASE_NAME)


APPLICATION_ROLE = "lims_app"


def embedded_application_role(owner: dict) -> dict:
    """The embedded server's settings for the application role (made here; `migrate` grants its rights)."""
    with psycopg.connect(host=owner["HOST"], user=owner["USER"], dbname="postgres", autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APPLICATION_ROLE]).fetchone()
        if not exists:
            try:
                conn.execute(sql.SQL("CREATE ROLE {} LOGIN").format(sql.Identifier(APPLICATION_ROLE)))
            except (errors.DuplicateObject, errors.UniqueViolation):
                logger.debug("role %s created concurrently", APPLICATION_ROLE)
    return {**owner, "USER": APPLICATION_ROLE}
