"""Re-checking every batch of a lab as a watched job: chunks any worker can take, progress as they finish."""

from collections.abc import Iterator

from django.db import transaction
from django.db.models import Case, F, Value, When
from django.db.models.functions import Least, Now

from batches.models import SecretomeBatch
from batches.services.checklist import batch_check_many
from lims.audit import audit_context
from lims.models import Job, JobKind, JobStatus, Lab, Role
from lims.roles import REVIEW_ROLES, require_role

RECHECK_CHUNK_SIZE = 200


def _chunks(ids: list[int], size: int) -> Iterator[list[int]]:
    for start in range(0, len(ids), size):
        yield ids[start : start + size]


def checklist_recheck_start(*, lab: Lab, actor) -> Job:
    """Queue a check of every batch of the lab; the job counts the batches as the chunks finish."""
    from batches import tasks

    require_role(actor, lab, REVIEW_ROLES | {Role.LAB_ADMIN}, "Re-checking every batch")
    batch_ids = list(SecretomeBatch.objects.filter(lab=lab).order_by("pk").values_list("pk", flat=True))
    with transaction.atomic(), audit_context(actor=actor, reason="re-check every batch"):
        job = Job.objects.create(
            lab=lab,
            kind=JobKind.CHECKLIST_RECHECK,
            total=len(batch_ids),
            started_by=actor,
            status=JobStatus.QUEUED if batch_ids else JobStatus.DONE,
        )
        for chunk in _chunks(batch_ids, RECHECK_CHUNK_SIZE):
            tasks.checklist_recheck_chunk.delay_on_commit(job_id=str(job.pk), batch_ids=chunk)
    return job


def checklist_recheck_chunk_run(*, job_id: str, batch_ids: list[int]) -> int:
    """Check one chunk, then count it done in one conditional UPDATE (never past the total)."""
    written = batch_check_many(batch_ids=batch_ids)
    advanced = Least(F("done") + len(batch_ids), F("total"))
    Job.objects.filter(pk=job_id).update(
        done=advanced,
        status=Case(
            When(total__lte=F("done") + len(batch_ids), then=Value(JobStatus.DONE)), default=Value(JobStatus.RUNNING)
        ),
        finished_at=Case(When(total__lte=F("done") + len(batch_ids), then=Now()), default=F("finished_at")),
    )
    return written
