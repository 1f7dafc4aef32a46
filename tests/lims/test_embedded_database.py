"""DATABASE_URL unset: an embedded PostgreSQL (pgserver) starts from ./var/pgdata, also for two processes at once,
and stops when the last process of the checkout that uses it ends."""

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from pathlib import Path

import psutil
import pytest

pytestmark = pytest.mark.takes_minutes(5)

ROOT = Path(__file__).resolve().parents[2]
PROBE = (
    "import django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'lims.settings'); django.setup();"
    "from django.db import connection; c = connection.cursor(); c.execute('select version()');"
    "print(c.fetchone()[0].split()[0], connection.settings_dict['NAME'])"
)


def test_two_processes_starting_at_once_share_one_embedded_server(tmp_path):
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "TEST_DATABASE_NAME"}}
    environment["LIMS_VAR_DIR"] = str(tmp_path / "var")
    processes = [
        subprocess.Popen(
            [sys.executable, "-c", PROBE],
            cwd=ROOT,
            env=environment,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [process.communicate(timeout=180) for process in processes]
    for process, (stdout, stderr) in zip(processes, outputs, strict=True):
        assert process.returncode == 0, stderr
        assert stdout.strip().endswith("PostgreSQL lims"), stdout
    assert (tmp_path / "var" / "pgdata" / "PG_VERSION").exists()


# --- lifetime: `make run` and `make test` in a fresh clone leave no PostgreSQL behind -----------------------

VENV = Path(sys.executable).parent.parent  # the virtualenv running these tests: the clone reuses it


def _postgres_processes(pgdata: Path) -> list[psutil.Process]:
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        command = " ".join(process.info["cmdline"] or [])
        if "postgres" in (process.info["name"] or "") and str(pgdata) in command:
            found.append(process)
    return found


def _wait_until(condition, timeout: float, interval: float = 0.5) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(interval)
    return condition()


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def _scratch_folder(prefix: str) -> Path:
    # Not under pytest's tmp_path: pytest keeps its base folder private to root, and the embedded server
    # runs as the system user `pgserver` when the tests run as root.
    return Path(tempfile.mkdtemp(prefix=prefix))


@pytest.fixture(scope="module")
def clone():
    """A fresh git clone of this checkout, in embedded mode (no DATABASE_URL), reusing this virtualenv."""
    stamp = VENV / ".installed"
    assert stamp.exists(), f"{VENV} was not made by `make install` (no {stamp}); the clone would reinstall"
    path = _scratch_folder("lims-clone-") / "clone"
    subprocess.run(["git", "clone", "--quiet", "--no-hardlinks", str(ROOT), str(path)], check=True, timeout=120)
    # A checkout's files are newer than the virtualenv's stamp; make would reinstall into the shared venv.
    os.utime(path / "pyproject.toml", (stamp.stat().st_mtime - 60,) * 2)
    yield path
    pgdata = path / "var" / "pgdata"
    for process in _postgres_processes(pgdata):  # never leave one behind, even when a test failed
        process.kill()
    shutil.rmtree(path.parent, ignore_errors=True)


def _clone_environment(clone: Path) -> dict:
    drop = {"DATABASE_URL", "TEST_DATABASE_NAME", "LIMS_VAR_DIR", "DEBUG", "MAKEFLAGS", "MAKELEVEL"}
    environment = {k: v for k, v in os.environ.items() if k not in drop and not k.startswith("PYTEST_")}
    environment["PYTHONDONTWRITEBYTECODE"] = "1"
    return environment


def test_make_run_in_a_fresh_clone_stops_its_database_on_sigterm(clone):
    port, pgdata = _free_port(), clone / "var" / "pgdata"
    log = (clone / "make-run.log").open("w")
    make = subprocess.Popen(
        ["make", "run", f"VENV={VENV}", f"PORT={port}"],
        cwd=clone,
        env=_clone_environment(clone),
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        serving = _wait_until(lambda: _answers(port) or make.poll() is not None, timeout=420, interval=1)
        output = (clone / "make-run.log").read_text()
        assert serving and make.poll() is None, f"make run did not serve:\n{output[-3000:]}"
        assert "Demo data added" in output, output[-3000:]
        assert _postgres_processes(pgdata), "make run served without its embedded PostgreSQL?"

        # SIGTERM to the command's process group, as a terminal's Ctrl-C (SIGINT) or a supervisor's stop does:
        # make, runserver's reloader and its child all get it.
        os.killpg(make.pid, signal.SIGTERM)
        make.wait(timeout=90)
        assert _wait_until(lambda: not _postgres_processes(pgdata), timeout=60), _leftover_report(clone, pgdata)
        assert not _answers(port)
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
        log.close()


def _leftover_report(clone: Path, pgdata: Path) -> str:
    """What a failure needs to be understood: the server, the processes listed as its users, the log's end."""
    listed = pgdata / ".handle_pids.json"
    users = json.loads(listed.read_text()) if listed.exists() else []
    described = []
    for pid in users:
        try:
            described.append(f"{pid}: {' '.join(psutil.Process(pid).cmdline())}")
        except psutil.Error as error:
            described.append(f"{pid}: {error.__class__.__name__}")
    log = (clone / "make-run.log").read_text()[-2500:]
    return f"still running: {_postgres_processes(pgdata)}; listed users: {described}; log:\n{log}"


def test_make_test_in_a_fresh_clone_stops_its_database_at_the_end(clone):
    pgdata = clone / "var" / "pgdata"
    assert not _postgres_processes(pgdata)
    finished = subprocess.run(
        [
            "make",
            "test",
            f"VENV={VENV}",
            "PYTEST_ARGS=tests/lims/test_settings_env.py -q -p no:cacheprovider -k debug_is_off",
        ],
        cwd=clone,
        env=_clone_environment(clone),
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert finished.returncode == 0, finished.stdout[-3000:] + finished.stderr[-3000:]
    assert "1 passed" in finished.stdout
    assert (pgdata / "PG_VERSION").exists(), "the clone's tests did not use its embedded PostgreSQL"
    assert _wait_until(lambda: not _postgres_processes(pgdata), timeout=30), _postgres_processes(pgdata)


def test_make_stop_db_stops_a_leftover_server():
    folder = _scratch_folder("lims-stop-db-")
    environment = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "TEST_DATABASE_NAME"}}
    environment["LIMS_VAR_DIR"] = str(folder / "var")
    pgdata = folder / "var" / "pgdata"
    # A server left behind by a process killed outright (SIGKILL runs no clean-up at all).
    starter = subprocess.Popen(
        [sys.executable, "-c", PROBE + "; import time; time.sleep(600)"],
        cwd=ROOT,
        env=environment,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert "PostgreSQL lims" in starter.stdout.readline()
        starter.kill()
        starter.wait(timeout=30)
        assert _postgres_processes(pgdata), "the server should outlive a killed process"

        stopped = subprocess.run(
            ["make", "stop-db", f"VENV={VENV}"], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
        )
        assert stopped.returncode == 0, stopped.stdout + stopped.stderr
        assert "Stopped the embedded PostgreSQL" in stopped.stdout
        assert _wait_until(lambda: not _postgres_processes(pgdata), timeout=30)
    finally:
        if starter.poll() is None:
            starter.kill()
        for process in _postgres_processes(pgdata):
            process.kill()
        shutil.rmtree(folder, ignore_errors=True)


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/accounts/login/", timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError):
        return False


def test_only_running_python_processes_count_as_users_of_the_server(tmp_path):
    from lims.embedded_db import live_users

    ended = subprocess.Popen([sys.executable, "-c", "pass"])
    ended.wait(timeout=30)
    other_program = subprocess.Popen(["sleep", "60"])
    try:
        (tmp_path / ".handle_pids.json").write_text(json.dumps([os.getpid(), ended.pid, other_program.pid]))
        assert live_users(tmp_path) == [os.getpid()]
        assert live_users(tmp_path, excluding=os.getpid()) == []
    finally:
        other_program.kill()
        other_program.wait(timeout=30)


def test_a_list_of_users_torn_by_a_kill_counts_as_empty_and_is_rewritten_whole(tmp_path):
    # runserver's reloader SIGKILLs its child, which may be rewriting the list on SIGTERM: an empty file.
    from lims.embedded_db import _UserList, live_users, main

    listed = tmp_path / ".handle_pids.json"
    listed.write_text("")
    assert live_users(tmp_path) == []
    assert main(["status", "--pgdata", str(tmp_path)]) == 0  # `make stop-db` reads it too

    users = _UserList(listed)
    assert users.get_and_add(os.getpid()) == []
    assert users.get_and_add(os.getpid()) == [os.getpid()]
    assert json.loads(listed.read_text()) == [os.getpid()]
    assert users.get_and_remove(os.getpid()) == [os.getpid()]
    assert json.loads(listed.read_text()) == []
    assert sorted(path.name for path in tmp_path.iterdir()) == [".handle_pids.json"]  # no scratch file left
