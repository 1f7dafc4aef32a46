"""DATABASE_URL unset: an embedded PostgreSQL (pgserver) starts from ./var/pgdata, also for two processes at once."""

import os
import subprocess
import sys
from pathlib import Path

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
