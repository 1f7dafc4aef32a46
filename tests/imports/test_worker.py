"""A large sheet runs on a real Celery worker (real Redis), with its progress counted as rows go through."""

import pytest

from batches import models as m
from batches.imports.services import import_start
from tests.batches.test_tasks_worker import _wait_until, queue, redis_client, workers  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.services, pytest.mark.django_db(transaction=True)]


def test_a_large_sheet_is_queued_and_a_worker_imports_it(lab, technician, workers, settings):  # noqa: F811
    settings.IMPORT_INLINE_MAX_ROWS = 5
    rows = "".join(f"D-{i:03d},human,Bone marrow\n" for i in range(40))
    worker = workers()

    run = import_start(
        lab=lab,
        actor=technician,
        kind="donors",
        filename="donors.csv",
        content=f"Code,Species,Tissue source\n{rows}".encode(),
        dry_run=False,
        reason="legacy donors",
    )

    assert run.status == m.ImportStatus.QUEUED and run.total_rows == 40
    _wait_until(
        lambda: m.ImportRun.objects.filter(pk=run.pk, status=m.ImportStatus.COMMITTED).exists(),
        "the worker's import",
        [worker.log_path],
    )
    run.refresh_from_db()
    assert run.done_rows == 40 and run.percent == 100
    assert m.Donor.objects.filter(lab=lab).count() == 40
    assert "batches.imports.tasks.import_run" in worker.log_path.read_text()
