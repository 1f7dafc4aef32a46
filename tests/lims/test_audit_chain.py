"""The audit hash chain: every history event is sealed; verify_audit names the first one that was tampered with."""

import threading
import time

import psycopg
import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from batches.models import SecretomeBatch
from lims import audit_chain
from lims.audit import audit_context, history_model
from lims.audit_chain import AuditSeal, chain_hash, verify_default_database
from tests import factories as f

pytestmark = pytest.mark.django_db


def _seal_now():
    with connection.cursor() as cursor:
        audit_chain.seal_pending(cursor)


def _as_database_owner(*statements, params=None):
    """Run SQL with every trigger off, as a database owner tampering behind the application's back."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        for statement in statements:
            cursor.execute(statement, params)
        cursor.execute("SET LOCAL session_replication_role = origin")


_INSERT_LAB = "INSERT INTO lims_lab (name, slug, institution, url, created_at) VALUES (%s, %s, '', '', now())"


def _conninfo() -> dict:
    params = connection.settings_dict
    conninfo = {
        "dbname": params["NAME"],
        "user": params["USER"],
        "password": params["PASSWORD"] or None,
        "host": params["HOST"] or None,
        "port": params["PORT"] or None,
    }
    return {key: value for key, value in conninfo.items() if value is not None}


def _verify_audit_error() -> CommandError:
    with pytest.raises(CommandError) as raised:
        call_command("verify_audit")
    return raised.value


def test_every_history_event_is_sealed_in_one_gapless_chain(technician, lab):
    batch = f.SecretomeBatchFactory(lab=lab)
    with audit_context(actor=technician, reason="typo in volume"):
        SecretomeBatch.objects.filter(pk=batch.pk).update(final_volume_ml=17)
    _seal_now()

    history = history_model(SecretomeBatch)
    event_ids = {str(pk) for pk in history.objects.filter(pgh_obj_id=batch.pk).values_list("pgh_id", flat=True)}
    sealed = set(
        AuditSeal.objects.filter(table_name=history._meta.db_table, row_key__in=event_ids).values_list(
            "row_key", flat=True
        )
    )
    assert len(event_ids) == 2 and sealed == event_ids

    seals = list(AuditSeal.objects.order_by("seq"))
    assert [s.seq for s in seals] == list(range(1, len(seals) + 1))
    previous = audit_chain.GENESIS_HASH
    for seal in seals:
        assert seal.previous_hash == previous
        assert seal.chain_hash == chain_hash(previous, seal.seq, seal.table_name, seal.row_key, seal.content_hash)
        previous = seal.chain_hash
    report = verify_default_database()
    assert report.ok
    assert (report.head_seq, report.head_hash) == (seals[-1].seq, previous)


def test_the_context_saying_who_and_why_is_sealed_too(technician, lab):
    batch = f.SecretomeBatchFactory(lab=lab)
    with audit_context(actor=technician, reason="recount"):
        SecretomeBatch.objects.filter(pk=batch.pk).update(cells_at_start=5_900_000)
    _seal_now()
    event = history_model(SecretomeBatch).objects.filter(pgh_obj_id=batch.pk, pgh_label="update").get()
    assert AuditSeal.objects.filter(table_name="pghistory_context", row_key=str(event.pgh_context_id)).exists()


def test_verify_audit_passes_on_an_untouched_database(lab, capsys):
    f.QCResultFactory(lab=lab)
    call_command("verify_audit")
    assert "Audit chain intact" in capsys.readouterr().out


def test_verify_audit_reports_a_history_row_altered_in_sql_by_the_database_owner(technician, lab, capsys):
    batch = f.SecretomeBatchFactory(lab=lab, final_volume_ml=18)
    with audit_context(actor=technician, reason="recount"):
        SecretomeBatch.objects.filter(pk=batch.pk).update(final_volume_ml=17)
    f.SecretomeBatchFactory(lab=lab)
    _seal_now()
    history = history_model(SecretomeBatch)
    table = history._meta.db_table
    forged = history.objects.get(pgh_obj_id=batch.pk, pgh_label="insert")
    assert verify_default_database().ok

    # The append-only trigger refuses this, so the owner turns triggers off first.
    _as_database_owner(f"UPDATE {table} SET final_volume_ml = 25 WHERE pgh_id = %s", params=[forged.pgh_id])

    error = _verify_audit_error()
    assert error.returncode == 1
    message = str(error)
    assert f"table {table}, event {forged.pgh_id}, recorded {forged.pgh_created_at.isoformat()}" in message
    assert "changed after sealing" in message
    assert "does NOT verify" in capsys.readouterr().err


def test_verify_audit_also_catches_an_owner_who_disables_the_append_only_trigger_itself(lab):
    batch = f.SecretomeBatchFactory(lab=lab)
    _seal_now()
    table = history_model(SecretomeBatch)._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER USER")
        cursor.execute(f"UPDATE {table} SET code = 'FORGED' WHERE pgh_obj_id = %s", [batch.pk])
        cursor.execute(f"ALTER TABLE {table} ENABLE TRIGGER USER")
    assert "changed after sealing" in str(_verify_audit_error())


def test_verify_audit_reports_a_changed_reason_in_the_context(technician, lab):
    donor = f.DonorFactory(lab=lab)
    with audit_context(actor=technician, reason="entered twice"):
        type(donor).objects.filter(pk=donor.pk).update(age_years=40)
    _seal_now()
    event = history_model(type(donor)).objects.get(pgh_obj_id=donor.pk, pgh_label="update")
    _as_database_owner(
        "UPDATE pghistory_context SET metadata = jsonb_set(metadata, '{reason}', '\"routine\"') WHERE id = %s",
        params=[event.pgh_context_id],
    )
    message = str(_verify_audit_error())
    assert f"table pghistory_context, event {event.pgh_context_id}" in message


def test_verify_audit_reports_a_deleted_history_row(lab):
    batch = f.SecretomeBatchFactory(lab=lab)
    _seal_now()
    history = history_model(SecretomeBatch)
    event = history.objects.get(pgh_obj_id=batch.pk)
    _as_database_owner(f"DELETE FROM {history._meta.db_table} WHERE pgh_id = %s", params=[event.pgh_id])
    assert "gone (deleted after sealing)" in str(_verify_audit_error())


def test_verify_audit_reports_a_history_row_slipped_in_without_a_seal(lab):
    batch = f.SecretomeBatchFactory(lab=lab)
    _seal_now()
    table = history_model(SecretomeBatch)._meta.db_table
    _as_database_owner(
        f"INSERT INTO {table} SELECT (jsonb_populate_record(NULL::{table}, to_jsonb(src) || "
        f"jsonb_build_object('pgh_id', (SELECT max(pgh_id) + 1 FROM {table}), 'code', 'BACKDATED'))).* "
        f"FROM {table} src WHERE pgh_obj_id = %s",
        params=[batch.pk],
    )
    assert "has no seal" in str(_verify_audit_error())


def test_verify_audit_reports_a_removed_seal(lab):
    f.SecretomeBatchFactory(lab=lab)
    f.DonorFactory(lab=lab)
    _seal_now()
    middle = AuditSeal.objects.order_by("seq")[2]
    _as_database_owner("DELETE FROM lims_auditseal WHERE seq = %s", params=[middle.seq])
    message = str(_verify_audit_error())
    assert "has no seal" in message or f"seal #{middle.seq} is missing" in message


def test_verify_audit_reports_a_disabled_sealing_trigger(lab):
    table = history_model(SecretomeBatch)._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} DISABLE TRIGGER {audit_chain.TRIGGER_NAME}")
    assert "sealing trigger is disabled" in str(_verify_audit_error())


def test_a_column_added_by_a_later_migration_keeps_old_seals_valid(lab):
    f.SecretomeBatchFactory(lab=lab)
    _seal_now()
    table = history_model(SecretomeBatch)._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {table} ADD COLUMN storage_note varchar(20) NOT NULL DEFAULT 'none'")
    f.SecretomeBatchFactory(lab=lab)
    _seal_now()
    assert verify_default_database().ok


def test_history_context_rows_cannot_be_deleted(technician, lab):
    with audit_context(actor=technician, reason="x"):
        f.DonorFactory(lab=lab)
    with pytest.raises(Exception, match="cannot be deleted"), connection.cursor() as cursor:
        cursor.execute("DELETE FROM pghistory_context")


def test_an_anchor_recorded_earlier_catches_the_newest_events_removed_with_their_seals(lab, capsys):
    f.DonorFactory(lab=lab)
    _seal_now()
    call_command("verify_audit")
    anchor = capsys.readouterr().out.split("head ")[1].strip()
    newest = AuditSeal.objects.order_by("-seq").first()
    key = "id" if newest.table_name == "pghistory_context" else "pgh_id"
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(f"DELETE FROM {newest.table_name} WHERE {key}::text = %s", [newest.row_key])
        cursor.execute("DELETE FROM lims_auditseal WHERE seq = %s", [newest.seq])
        cursor.execute("SET LOCAL session_replication_role = origin")
    assert verify_default_database().ok  # without an outside record this cut is invisible

    with pytest.raises(CommandError, match="the newest events and their seals were removed"):
        call_command("verify_audit", anchor=anchor)


def test_an_anchor_that_no_longer_matches_means_the_chain_was_rewritten(lab):
    f.DonorFactory(lab=lab)
    _seal_now()
    first = AuditSeal.objects.order_by("seq").first()
    with pytest.raises(CommandError, match="differs from the anchor"):
        call_command("verify_audit", anchor=f"{first.seq}:{'a' * 64}")
    with pytest.raises(CommandError, match="--anchor: expected SEQ:HASH"):
        call_command("verify_audit", anchor="last")


@pytest.mark.django_db(transaction=True)
def test_a_sealer_with_a_stale_repeatable_read_snapshot_fails_instead_of_forking_the_chain(lab):
    stale = psycopg.connect(**_conninfo())
    fresh = psycopg.connect(**_conninfo())
    try:
        stale.isolation_level = psycopg.IsolationLevel.REPEATABLE_READ
        stale.execute("SELECT count(*) FROM lims_auditseal")  # the snapshot is taken here
        fresh.execute(_INSERT_LAB, ["fresh", "fresh"])
        fresh.commit()
        stale.execute(_INSERT_LAB, ["stale", "stale"])
        with pytest.raises(psycopg.errors.UniqueViolation, match="lims_auditseal_pkey"):
            stale.commit()
    finally:
        stale.close()
        fresh.close()
    report = verify_default_database()
    assert report.ok, [p.describe() for p in report.problems]
    assert history_model(type(lab)).objects.filter(slug="stale").count() == 0


@pytest.mark.django_db(transaction=True)
def test_two_transactions_committing_at_once_queue_on_the_chain_head_and_never_fork(lab):
    conninfo = _conninfo()
    first = psycopg.connect(**conninfo)
    second = psycopg.connect(**conninfo)
    try:
        first.execute(_INSERT_LAB, ["a", "a"])
        # Seal now: the first transaction takes the chain lock and keeps it until it commits.
        first.execute(f"SET CONSTRAINTS {audit_chain.TRIGGER_NAME} IMMEDIATE")
        second.execute(_INSERT_LAB, ["b", "b"])
        second_pid = second.info.backend_pid
        committed = threading.Thread(target=second.commit)
        committed.start()
        with psycopg.connect(**conninfo, autocommit=True) as watcher:
            waiting = False
            while committed.is_alive() and not waiting:
                time.sleep(0.01)
                waiting = watcher.execute(
                    "SELECT wait_event_type = 'Lock' FROM pg_stat_activity WHERE pid = %s", [second_pid]
                ).fetchone()[0]
        assert waiting, "the second commit should wait for the chain lock held by the first transaction"
        first.commit()
        committed.join()
    finally:
        first.close()
        second.close()

    report = verify_default_database()
    assert report.ok, [p.describe() for p in report.problems]
    history = history_model(type(lab))
    slug_by_event = {str(pk): slug for pk, slug in history.objects.values_list("pgh_id", "slug")}
    chain_order = AuditSeal.objects.filter(table_name=history._meta.db_table).order_by("seq")
    assert [slug_by_event[seal.row_key] for seal in chain_order][-2:] == ["a", "b"]
