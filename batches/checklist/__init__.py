"""The minimal-reporting checklist: a versioned data file (batches/checklists/) read by one engine.

evaluate_batch(batch)  -> Evaluation of categories 1–6 and the gates, as the batch is stored
evaluate_study(study)  -> Evaluation of categories 7–8 (dose & administration per administration)
active_checklist_version() -> the version new reports use
"""

from batches.checklist.definition import (
    Checklist,
    ChecklistFileError,
    available_versions,
    load_checklist,
)
from batches.checklist.engine import Evaluation, GateResult, ItemResult, evaluate_batch_inputs, evaluate_study_inputs
from batches.checklist.inputs import load_batch_inputs, load_study_inputs

__all__ = [
    "Checklist",
    "ChecklistFileError",
    "Evaluation",
    "GateResult",
    "ItemResult",
    "active_checklist",
    "active_checklist_version",
    "available_versions",
    "evaluate_batch",
    "evaluate_batches",
    "evaluate_studies",
    "evaluate_study",
    "load_checklist",
]


def active_checklist_version() -> str:
    """The newest activated version; before any activation, the first version shipped."""
    from batches.models.checklist import ChecklistActivation

    latest = ChecklistActivation.objects.order_by("-activated_at", "-id").values_list("version", flat=True).first()
    return latest or available_versions()[0]


def active_checklist() -> Checklist:
    return load_checklist(active_checklist_version())


def _checklist(version: str | None) -> Checklist:
    return load_checklist(version) if version else active_checklist()


def _pk(subject) -> int:
    return subject if isinstance(subject, int) else subject.pk


def evaluate_batches(batch_ids: list[int], *, version: str | None = None) -> dict[int, Evaluation]:
    checklist = _checklist(version)
    return {pk: evaluate_batch_inputs(checklist, inputs) for pk, inputs in load_batch_inputs(batch_ids).items()}


def evaluate_studies(study_ids: list[int], *, version: str | None = None) -> dict[int, Evaluation]:
    checklist = _checklist(version)
    return {pk: evaluate_study_inputs(checklist, inputs) for pk, inputs in load_study_inputs(study_ids).items()}


def evaluate_batch(batch, *, version: str | None = None) -> Evaluation:
    """Evaluate a batch (instance or id) as it is stored in the database now."""
    pk = _pk(batch)
    evaluations = evaluate_batches([pk], version=version)
    if pk not in evaluations:
        raise LookupError(f"batch {pk} does not exist")
    return evaluations[pk]


def evaluate_study(study, *, version: str | None = None) -> Evaluation:
    """Evaluate a study's use of its batches (instance or id) as stored now."""
    pk = _pk(study)
    evaluations = evaluate_studies([pk], version=version)
    if pk not in evaluations:
        raise LookupError(f"study {pk} does not exist")
    return evaluations[pk]
