"""Reading checklist reports."""

from collections.abc import Iterable

from django.db.models import QuerySet

from batches.checklist.results import Evaluation, GateResult, ItemResult
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


def _as_evaluation(report: ChecklistReport, kind: str, subject_id: int) -> Evaluation:
    return Evaluation(
        version=report.checklist_version,
        score=report.score,
        score_by_category=dict(report.score_by_category),
        items=[ItemResult(**item) for item in report.items],
        gates=[GateResult(**gate) for gate in report.gates],
        fingerprint=report.fingerprint,
        subject_kind=kind,
        subject_id=subject_id,
        lab_id=report.lab_id,
    )


def checklist_current_evaluations(
    *, batch_ids: Iterable[int] = (), study_ids: Iterable[int] = ()
) -> tuple[dict[int, Evaluation], dict[int, Evaluation]]:
    """What the checklist says about each batch and study now, read from current reports: (batches, studies).

    A current report stands for the records as they are when no outbox row waits for its subject (every
    committed change to an input leaves one until a check has read it) and it was made with the active
    version; only the subjects without such a report are evaluated, all together. So pages and exports
    cost a fixed number of queries and evaluate nothing in the steady state.
    """
    from django.db.models import Q

    from batches.checklist import active_checklist_version, evaluate_batches, evaluate_studies
    from batches.checklist.storage import unpack_reports
    from batches.models.checklist import ChecklistOutbox

    wanted = {"batch": sorted(set(batch_ids)), "study": sorted(set(study_ids))}
    found: dict[str, dict[int, Evaluation]] = {"batch": {}, "study": {}}
    if not wanted["batch"] and not wanted["study"]:
        return found["batch"], found["study"]
    version = active_checklist_version()
    subjects = Q()
    for kind, ids in wanted.items():
        if ids:
            waiting = ChecklistOutbox.objects.filter(subject_kind=kind, subject_id__in=ids).values("subject_id")
            subjects |= Q(**{f"{kind}_id__in": ids}) & ~Q(**{f"{kind}_id__in": waiting})
    pointers = list(
        CurrentChecklistReport.objects.filter(subjects, report__checklist_version=version).select_related("report")
    )
    unpack_reports(pointer.report for pointer in pointers)
    for pointer in pointers:
        kind, pk = ("batch", pointer.batch_id) if pointer.batch_id else ("study", pointer.study_id)
        found[kind][pk] = _as_evaluation(pointer.report, kind, pk)
    for kind, evaluate in (("batch", evaluate_batches), ("study", evaluate_studies)):
        rest = [pk for pk in wanted[kind] if pk not in found[kind]]
        if rest:
            found[kind].update(evaluate(rest, version=version))
    return found["batch"], found["study"]
