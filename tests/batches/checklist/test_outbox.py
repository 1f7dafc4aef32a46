"""Committed changes queue one check per affected batch, however the rows were written.

These tests commit for real (transaction=True) and run with Celery in eager mode, so a queued check
runs in this process; a Celery signal records which tasks started.
"""

import psycopg
import pytest
from django.db import connection, transaction

from batches import models as m
from batches.checklist.outbox import WATCHED_TABLES, dispatch_suspended
from batches.models.checklist import ChecklistOutbox
from batches.selectors import checklist_latest_report
from batches.tasks import checklist_outbox_drain
from tests import factories as f
from tests.batches.checklist.builders import complete_batch
from tests.batches.checklist.support import psycopg_conninfo, tasks_run

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def batch(lab, technician):
    with dispatch_suspended():
        built = complete_batch(lab, technician, product_type="EV")
    ChecklistOutbox.objects.all().delete()
    return built


def _checked(seen) -> list[int]:
    return sorted(kwargs["batch_id"] for name, kwargs in seen if name == "batches.tasks.batch_check")


def test_a_transaction_touching_50_qc_rows_of_one_batch_queues_one_check(batch, technician):
    with tasks_run() as seen, transaction.atomic():
        for index in range(50):
            f.QCResultFactory(
                lab=batch.lab, batch=batch, assay="cytokine", analyte=f"factor-{index}", performed_by=technician
            )
        assert ChecklistOutbox.objects.filter(subject_kind="batch", subject_id=batch.pk).count() == 1
        assert _checked(seen) == []
    assert _checked(seen) == [batch.pk]
    assert not ChecklistOutbox.objects.exists()
    report = checklist_latest_report(batch=batch)
    assert report is not None and sum(1 for i in report.items if i["item_id"] == "ch_soluble_profile") == 1


def test_a_bulk_update_and_a_bulk_create_queue_one_check(batch, technician):
    with tasks_run() as seen, transaction.atomic():
        m.QCResult.objects.filter(batch=batch).update(instrument="NanoSight NS300")
        m.QCResult.objects.bulk_create(
            [
                m.QCResult(
                    lab=batch.lab,
                    batch=batch,
                    assay="cytokine",
                    analyte=name,
                    method="elisa",
                    value=10,
                    unit="pg/mL",
                    performed_on="2025-03-01",
                    performed_by=technician,
                )
                for name in ("HGF", "VEGF", "TGF-β")
            ]
        )
    assert _checked(seen) == [batch.pk]


def test_a_change_to_an_ancestor_passage_or_the_donor_re_checks_every_batch_downstream(lab, technician, batch):
    with dispatch_suspended():
        later = f.PassageFactory(lab=lab, cell_line=batch.passage.cell_line, parent=batch.passage, number=4)
        downstream = f.SecretomeBatchFactory(lab=lab, passage=later, priming=batch.priming)
        unrelated = complete_batch(lab, technician)
    ChecklistOutbox.objects.all().delete()
    with tasks_run() as seen:
        m.Passage.objects.filter(pk=batch.passage.parent_id).update(cells_harvested=5_000_000)
    assert _checked(seen) == sorted([batch.mock_control_id, batch.pk, downstream.pk])
    with tasks_run() as seen:
        m.Donor.objects.filter(pk=batch.passage.cell_line.donor_id).update(age_years=35)
    assert _checked(seen) == sorted([batch.mock_control_id, batch.pk, downstream.pk])
    assert unrelated.pk not in _checked(seen)


def test_a_priming_change_re_checks_the_batches_that_use_it(batch):
    with tasks_run() as seen:
        m.PrimingAgent.objects.filter(priming=batch.priming).update(exposure=12)
    assert _checked(seen) == [batch.pk]


def test_a_rolled_back_transaction_queues_nothing(batch):
    with tasks_run() as seen, pytest.raises(RuntimeError), transaction.atomic():
        m.SecretomeBatch.objects.filter(pk=batch.pk).update(conditioning_o2_percent=5)
        raise RuntimeError("changed my mind")
    assert seen == []
    assert not ChecklistOutbox.objects.exists()


def test_a_change_to_an_administration_re_checks_its_batch_and_its_study(batch):
    study = f.StudyFactory(lab=batch.lab)
    with tasks_run() as seen:
        f.AdministrationFactory(lab=batch.lab, study=study, batch=batch, body_weight_g=240)
    assert _checked(seen) == [batch.pk]
    assert [kwargs["study_id"] for name, kwargs in seen if name == "batches.tasks.study_check"] == [study.pk]


def test_a_write_from_outside_django_waits_in_the_outbox_for_the_periodic_drain(batch):
    with psycopg.connect(**psycopg_conninfo(), autocommit=True) as other:
        other.execute("UPDATE batches_secretomebatch SET conditioning_o2_percent = 2 WHERE id = %s", [batch.pk])
    assert ChecklistOutbox.objects.filter(subject_id=batch.pk).count() == 1
    with tasks_run() as seen:
        assert checklist_outbox_drain.delay().get() == 0  # too fresh: its own connection may still claim it
        ChecklistOutbox.objects.update(created_at="2000-01-01T00:00:00Z")
        assert checklist_outbox_drain.delay().get() == 1
    assert _checked(seen) == [batch.pk]
    assert checklist_latest_report(batch=batch) is not None
    assert not ChecklistOutbox.objects.exists()


def test_every_watched_table_has_its_outbox_triggers():
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT DISTINCT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
            "WHERE t.tgname LIKE 'checklist_outbox_%%' AND NOT t.tgisinternal"
        )
        tables = {row[0] for row in cursor.fetchall()}
    assert tables == set(WATCHED_TABLES)
