"""Running the checklist and keeping every batch's (and study's) report current.

A report is keyed by the fingerprint of every input it read: running a check twice on the same
records returns the report already written, never a second row. Checks of one subject are
serialised by a transaction-level advisory lock taken *before* the inputs are read, so the check
that commits last has read the newest records and the current-report pointer cannot go back in time.
"""

import logging
from collections.abc import Iterable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from batches.checklist import (
    ChecklistFileError,
    Evaluation,
    available_versions,
    evaluate_batch,
    load_checklist,
)
from batches.checklist.engine import evaluate_batch_inputs, evaluate_study_inputs
from batches.checklist.inputs import load_batch_inputs, load_study_inputs
from batches.models import BatchEvent, BatchEventKind, ChecklistReport, SecretomeBatch, Study
from batches.models.checklist import ChecklistActivation, CurrentChecklistReport
from lims.audit import audit_context
from lims.roles import READ_ROLES, require_role

logger = logging.getLogger(__name__)

# Advisory-lock keys: one namespace per subject kind, the subject id in the low bits.
_LOCK_NAMESPACE = {"batch": 0x43_4B_01 << 40, "study": 0x43_4B_02 << 40}


def _lock(kind: str, ids: Iterable[int]) -> None:
    """Serialise checks of the same subjects (ordered, so two chunks never deadlock)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s + id) FROM unnest(%s::bigint[]) AS id ORDER BY id",
            [_LOCK_NAMESPACE[kind], sorted(set(ids))],
        )


def _report(evaluation: Evaluation) -> ChecklistReport:
    subject = {"batch_id" if evaluation.subject_kind == "batch" else "study_id": evaluation.subject_id}
    return ChecklistReport(
        lab_id=evaluation.lab_id,
        checklist_version=evaluation.version,
        score=evaluation.score,
        score_by_category=evaluation.score_by_category,
        items=[item.as_dict() for item in evaluation.items],
        gates=[gate.as_dict() for gate in evaluation.gates],
        fingerprint=evaluation.fingerprint,
        **subject,
    )


def _store(kind: str, evaluations: dict[int, Evaluation]) -> tuple[dict[int, ChecklistReport], set[int]]:
    """Write the reports not written yet and point each subject at its report; returns (reports, new)."""
    fingerprints = {pk: evaluation.fingerprint for pk, evaluation in evaluations.items()}
    existing = set(
        ChecklistReport.objects.filter(fingerprint__in=fingerprints.values()).values_list("fingerprint", flat=True)
    )
    ChecklistReport.objects.bulk_create(
        [_report(e) for e in evaluations.values() if e.fingerprint not in existing], ignore_conflicts=True
    )
    by_fingerprint = {r.fingerprint: r for r in ChecklistReport.objects.filter(fingerprint__in=fingerprints.values())}
    reports = {pk: by_fingerprint[fingerprint] for pk, fingerprint in fingerprints.items()}
    new = {pk for pk, fingerprint in fingerprints.items() if fingerprint not in existing}

    subject_field = "batch_id" if kind == "batch" else "study_id"
    current = dict(
        CurrentChecklistReport.objects.filter(**{f"{subject_field}__in": reports}).values_list(
            subject_field, "report_id"
        )
    )
    now = timezone.now()
    moved = [
        CurrentChecklistReport(**{subject_field: pk}, report=report, since=now)
        for pk, report in reports.items()
        if current.get(pk) != report.pk
    ]
    if moved:
        CurrentChecklistReport.objects.bulk_create(
            moved, update_conflicts=True, unique_fields=[kind], update_fields=["report", "since"]
        )
    if kind == "batch" and new:
        BatchEvent.objects.bulk_create(
            [
                BatchEvent(
                    lab_id=reports[pk].lab_id,
                    batch_id=pk,
                    kind=BatchEventKind.CHECKED,
                    data={
                        "report": reports[pk].pk,
                        "checklist_version": reports[pk].checklist_version,
                        "score": reports[pk].score,
                    },
                )
                for pk in sorted(new)
            ]
        )
    return reports, new


def _run(kind: str, ids: list[int], version: str | None) -> tuple[dict[int, ChecklistReport], set[int]]:
    from batches.checklist import active_checklist_version

    checklist = load_checklist(version or active_checklist_version())
    with transaction.atomic():
        _lock(kind, ids)
        if kind == "batch":
            evaluations = {pk: evaluate_batch_inputs(checklist, i) for pk, i in load_batch_inputs(ids).items()}
        else:
            evaluations = {pk: evaluate_study_inputs(checklist, i) for pk, i in load_study_inputs(ids).items()}
        if not evaluations:
            return {}, set()
        return _store(kind, evaluations)


def batch_check_run(*, batch_id: int, version: str | None = None) -> ChecklistReport:
    """Check one batch now; the same inputs return the report already written."""
    reports, _new = _run("batch", [batch_id], version)
    if batch_id not in reports:
        raise SecretomeBatch.DoesNotExist(f"batch {batch_id} does not exist")
    return reports[batch_id]


def batch_check_many(*, batch_ids: list[int], version: str | None = None) -> int:
    """Check many batches in one transaction (a sweep chunk); returns how many new reports were written."""
    _reports, new = _run("batch", list(batch_ids), version)
    return len(new)


def study_check_run(*, study_id: int, version: str | None = None) -> ChecklistReport:
    reports, _new = _run("study", [study_id], version)
    if study_id not in reports:
        raise Study.DoesNotExist(f"study {study_id} does not exist")
    return reports[study_id]


def study_check_many(*, study_ids: list[int], version: str | None = None) -> int:
    _reports, new = _run("study", list(study_ids), version)
    return len(new)


def _queue(model, task, id_name: str, ids, actor) -> list[int]:
    try:
        wanted = sorted({int(pk) for pk in ids})
    except (TypeError, ValueError):
        raise ValidationError({f"{id_name}s": ["Give a list of whole-number ids."]}) from None
    found = dict(model.objects.filter(pk__in=wanted).values_list("pk", "lab_id"))
    unknown = [pk for pk in wanted if pk not in found]
    if unknown:
        raise ValidationError({f"{id_name}s": [f"No such {model._meta.verbose_name}: {', '.join(map(str, unknown))}."]})
    if actor is not None:
        for lab_id in sorted(set(found.values())):
            require_role(actor, lab_id, READ_ROLES, "Queuing a checklist run")
    for pk in wanted:
        task.delay_on_commit(**{id_name: pk, "actor_id": getattr(actor, "pk", None)})
    return wanted


def batch_check_queue(*, batch_ids: Iterable[int], actor=None) -> list[int]:
    """Queue one check per batch once the current transaction commits; returns the batch ids queued."""
    from batches.tasks import batch_check

    return _queue(SecretomeBatch, batch_check, "batch_id", batch_ids, actor)


def study_check_queue(*, study_ids: Iterable[int], actor=None) -> list[int]:
    from batches.tasks import study_check

    return _queue(Study, study_check, "study_id", study_ids, actor)


def checklist_sweep_queue(*, lab_id: int | None = None) -> None:
    """Queue a sweep that re-checks every batch and study (of one lab) in chunks workers share."""
    from batches.tasks import checklist_sweep

    checklist_sweep.delay_on_commit(lab_id=lab_id)


def checklist_activate(*, version: str, actor=None, note: str = "") -> ChecklistActivation:
    """Put a checklist version in force and re-check everything with it (idempotent)."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied("Activating a checklist version applies to every lab; only a superuser may do it.")
    if version not in available_versions():
        raise ValidationError(
            {"version": [f"No checklist file holds {version!r}; known: {', '.join(available_versions())}."]}
        )
    try:
        load_checklist(version)
    except ChecklistFileError as exc:
        raise ValidationError({"version": [str(exc)]}) from None
    with transaction.atomic(), audit_context(actor=actor, reason=note or f"activate checklist {version}"):
        # One activation at a time, so two concurrent activations cannot interleave.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_NAMESPACE["batch"] - 1])
        latest = ChecklistActivation.objects.order_by("-activated_at", "-id").first()
        if latest is not None and latest.version == version:
            return latest
        in_force = latest.version if latest is not None else available_versions()[0]
        activation = ChecklistActivation.objects.create(version=version, activated_by=actor, note=note)
        if in_force != version:
            checklist_sweep_queue()
    return activation


def checklist_release_blockers(*, batch: SecretomeBatch) -> list[str]:
    """Required items missing or invalid, and failed gates that block release, as sentences."""
    return evaluate_batch(batch).release_problems
