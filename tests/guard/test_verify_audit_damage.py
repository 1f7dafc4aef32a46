"""verify_audit on a database damaged in several ways at once: it names every problem and never crashes."""

import pytest
from django.core.management import CommandError, call_command
from django.db import connection

from batches.models import Donor, SecretomeBatch
from lims import audit_chain
from lims.audit import history_model
from lims.audit_chain import AuditSeal, ChainReport, Problem
from tests import factories as f

pytestmark = pytest.mark.django_db


def _with_triggers_off(statement: str, params: list | None = None) -> None:
    """SQL run as a database owner tampering behind the application's back, every trigger off."""
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(statement, params or [])
        cursor.execute("SET LOCAL session_replication_role = origin")


def test_a_database_damaged_five_ways_at_once_gets_every_problem_named_and_a_non_zero_exit(lab, capsys):
    batches = [f.SecretomeBatchFactory(lab=lab) for _ in range(3)]
    f.DonorFactory(lab=lab, code="D-KEEP")
    with connection.cursor() as cursor:
        audit_chain.seal_pending(cursor)
    batch_history = history_model(SecretomeBatch)._meta.db_table
    edited, deleted = (history_model(SecretomeBatch).objects.get(pgh_obj_id=b.pk) for b in batches[:2])
    seals = list(AuditSeal.objects.order_by("seq"))

    _with_triggers_off(f"UPDATE {batch_history} SET final_volume_ml = 99 WHERE pgh_id = %s", [edited.pgh_id])
    _with_triggers_off(f"DELETE FROM {batch_history} WHERE pgh_id = %s", [deleted.pgh_id])
    _with_triggers_off(
        f"INSERT INTO {batch_history} SELECT (jsonb_populate_record(NULL::{batch_history}, to_jsonb(src) || "
        f"jsonb_build_object('pgh_id', (SELECT max(pgh_id) + 1 FROM {batch_history}), 'code', 'BACKDATED'))).* "
        f"FROM {batch_history} src WHERE pgh_obj_id = %s",
        [batches[2].pk],
    )
    first, second = seals[1].seq, seals[2].seq
    _with_triggers_off(
        "UPDATE lims_auditseal SET seq = CASE seq WHEN %s THEN %s ELSE %s END WHERE seq IN (%s, %s)",
        [first, -1, -2, first, second],
    )
    _with_triggers_off("UPDATE lims_auditseal SET seq = %s WHERE seq = -1", [second])
    _with_triggers_off("UPDATE lims_auditseal SET seq = %s WHERE seq = -2", [first])
    removed = seals[-2].seq
    _with_triggers_off("DELETE FROM lims_auditseal WHERE seq = %s", [removed])
    donor_history = history_model(Donor)._meta.db_table
    with connection.cursor() as cursor:
        cursor.execute(f"ALTER TABLE {donor_history} DISABLE TRIGGER {audit_chain.TRIGGER_NAME}")

    with pytest.raises(CommandError) as raised:
        call_command("verify_audit")

    assert raised.value.returncode == 1
    report = capsys.readouterr().err
    assert "changed after sealing" in report  # edited
    assert "gone (deleted after sealing)" in report  # deleted
    assert "has no seal (written with triggers off)" in report  # unsealed
    assert f"seal #{first}: " in report and "does not follow the one before it" in report  # reordered
    assert f"seal #{removed} is missing from the chain" in report  # removed seal
    assert "sealing trigger is disabled" in report
    assert "altered" in str(raised.value) and "chain" in str(raised.value)


def test_the_first_problem_is_found_whatever_mix_of_times_the_problems_carry():
    from django.utils import timezone

    report = ChainReport(
        problems=[
            Problem("trigger", "t", "-", None, None, "disabled"),
            Problem("unsealed", "t", "7", timezone.now(), None, "no seal"),
            Problem("unsealed", "t", "8", timezone.now().replace(tzinfo=None), None, "no seal, naive time"),
        ]
    )
    assert report.first_problem.row_key in {"7", "8"}
