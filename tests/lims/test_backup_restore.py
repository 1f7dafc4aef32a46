"""Backups: a dump restored into an empty database verifies clean; a mismatch is reported, not hidden."""

import json
import uuid

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection
from psycopg import sql

from batches.models import SecretomeBatch
from lims.audit import audit_context
from lims.backups import manifest_path, settings_conninfo
from lims.services.signatures import signature_sign
from tests import factories as f

pytestmark = pytest.mark.django_db(transaction=True)


def _url(params: dict, name: str) -> str:
    user = params.get("user", "")
    authority = f"{user}:{params['password']}@" if params.get("password") else (f"{user}@" if user else "")
    host = params.get("host", "")
    if host.startswith("/"):
        return f"postgresql://{authority}/{name}?host={host}"
    return f"postgresql://{authority}{host}:{params.get('port', '5432')}/{name}"


@pytest.fixture(scope="session")
def restore_target(django_db_setup, django_db_blocker):
    """One scratch database for the session (creating and dropping one per test costs a checkpoint each)."""
    with django_db_blocker.unblock():
        params = settings_conninfo(connection.settings_dict)
    name = f"{params['dbname']}_restore_{uuid.uuid4().hex[:8]}"
    admin = {**params, "dbname": "postgres"}
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    yield _url(params, name)
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name)))


@pytest.fixture
def empty_database(restore_target):
    """The scratch database, emptied: nothing but an empty public schema."""
    with psycopg.connect(restore_target, autocommit=True) as conn:
        conn.execute("DROP SCHEMA public CASCADE")
        conn.execute("CREATE SCHEMA public")
    return restore_target


@pytest.fixture
def recorded_lab(lab, technician, reviewer):
    with audit_context(actor=technician, reason="first entry"):
        batch = f.SecretomeBatchFactory(lab=lab)
        result = f.QCResultFactory(lab=lab, batch=batch, performed_by=technician)
    with audit_context(actor=technician, reason="volume corrected"):
        SecretomeBatch.objects.filter(pk=batch.pk).update(final_volume_ml=17)
    signature_sign(actor=reviewer, password="correct-horse-battery", meaning="verified", record=result)
    return lab


def _rows(url: str, table: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute(sql.SQL("SELECT count(*) FROM {}").format(sql.Identifier(table))).fetchone()[0]


def test_a_backup_restored_into_an_empty_database_verifies_clean(recorded_lab, empty_database, tmp_path, capsys):
    dump = tmp_path / "lims.dump"

    call_command("backup", str(dump))
    manifest = json.loads(manifest_path(dump).read_text())
    call_command("restore", str(dump), database_url=empty_database)

    out = capsys.readouterr().out
    assert "Verified: every table's row count and the audit chain match the source." in out
    assert manifest["audit_chain"]["ok"] and manifest["audit_chain"]["head_seq"] > 0
    assert manifest["tables"]["lims_signature"] == 1
    assert manifest["tables"]["batches_secretomebatchhistory"] == 2
    assert _rows(empty_database, "lims_signature") == 1
    assert _rows(empty_database, "lims_auditseal") == manifest["audit_chain"]["head_seq"]


def test_restore_refuses_a_database_that_is_not_empty(recorded_lab, empty_database, tmp_path):
    dump = tmp_path / "lims.dump"
    call_command("backup", str(dump))
    call_command("restore", str(dump), database_url=empty_database)

    with pytest.raises(CommandError, match="is not empty"):
        call_command("restore", str(dump), database_url=empty_database)


def test_restore_reports_row_counts_that_differ_from_the_manifest(recorded_lab, empty_database, tmp_path):
    dump = tmp_path / "lims.dump"
    call_command("backup", str(dump))
    manifest = json.loads(manifest_path(dump).read_text())
    manifest["tables"]["batches_qcresult"] += 1
    manifest_path(dump).write_text(json.dumps(manifest))

    with pytest.raises(CommandError) as refused:
        call_command("restore", str(dump), database_url=empty_database)

    assert refused.value.returncode == 1
    assert "table batches_qcresult: 1 rows restored, 2 in the source" in str(refused.value)


def test_restore_refuses_a_dump_that_no_longer_matches_its_manifest(recorded_lab, empty_database, tmp_path):
    dump = tmp_path / "lims.dump"
    call_command("backup", str(dump))
    with dump.open("ab") as handle:
        handle.write(b"\0")

    with pytest.raises(CommandError, match="does not match its manifest"):
        call_command("restore", str(dump), database_url=empty_database)
    with psycopg.connect(empty_database) as conn:
        assert conn.execute("SELECT count(*) FROM pg_tables WHERE schemaname = 'public'").fetchone()[0] == 0


def test_a_backup_never_overwrites_an_existing_file(tmp_path):
    dump = tmp_path / "lims.dump"
    dump.write_bytes(b"keep me")
    with pytest.raises(CommandError, match="exists"):
        call_command("backup", str(dump))
    assert dump.read_bytes() == b"keep me"


def test_restore_names_a_database_url_that_is_not_postgresql(recorded_lab, tmp_path):
    dump = tmp_path / "lims.dump"
    call_command("backup", str(dump))
    with pytest.raises(CommandError, match="--database-url: expected a postgres:// URL"):
        call_command("restore", str(dump), database_url="mysql://root@localhost/lims")
