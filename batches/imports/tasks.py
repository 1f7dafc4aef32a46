"""The import as a watched job on a worker (thin: the service does the work)."""

from celery import shared_task
from django.conf import settings

from batches.imports import services


@shared_task(
    name="batches.imports.tasks.import_run",
    time_limit=settings.CELERY_TASK_TIME_LIMIT,
    soft_time_limit=settings.CELERY_TASK_SOFT_TIME_LIMIT,
)
def import_run(*, run_id: str, actor_id: int | None = None) -> str | None:
    """Run one queued import; a duplicate delivery finds it claimed and returns None."""
    return services.import_execute(run_id=run_id, watched=True)
