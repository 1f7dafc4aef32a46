"""Reading checklist reports."""

from collections.abc import Iterable

from django.db.models import QuerySet

from batches.models import ChecklistReport, SecretomeBatch, Study
from batches.models.checklist import CurrentChecklistReport


def checklist_latest_report(*, batch: SecretomeBatch | int) -> ChecklistReport | None:
    """The report describing the batch as it is now (the newest one when no check has pointed at one)."""
    batch_id = batch if isinstance(batch, int) else batch.pk
    current = CurrentChecklistReport.objects.filter(batch_id=batch_id).select_related("report").first()
    if current is not None:
        return current.report
    return ChecklistReport.objects.filter(batch_id=batch_id).order_by("-created_at", "-id").first()


def study_checklist_latest_report(*, study: Study | int) -> ChecklistReport | None:
    study_id = study if isinstance(study, int) else study.pk
    current = CurrentChecklistReport.objects.filter(study_id=study_id).select_related("report").first()
    if current is not None:
        return current.report
    return ChecklistReport.objects.filter(study_id=study_id).order_by("-created_at", "-id").first()


def checklist_report_list(*, lab_ids: Iterable[int]) -> QuerySet[ChecklistReport]:
    """Every report of the given labs, newest first."""
    return ChecklistReport.objects.filter(lab_id__in=list(lab_ids)).order_by("-created_at", "-id")


def checklist_current_scores(*, batch_ids: Iterable[int]) -> dict[int, float]:
    """The current score of each batch that has one, in one query (for lists of batches)."""
    return dict(
        CurrentChecklistReport.objects.filter(batch_id__in=list(batch_ids)).values_list("batch_id", "report__score")
    )
