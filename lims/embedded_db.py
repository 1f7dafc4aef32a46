"""The embedded PostgreSQL used when DATABASE_URL is unset.

pgserver ships the PostgreSQL binaries in its wheel. It serialises start-up with an inter-process
lock and lists the processes that use a data folder (`.handle_pids.json` in it), so runserver's
autoreloader, pytest and two commands started at once all share one server.

The server stops when the last process of the checkout that uses it ends — normally, on Ctrl-C or on
SIGTERM. pgserver alone stopped it only when every listed process had exited through `atexit`, so a
process killed outright (runserver's reloader kills its child with SIGKILL on SIGTERM) kept the server
running forever; here a process that ends drops the listed processes that no longer run and stops the
server when none is left. `python -m lims.embedded_db stop` (`make stop-db`) stops a leftover one.
"""

import argparse
import atexit
import json
import logging
import os
import signal
import sys
import threading
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
    # cleanup_mode=None: pgserver's own stop needs every user to have exited cleanly; _release decides.
    server = pgserver.get_server(pgdata, cleanup_mode=None)
    server.global_process_id_list = _UserList(server.global_process_id_list.path)
    _stop_when_the_last_user_ends(server)
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


# --- lifetime: the server ends with the last process of this checkout that uses it ---------------------------


class _UserList:
    """pgserver's list of the processes using the server (`.handle_pids.json`), written atomically.

    pgserver rewrites the file in place; runserver's reloader SIGKILLs its child while the child may be
    rewriting it on SIGTERM, which left an empty file that nobody could read — and the server ran on."""

    def __init__(self, path: Path):
        self.path = path

    def get(self) -> list[int]:
        return _read_users(self.path)

    def put(self, values: list[int]) -> None:
        scratch = self.path.with_name(f"{self.path.name}.{os.getpid()}.tmp")
        scratch.write_text(json.dumps(values))
        os.replace(scratch, self.path)

    def get_and_add(self, value: int) -> list[int]:
        old = self.get()
        if value not in old:
            self.put([*old, value])
        return old

    def get_and_remove(self, value: int) -> list[int]:
        old = self.get()
        if value in old:
            self.put([pid for pid in old if pid != value])
        return old


def _read_users(listed: Path) -> list[int]:
    """The listed pids; an unreadable list (torn by a kill) counts as empty: its processes are gone or will
    list themselves again when they next start."""
    try:
        values = json.loads(listed.read_text())
    except FileNotFoundError:
        return []
    except (ValueError, OSError):
        logger.warning("unreadable list of embedded PostgreSQL users in %s; treating it as empty", listed)
        return []
    return [value for value in values if isinstance(value, int)] if isinstance(values, list) else []


def _stop_when_the_last_user_ends(server) -> None:
    if getattr(server, "_lims_release_registered", False):
        return
    server._lims_release_registered = True
    _exit_cleanly_on_sigterm()
    atexit.register(_release, server)


def _exit_cleanly_on_sigterm() -> None:
    """SIGTERM ends the process through SystemExit, so atexit (and _release) runs; handlers others
    installed (runserver's reloader, Celery, gunicorn) are left in place."""
    if threading.current_thread() is not threading.main_thread():
        return
    if signal.getsignal(signal.SIGTERM) is signal.SIG_DFL:
        signal.signal(signal.SIGTERM, _terminate)


def _terminate(signum, _frame) -> None:
    raise SystemExit(128 + signum)


def _release(server) -> None:
    with server._lock:
        users = live_users(server.pgdata, excluding=os.getpid())
        server.global_process_id_list.put(users)
        if users:
            logger.debug("embedded PostgreSQL kept running for processes %s", users)
            return
        stop_server(server.pgdata)


def live_users(pgdata: Path, *, excluding: int | None = None) -> list[int]:
    """The processes listed as using the server in pgdata that still run (a reused pid must be a Python)."""
    import psutil

    pids = _read_users(pgdata / ".handle_pids.json")
    alive = []
    for pid in pids:
        if pid == excluding:
            continue
        try:
            process = psutil.Process(pid)
            if process.status() == psutil.STATUS_ZOMBIE:
                continue
            # The interpreter, also for console scripts (pytest, celery), whose process name is the script's.
            if "python" in Path(process.exe()).name.lower():
                alive.append(pid)
        except psutil.AccessDenied:
            alive.append(pid)  # another user's process: assume it still uses the server
        except psutil.Error:
            continue
    return alive


def server_pid(pgdata: Path) -> int | None:
    """The postmaster's pid when a server runs on pgdata."""
    import psutil

    pidfile = pgdata / "postmaster.pid"
    if not pidfile.exists():
        return None
    try:
        pid = int(pidfile.read_text().splitlines()[0])
    except (ValueError, IndexError):
        return None
    return pid if psutil.pid_exists(pid) else None


def stop_server(pgdata: Path, *, timeout: float = 60) -> bool:
    """Stop the server running on pgdata with PostgreSQL's fast shutdown (SIGINT to the postmaster: open
    sessions are ended, the data is checkpointed). Signalling the pid works whoever started it — pg_ctl would
    need the `pgserver` system user to reach the folder. False if no server ran."""
    import psutil

    pid = server_pid(pgdata)
    if pid is None:
        return False
    postmaster = psutil.Process(pid)
    postmaster.send_signal(signal.SIGINT)
    try:
        postmaster.wait(timeout)
    except psutil.TimeoutExpired:
        postmaster.send_signal(signal.SIGQUIT)  # immediate shutdown; the next start recovers from the WAL
        postmaster.wait(10)
    logger.info("embedded PostgreSQL in %s stopped", pgdata)
    return True


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m lims.embedded_db", description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["stop", "status"])
    parser.add_argument(
        "--pgdata",
        type=Path,
        default=Path(os.environ.get("LIMS_VAR_DIR") or Path(__file__).resolve().parents[1] / "var") / "pgdata",
        help="data folder (default: $LIMS_VAR_DIR/pgdata, else ./var/pgdata)",
    )
    parser.add_argument("--force", action="store_true", help="stop it even while processes still use it")
    args = parser.parse_args(argv)
    pgdata = args.pgdata.expanduser().resolve()
    pid = server_pid(pgdata)
    users = live_users(pgdata)
    if args.action == "status":
        state = f"running (pid {pid})" if pid else "not running"
        print(f"embedded PostgreSQL in {pgdata}: {state}; used by {users or 'no process'}")
        return 0
    if pid is None:
        print(f"No embedded PostgreSQL runs in {pgdata}.")
        return 0
    if users and not args.force:
        print(
            f"The embedded PostgreSQL in {pgdata} is in use by process(es) {', '.join(map(str, users))}; "
            "stop them first (it then stops by itself), or run again with --force (make stop-db FORCE=1).",
            file=sys.stderr,
        )
        return 1
    stop_server(pgdata)
    (pgdata / ".handle_pids.json").unlink(missing_ok=True)
    print(f"Stopped the embedded PostgreSQL in {pgdata} (pid {pid}).")
    return 0


if __name__ == "__main__":
    sys.exit(main())
