"""Celery tasks: thin, take ids, call one service (STYLE.md 4).

Every checklist task is idempotent (a report is keyed by its fingerprint), so all are acknowledged
late and re-queued when their worker dies; their time limits stay below CELERY_TASK_TIME_LIMIT, and
the Redis visibility timeout (settings) is twice that, longer than any of them.
"""

import logging

from celery import shared_task
from django.conf import settings

from batches.checklist.outbox import outbox_dispatch
from batches.models import SecretomeBatch, Study
from batches.services import checklist as services

logger = logging.getLogger(__name__)

SWEEP_CHUNK_SIZE = 200


def _limits(seconds: int) -> dict:
    hard = min(seconds, settings.CELERY_TASK_TIME_LIMIT)
    return {"time_limit": hard, "soft_time_limit": max(1, int(hard * 0.9))}


IDEMPOTENT = {"acks_late": True, "reject_on_worker_lost": True}


@shared_task(name="batches.tasks.batch_check", **IDEMPOTENT, **_limits(60))
def batch_check(*, batch_id: int, actor_id: int | None = None) -> str | None:
    """Check one batch; returns the fingerprint of its current report."""
    try:
        return services.batch_check_run(batch_id=batch_id).fingerprint
    except SecretomeBatch.DoesNotExist:
        logger.info("batch %s was deleted before its check ran", batch_id)
        return None


@shared_task(name="batches.tasks.study_check", **IDEMPOTENT, **_limits(60))
def study_check(*, study_id: int, actor_id: int | None = None) -> str | None:
    try:
        return services.study_check_run(study_id=study_id).fingerprint
    except Study.DoesNotExist:
        logger.info("study %s was deleted before its check ran", study_id)
        return None


@shared_task(name="batches.tasks.batch_check_chunk", **IDEMPOTENT, **_limits(300))
def batch_check_chunk(*, batch_ids: list[int]) -> int:
    """Check a chunk of batches in one transaction; returns the number of new reports."""
    return services.batch_check_many(batch_ids=batch_ids)


@shared_task(name="batches.tasks.study_check_chunk", **IDEMPOTENT, **_limits(300))
def study_check_chunk(*, study_ids: list[int]) -> int:
    return services.study_check_many(study_ids=study_ids)


def _chunks(ids, size: int):
    chunk: list[int] = []
    for pk in ids:
        chunk.append(pk)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


@shared_task(name="batches.tasks.checklist_sweep", **IDEMPOTENT, **_limits(300))
def checklist_sweep(*, lab_id: int | None = None, chunk_size: int = SWEEP_CHUNK_SIZE) -> int:
    """Re-check every batch and study (of one lab) by queuing chunks that any worker can take."""
    batches = SecretomeBatch.objects.order_by("pk")
    studies = Study.objects.order_by("pk")
    if lab_id is not None:
        batches, studies = batches.filter(lab_id=lab_id), studies.filter(lab_id=lab_id)
    chunks = 0
    for chunk in _chunks(batches.values_list("pk", flat=True).iterator(chunk_size=2000), chunk_size):
        batch_check_chunk.delay(batch_ids=chunk)
        chunks += 1
    for chunk in _chunks(studies.values_list("pk", flat=True).iterator(chunk_size=2000), chunk_size):
        study_check_chunk.delay(study_ids=chunk)
        chunks += 1
    return chunks


@shared_task(name="batches.tasks.checklist_outbox_drain", **IDEMPOTENT, **_limits(120))
def checklist_outbox_drain() -> int:
    """Queue checks for outbox rows nobody claimed (a crashed process, a psql session) and for claims whose
    check has not committed its report within REQUEUE_AFTER_S (a killed worker, a lost message)."""
    return outbox_dispatch(own_only=False, min_age_seconds=30)


@shared_task(name="batches.tasks.checklist_recheck_chunk", **IDEMPOTENT, **_limits(300))
def checklist_recheck_chunk(*, job_id: str, batch_ids: list[int]) -> int:
    """One chunk of a watched re-check (the progress bar counts it when it finishes)."""
    from batches.services.jobs import checklist_recheck_chunk_run

    return checklist_recheck_chunk_run(job_id=job_id, batch_ids=batch_ids)


# Imports run as watched jobs; importing the module registers their task with the worker.
from batches.imports import tasks as import_tasks  # noqa: E402,F401
