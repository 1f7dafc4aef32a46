"""Batches and what hangs off them on the one write path (lims.services.records).

The generic services (`record_create`, `record_update`, …) live in lims and are named here too, as the
batches app's doors have always called them. This module registers the batches app's own rules with
`lims.write_rules` (locks on released batches, reasons for submitted ones, links that must agree, a new
batch's lifecycle event) and keeps the per-model service names (`batch_create`, `aliquot_create`, …),
each of which is the generic service with those rules applied.
"""

from typing import Any

from django.core.exceptions import ValidationError
from django.db import models

from batches.choices import BatchStatus
from batches.models import (
    Administration,
    Aliquot,
    BatchEvent,
    BatchEventKind,
    PrimingAgent,
    PrimingCondition,
    ProcessingStep,
    QCResult,
    QCSpecification,
    SecretomeBatch,
    dates,
)
from lims import write_rules
from lims.audit import audit_context
from lims.models import Lab
from lims.services.records import (
    ChildRows,
    Conflict,
    RecordLocked,
    StaleVersion,
    check_version,
    expected_version,
    explain_constraint,
    record_create,
    record_update,
    save_record,
    validate_record,
)

__all__ = [
    "LOCKED_BATCH_STATUSES",
    "ChildRows",
    "Conflict",
    "RecordLocked",
    "StaleVersion",
    "administration_create",
    "administration_update",
    "aliquot_create",
    "batch_create",
    "batch_update",
    "check_version",
    "expected_version",
    "explain_constraint",
    "priming_create",
    "priming_update",
    "processing_step_create",
    "processing_step_update",
    "record_create",
    "record_update",
    "save_record",
    "validate_record",
]

LOCKED_BATCH_STATUSES = {BatchStatus.RELEASED, BatchStatus.RETIRED}

write_rules.constraint_messages(
    {
        dates.BATCH_COLLECTED_AFTER_SEEDING: (
            "collected_at",
            "A batch is collected on or after the day its producing passage was seeded.",
        ),
        dates.BATCH_COLLECTED_BEFORE_QC_AND_DOSES: (
            "collected_at",
            "A batch is collected before its QC is performed and before it is administered.",
        ),
        dates.PASSAGE_SEEDED_BEFORE_COLLECTION: (
            "started_on",
            "A passage is seeded before the batches it produces are collected.",
        ),
        dates.QC_PERFORMED_AFTER_COLLECTION: ("performed_on", "QC is performed on or after the batch's collection."),
        dates.ADMINISTERED_AFTER_COLLECTION: (
            "administered_on",
            "A batch is administered on or after its collection.",
        ),
        "donor_pooled_means_several_donors": (
            "n_donors",
            "Pooled cells come from at least 2 donors; a single donor is pooled = false with n_donors = 1.",
        ),
        "passage_parent_not_self": ("parent", "A passage cannot be its own parent."),
        "passage_parent_in_same_cell_line": (
            "parent",
            "The parent passage must belong to the same cell line and have a lower passage number.",
        ),
        "passage_number_unique_per_cell_line": ("number", "This cell line already has a passage with this number."),
        "primingagent_deferoxamine_molar": ("concentration_unit", "Deferoxamine is dosed in µM or mM."),
        "primingagent_once_per_condition": ("agent", "This agent is already listed for the priming condition."),
        "secretomebatch_serum_free_has_no_serum": (
            "serum_percent",
            "A serum-free conditioning medium has no serum: leave serum_percent empty or 0, "
            "or set serum_free to false.",
        ),
        "secretomebatch_mock_control_not_self": ("mock_control", "A batch cannot be its own mock control."),
        "processingstep_order_from_1": ("order", "Processing steps are numbered from 1."),
        "processingstep_order_unique_per_batch": ("order", "The batch already has a processing step with this number."),
        "processingstep_concentration_factor_at_least_1": ("concentration_factor", "Must be at least 1 (fold)."),
        "storagelocation_box_has_grid": ("rows", "A box needs rows and columns, each between 1 and 26."),
        "storagelocation_parent_not_self": ("parent", "A storage location cannot be inside itself."),
        "storagelocation_name_unique_in_parent": ("name", "This name is already used at this place in the storage."),
        "aliquot_position_format": ("position", "Write the position as a row letter and a column number, e.g. A1."),
        "aliquot_one_per_position": (
            "position",
            "Another available or reserved aliquot already sits at this position.",
        ),
        "qcspecification_has_a_limit": ("min_value", "Give a minimum, a maximum or an expected qualitative result."),
        "qcspecification_version_unique": (
            "spec_version",
            "This assay, analyte and product type already has a specification with this version number.",
        ),
        "qcresult_has_a_result": ("value", "Give a numeric value or a qualitative result (result_text)."),
        "qcresult_value_has_unit": ("unit", "A numeric value needs its unit."),
        "qcresult_verified_has_signer": (
            "status",
            "A verified result needs its verifier and the time of verification.",
        ),
        "qcresult_not_verified_by_performer": ("verified_by", "Nobody verifies their own result."),
        "administration_n_doses_at_least_1": ("n_doses", "Must be at least 1."),
        "administration_repeated_doses_have_interval": (
            "interval",
            "Repeated doses need the interval between them and its unit.",
        ),
        "administration_schedule_days_valid": (
            "schedule_days",
            "Give the dosing days as a list of whole days relative to model induction, e.g. [-1, 7, 11].",
        ),
        "administration_schedule_days_match_n_doses": ("n_doses", "Must equal the number of days in schedule_days."),
        "administration_schedule_days_match_first_day": (
            "day_after_induction",
            "Must be the first day of schedule_days.",
        ),
        "outcomemeasure_one_primary_per_study": ("is_primary", "The study already has a primary outcome measure."),
    }
)


# --- The rules of the batches app ----------------------------------------------------------------


@write_rules.locked(SecretomeBatch)
def _batch_locked(batch: SecretomeBatch) -> str | None:
    if batch.status in LOCKED_BATCH_STATUSES:
        return (
            f"Batch {batch.code} is {batch.status}; a {batch.status} batch cannot be edited. "
            "Record a deviation or make a new batch."
        )
    return None


@write_rules.locked(ProcessingStep)
def _step_locked(step: ProcessingStep) -> str | None:
    batch = SecretomeBatch.objects.only("code", "status").get(pk=step.batch_id)
    if batch.status in LOCKED_BATCH_STATUSES:
        return f"Batch {batch.code} is {batch.status}; its processing steps cannot be changed."
    return None


@write_rules.locked(QCSpecification)
def _specification_locked(specification: QCSpecification) -> str | None:
    if specification.results.exists():
        return (
            f"Specification {specification} has judged QC results; it cannot change. Add a new version "
            "(spec_version + 1) with a later effective_from."
        )
    return None


@write_rules.reason_needed(SecretomeBatch)
@write_rules.reason_needed(ProcessingStep)
@write_rules.reason_needed(Aliquot)
@write_rules.reason_needed(QCResult)
def _submitted_batch_needs_a_reason(instance: models.Model, data: dict[str, Any]) -> str | None:
    """A change to a submitted batch, or to a row of one (or moved to one), is made with a reason."""
    if isinstance(instance, SecretomeBatch):
        submitted = instance if instance.status == BatchStatus.SUBMITTED else None
    else:
        batch_ids = {instance.batch_id}
        if isinstance(data.get("batch"), SecretomeBatch):
            batch_ids.add(data["batch"].pk)
        submitted = SecretomeBatch.objects.filter(pk__in=batch_ids, status=BatchStatus.SUBMITTED).only("code").first()
    if submitted is None:
        return None
    return f"Batch {submitted.code} is submitted for review; say why this change is made."


@write_rules.defaults(SecretomeBatch)
def _batch_operator(data: dict[str, Any], actor) -> dict[str, Any]:
    return {"operator": actor}


@write_rules.check(SecretomeBatch)
def _batch_not_its_own_mock(model, lab_id: int, data: dict[str, Any], current) -> None:
    mock = data.get("mock_control")
    if mock is not None and current is not None and mock.pk == current.pk:
        raise ValidationError({"mock_control": ["A batch cannot be its own mock control."]})


@write_rules.after_create(SecretomeBatch)
def _batch_created_event(batch: SecretomeBatch, actor) -> None:
    with audit_context(actor=actor):
        BatchEvent.objects.create(lab_id=batch.lab_id, batch=batch, kind=BatchEventKind.CREATED, actor=actor)


@write_rules.check(ProcessingStep)
def _step_on_an_open_batch(model, lab_id: int, data: dict[str, Any], current) -> None:
    target = data.get("batch")
    if target is None or target.status not in LOCKED_BATCH_STATUSES:
        return
    if current is None:
        raise RecordLocked(f"Batch {target.code} is {target.status}; no processing step can be added.")
    if target.pk != current.batch_id:
        raise RecordLocked(f"Batch {target.code} is {target.status}; no processing step can be moved to it.")


@write_rules.check(Aliquot)
def _aliquot_of_a_batch_in_use(model, lab_id: int, data: dict[str, Any], current) -> None:
    batch = data.get("batch")
    if current is None and batch is not None and batch.status == BatchStatus.RETIRED:
        raise RecordLocked(f"Batch {batch.code} is retired; no aliquot can be added.")


@write_rules.check(Administration)
def _administration_agrees_with_its_study(model, lab_id: int, data: dict[str, Any], current) -> None:
    batch = data.get("batch", current.batch if current else None)
    aliquot = data.get("aliquot", current.aliquot if current else None)
    study = data.get("study", current.study if current else None)
    group = data.get("group", current.group if current else None)
    if aliquot is not None and batch is not None and aliquot.batch_id != batch.pk:
        raise ValidationError({"aliquot": [f"Aliquot {aliquot.code} is not from batch {batch.code}."]})
    names = [g.get("name") for g in (study.groups or []) if isinstance(g, dict)] if study is not None else []
    if names and group not in names:
        raise ValidationError({"group": [f"Not a group of the study; its groups are: {', '.join(map(str, names))}."]})


# --- The per-model services (the generic ones with the rules above) -------------------------------


def batch_create(*, lab: Lab, actor, data: dict[str, Any], reason: str | None = None) -> SecretomeBatch:
    """A new draft batch; the operator defaults to the actor."""
    return record_create(model=SecretomeBatch, lab=lab, actor=actor, data=data, reason=reason)


def batch_update(
    *, batch: SecretomeBatch, actor, data: dict[str, Any], version: int, reason: str | None = None
) -> SecretomeBatch:
    """Change a batch that is not released or retired (status changes go through the lifecycle services)."""
    return record_update(instance=batch, actor=actor, data=data, version=version, reason=reason)


def processing_step_create(*, lab: Lab, actor, data: dict[str, Any], reason: str | None = None) -> ProcessingStep:
    return record_create(model=ProcessingStep, lab=lab, actor=actor, data=data, reason=reason)


def processing_step_update(
    *, step: ProcessingStep, actor, data: dict[str, Any], version: int, reason: str | None = None
) -> ProcessingStep:
    return record_update(instance=step, actor=actor, data=data, version=version, reason=reason)


def _agents(rows: list[dict[str, Any]] | None) -> list[ChildRows] | None:
    if rows is None:
        return None
    return [ChildRows(name="agents", model=PrimingAgent, parent_field="priming", key_field="agent", rows=rows)]


def priming_create(
    *, lab: Lab, actor, data: dict[str, Any], agents: list[dict[str, Any]] | None, reason: str | None = None
) -> PrimingCondition:
    return record_create(
        model=PrimingCondition, lab=lab, actor=actor, data=data, children=_agents(agents), reason=reason
    )


def priming_update(
    *,
    priming: PrimingCondition,
    actor,
    data: dict[str, Any],
    version: int,
    agents: list[dict[str, Any]] | None,
    reason: str | None = None,
) -> PrimingCondition:
    """Change a priming condition; when `agents` is given it replaces the whole list of agents."""
    return record_update(
        instance=priming, actor=actor, data=data, version=version, children=_agents(agents), reason=reason
    )


def administration_create(*, lab: Lab, actor, data: dict[str, Any], reason: str | None = None) -> Administration:
    return record_create(model=Administration, lab=lab, actor=actor, data=data, reason=reason)


def administration_update(
    *, administration: Administration, actor, data: dict[str, Any], version: int, reason: str | None = None
) -> Administration:
    return record_update(instance=administration, actor=actor, data=data, version=version, reason=reason)


def aliquot_create(*, lab: Lab, actor, data: dict[str, Any], reason: str | None = None) -> Aliquot:
    return record_create(model=Aliquot, lab=lab, actor=actor, data=data, reason=reason)
