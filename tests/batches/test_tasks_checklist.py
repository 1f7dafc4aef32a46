"""The checklist's Celery tasks: limits that fit the broker, the beat schedule, and the sweep (eager mode)."""

import pytest
from django.conf import settings

from batches import models as m
from batches import tasks
from batches.models.checklist import CurrentChecklistReport
from lims.celery import app
from tests import factories as f
from tests.batches.checklist.builders import complete_batch

CHECKLIST_TASKS = [
    tasks.batch_check,
    tasks.study_check,
    tasks.batch_check_chunk,
    tasks.study_check_chunk,
    tasks.checklist_sweep,
    tasks.checklist_outbox_drain,
]


@pytest.mark.parametrize("task", CHECKLIST_TASKS, ids=lambda t: t.name)
def test_every_checklist_task_is_idempotent_acknowledged_late_and_time_limited(task):
    assert task.acks_late and task.reject_on_worker_lost
    assert 0 < task.soft_time_limit < task.time_limit <= settings.CELERY_TASK_TIME_LIMIT


def test_the_redis_visibility_timeout_outlasts_the_longest_task():
    longest = max(task.time_limit or settings.CELERY_TASK_TIME_LIMIT for task in app.tasks.values())
    assert settings.CELERY_BROKER_TRANSPORT_OPTIONS["visibility_timeout"] > longest


def test_beat_runs_the_nightly_sweep_and_the_outbox_drain():
    scheduled = {entry["task"] for entry in settings.CELERY_BEAT_SCHEDULE.values()}
    assert {"batches.tasks.checklist_sweep", "batches.tasks.checklist_outbox_drain"} <= scheduled
    assert scheduled <= set(app.tasks)


@pytest.mark.django_db
def test_the_sweep_checks_every_batch_and_study_of_a_lab_in_chunks(lab, other_lab, technician):
    batches = [complete_batch(lab, technician) for _ in range(2)] + [f.SecretomeBatchFactory(lab=lab)]
    study = f.StudyFactory(lab=lab)
    elsewhere = f.SecretomeBatchFactory(lab=other_lab)
    # Two chunks of batches (2 + 1, the mock controls count too) and one of studies.
    chunks = tasks.checklist_sweep.delay(lab_id=lab.pk, chunk_size=3).get()
    lab_batches = m.SecretomeBatch.objects.filter(lab=lab).count()
    assert chunks == -(-lab_batches // 3) + 1
    assert CurrentChecklistReport.objects.filter(batch__lab=lab).count() == lab_batches
    assert CurrentChecklistReport.objects.filter(study=study).exists()
    assert not CurrentChecklistReport.objects.filter(batch=elsewhere).exists()
    assert all(m.ChecklistReport.objects.filter(batch=b).count() == 1 for b in batches)
    tasks.checklist_sweep.delay(lab_id=lab.pk, chunk_size=3).get()
    assert m.ChecklistReport.objects.filter(batch__lab=lab).count() == lab_batches


@pytest.mark.django_db
def test_a_check_of_a_deleted_batch_does_nothing():
    assert tasks.batch_check.delay(batch_id=99_999).get() is None
    assert tasks.study_check.delay(study_id=99_999).get() is None
