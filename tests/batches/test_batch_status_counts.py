"""The per-lab, per-status batch counts the dashboard reads are kept by the database as batches are written:
after any sequence of writes they equal a fresh GROUP BY of the batch table, and two transactions writing
batches of one lab at once are both counted."""

import threading
import time

import pgtrigger
import pytest
from django.db import connection, connections, transaction
from django.db.models import Count

from batches.checklist.outbox import dispatch_suspended
from batches.models import BatchStatusCount, SecretomeBatch
from batches.models.counts import refresh_batch_status_counts
from batches.services.corrections import batch_correct
from batches.services.lifecycle import batch_reject, batch_release, batch_retire, batch_return_for_changes, batch_submit
from batches.services.qc import qc_result_verify
from tests import factories as f
from tests.batches.checklist.builders import complete_batch

PASSWORD = "correct-horse-battery"


def _counted() -> dict[tuple[int, str], int]:
    """The kept counts, without the (lab, status) rows that came down to zero."""
    return {(c.lab_id, c.status): c.batches for c in BatchStatusCount.objects.all() if c.batches}


def _grouped() -> dict[tuple[int, str], int]:
    rows = SecretomeBatch.objects.values_list("lab_id", "status").annotate(n=Count("pk")).order_by()
    return {(lab, status): n for lab, status, n in rows}


@pytest.mark.django_db
def test_the_counts_follow_every_kind_of_write(lab, other_lab, technician, reviewer):
    with dispatch_suspended():
        drafts = [f.SecretomeBatchFactory(lab=lab) for _ in range(4)]
        assert _counted() == _grouped() == {(lab.pk, "draft"): 4}

        # A multi-row INSERT (one statement, two labs).
        passage = f.PassageFactory(lab=other_lab)
        SecretomeBatch.objects.bulk_create(
            [SecretomeBatch(lab=other_lab, passage=passage, code=f"OB-{i}", product_type="CM") for i in range(3)]
        )
        assert _counted() == _grouped()

        # The lifecycle services: submit, return, submit again, reject, retire.
        batch_submit(batch=drafts[0], actor=technician)
        batch_submit(batch=drafts[1], actor=technician)
        assert _counted()[(lab.pk, "submitted")] == 2
        batch_return_for_changes(batch=drafts[1], actor=reviewer, reason="Add the viability")
        batch_submit(batch=drafts[1], actor=technician)
        batch_reject(batch=drafts[1], actor=reviewer, reason="Contaminated", password=PASSWORD)
        batch_retire(batch=drafts[2], actor=reviewer, reason="Entered twice")
        assert _counted() == _grouped()

        # Release (a complete batch, recorded by the technician) and its correction: retired + a new draft.
        complete = complete_batch(lab, technician)
        for result in complete.qc_results.all():
            qc_result_verify(result=result, actor=reviewer, password=PASSWORD)
        batch_submit(batch=complete, actor=technician)
        released = batch_release(batch=complete, actor=reviewer, password=PASSWORD)
        assert released.status == "released"
        assert _counted() == _grouped()
        correction = batch_correct(batch=released, actor=reviewer, reason="Volume before filtration")
        assert correction.status == "draft"
        assert _counted() == _grouped()

        # A QuerySet.update of rows in several statuses, an update that changes no status, a plain save.
        SecretomeBatch.objects.filter(lab=other_lab).update(status="submitted")
        SecretomeBatch.objects.filter(lab=lab, status="draft").update(ev_track_id="EV000001")
        drafts[3].final_volume_ml = 17
        drafts[3].save()
        assert _counted() == _grouped()

        # A draft deleted (only with the never-deleted rule switched off: batches are retired, not deleted).
        with pgtrigger.ignore("batches.SecretomeBatch:never_deleted"):
            SecretomeBatch.objects.filter(pk=drafts[3].pk).delete()
        assert _counted() == _grouped()
        assert sum(_counted().values()) == SecretomeBatch.objects.count()


@pytest.mark.django_db
def test_a_recount_repairs_counts_written_around_the_triggers(lab):
    f.SecretomeBatchFactory(lab=lab)
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # as the benchmarks copy batches
        cursor.execute("UPDATE batches_secretomebatch SET status = 'submitted'")
        cursor.execute("SET LOCAL session_replication_role = origin")
    assert _counted() == {(lab.pk, "draft"): 1} != _grouped()
    with connection.cursor() as cursor:
        refresh_batch_status_counts(cursor)
    assert _counted() == _grouped() == {(lab.pk, "submitted"): 1}
    assert BatchStatusCount.objects.get(lab=lab, status="draft").batches == 0


@pytest.mark.django_db(transaction=True)
def test_two_transactions_creating_batches_in_one_lab_are_both_counted(lab):
    passages = [f.PassageFactory(lab=lab) for _ in range(2)]
    f.SecretomeBatchFactory(lab=lab, passage=passages[0])  # the (lab, draft) row exists: both update it

    failures = []

    def create(code: str, passage) -> None:
        try:
            with dispatch_suspended(), transaction.atomic():
                SecretomeBatch.objects.create(lab=lab, passage=passage, code=code, product_type="CM")
        except Exception as error:
            failures.append(error)
        finally:
            connections.close_all()

    # No checks are queued: run eagerly in two threads at once, they race on Celery's process-wide "join
    # would block" flag and can leave it set for the tests after this one.
    with dispatch_suspended(), transaction.atomic():
        SecretomeBatch.objects.create(lab=lab, passage=passages[0], code="T-1", product_type="CM")
        other = threading.Thread(target=create, args=("T-2", passages[1]))
        other.start()
        # The other transaction waits for this one's counter row (a lock wait, seen from here), then adds to it.
        waited = False
        deadline = time.monotonic() + 60
        with connection.cursor() as cursor:
            while not waited and other.is_alive() and time.monotonic() < deadline:
                # pg_locks is read live (pg_stat_activity would be a snapshot taken once per transaction).
                cursor.execute(
                    "SELECT count(*) FROM pg_locks WHERE NOT granted AND pg_backend_pid() = ANY(pg_blocking_pids(pid))"
                )
                waited = cursor.fetchone()[0] > 0
                time.sleep(0.01)
    other.join()
    assert not failures
    assert waited, "the second transaction did not wait for the first"
    assert _counted() == _grouped() == {(lab.pk, "draft"): 3}
