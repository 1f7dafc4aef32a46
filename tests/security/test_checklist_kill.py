"""No checklist run can be lost: a real worker on real Redis is killed in the middle of a run of checks;
after the outbox drain every batch has a current report, and none has two.

The outbox row of a check stays until that check commits its report, so the drain re-queues what the
killed worker was doing (and anything a broker lost) after REQUEUE_AFTER_S, not after the Redis
visibility timeout. The full measurement (2,000 batches, 20 kills) is benchmarks/checklist_kill.py.
"""

import time

import pytest
from django.db.models import Count

from batches import models as m
from batches.checklist.outbox import dispatch_suspended, outbox_dispatch
from batches.models.checklist import ChecklistOutbox, CurrentChecklistReport
from tests import factories as f
from tests.batches.test_tasks_worker import DEADLINE_S

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]

BATCHES = 120
REQUEUE_AFTER_S = 3


def _reported() -> int:
    return CurrentChecklistReport.objects.filter(batch__isnull=False).count()


def test_a_worker_killed_during_a_run_of_checks_loses_none_and_duplicates_none(lab, technician, workers):
    with dispatch_suspended():
        batches = [f.SecretomeBatchFactory(lab=lab) for _ in range(BATCHES)]
    CurrentChecklistReport.objects.all().delete()
    assert ChecklistOutbox.objects.filter(subject_kind="batch").values("subject_id").distinct().count() >= BATCHES

    # A long task time limit: the killed worker's messages come back from Redis only after 2 × 120 s,
    # so anything recovered within this test was recovered by the outbox drain.
    first = workers(time_limit=120)
    assert outbox_dispatch(own_only=False, min_age_seconds=0) >= BATCHES
    deadline = time.monotonic() + DEADLINE_S
    while _reported() < BATCHES // 4 and time.monotonic() < deadline:
        time.sleep(0.05)
    first.kill()
    killed_with = _reported()
    assert 0 < killed_with < BATCHES, "the worker was killed in the middle of the run"
    assert ChecklistOutbox.objects.exists(), "the unfinished checks' rows are still in the outbox"

    second = workers(time_limit=120)
    deadline = time.monotonic() + 4 * DEADLINE_S
    while time.monotonic() < deadline:
        if not ChecklistOutbox.objects.exists() and _reported() == BATCHES:
            break
        outbox_dispatch(own_only=False, min_age_seconds=0, requeue_after_seconds=REQUEUE_AFTER_S)
        time.sleep(1)
    lost = [b.code for b in batches if not CurrentChecklistReport.objects.filter(batch=b).exists()]
    duplicated = list(
        m.ChecklistReport.objects.filter(batch__isnull=False)
        .values("batch")
        .annotate(n=Count("pk"))
        .filter(n__gt=1)
        .values_list("batch", flat=True)
    )
    assert lost == [], f"{len(lost)} batches without a current report (killed with {killed_with} done)"
    assert duplicated == []
    assert not ChecklistOutbox.objects.exists()
    assert second.process.poll() is None
