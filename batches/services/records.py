"""Creating and changing lab records: one transaction, optimistic locking, audited, explained errors.

Every write through the API ends here (or in a service built on these functions):

* the actor must hold a writing role in the record's lab;
* an update names the `version` it was based on; a stale version changes nothing and raises
  `StaleVersion` with the current one (the database bumps `version` on every UPDATE);
* all field rules and check constraints are evaluated before the write, so the caller gets every
  problem at once, keyed by field; the database constraints stay the last guard and their
  violations are translated to the same field-keyed errors.
"""

import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, router, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, Value
from django.db.models.functions import Coalesce
from django.db.models.sql import Query
from django.db.models.sql.constants import SINGLE

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
)
from batches.services import plausibility as _plausibility  # noqa: F401  (registers the batches rules)
from lims.audit import audit_context, audit_reason
from lims.models import Lab
from lims.plausibility import plausibility_errors
from lims.roles import WRITE_ROLES, require_role
from protocols.models import ProtocolVersion, VersionStatus
from protocols.services import deviation_sync_for_record, protocol_version_require_pinnable

Record = TypeVar("Record", bound=models.Model)

LOCKED_BATCH_STATUSES = {BatchStatus.RELEASED, BatchStatus.RETIRED}


class Conflict(Exception):
    """The request is well formed but clashes with the record's current state (HTTP 409)."""

    def __init__(self, message: str, *, current_version: int | None = None):
        super().__init__(message)
        self.message = message
        self.current_version = current_version


class StaleVersion(Conflict):
    def __init__(self, *, model_name: str, sent: int, current: int):
        super().__init__(
            f"This {model_name} was changed by someone else since version {sent}; it is now at version "
            f"{current}. Reload it, re-apply your change and send version {current}.",
            current_version=current,
        )


class RecordLocked(Conflict):
    pass


# --- Explaining constraints in the words of the field they guard ---------------------------------

_NAMED_RULES: dict[str, tuple[str, str]] = {
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
        "A serum-free conditioning medium has no serum: leave serum_percent empty or 0, or set serum_free to false.",
    ),
    "secretomebatch_mock_control_not_self": ("mock_control", "A batch cannot be its own mock control."),
    "processingstep_order_from_1": ("order", "Processing steps are numbered from 1."),
    "processingstep_order_unique_per_batch": ("order", "The batch already has a processing step with this number."),
    "processingstep_concentration_factor_at_least_1": ("concentration_factor", "Must be at least 1 (fold)."),
    "storagelocation_box_has_grid": ("rows", "A box needs rows and columns, each between 1 and 26."),
    "storagelocation_parent_not_self": ("parent", "A storage location cannot be inside itself."),
    "storagelocation_name_unique_in_parent": ("name", "This name is already used at this place in the storage."),
    "aliquot_position_format": ("position", "Write the position as a row letter and a column number, e.g. A1."),
    "aliquot_one_per_position": ("position", "Another available or reserved aliquot already sits at this position."),
    "qcspecification_has_a_limit": ("min_value", "Give a minimum, a maximum or an expected qualitative result."),
    "qcspecification_version_unique": (
        "spec_version",
        "This assay, analyte and product type already has a specification with this version number.",
    ),
    "qcresult_has_a_result": ("value", "Give a numeric value or a qualitative result (result_text)."),
    "qcresult_value_has_unit": ("unit", "A numeric value needs its unit."),
    "qcresult_verified_has_signer": ("status", "A verified result needs its verifier and the time of verification."),
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
    "protocolversion_number_unique": ("number", "This protocol already has a version with this number."),
    "protocolversion_one_effective": ("status", "This protocol already has an effective version."),
    "protocolversion_published_has_approver": ("approved_by", "A published version needs its approver and date."),
    "protocolparameter_name_unique": ("name", "This protocol version already has a parameter with this name."),
    "deviation_approved_is_justified_and_signed": (
        "justification",
        "An approved deviation needs a justification, an approver and the approval date.",
    ),
    "membership_one_role_per_lab": ("user", "This user is already a member of the lab."),
    "invitation_one_pending_per_person": ("invitee", "This person already has a pending invitation to the lab."),
}

_RULE_SUFFIXES: list[tuple[str, Callable[[models.Model, str, Q], str]]] = [
    ("_0_100", lambda model, field_name, condition: "Must be between 0 and 100."),
    ("_non_negative", lambda model, field_name, condition: "Must be zero or more."),
    ("_positive", lambda model, field_name, condition: "Must be greater than zero."),
    ("_valid", lambda model, field_name, condition: "Not one of the allowed values."),
    ("_range", lambda model, field_name, condition: _range_message(condition)),
]


def _range_message(condition: Q) -> str:
    bounds = dict(_leaf_lookups(condition))
    low = next((value for key, value in bounds.items() if key.endswith("__gte")), None)
    high = next((value for key, value in bounds.items() if key.endswith("__lte")), None)
    return f"Must be between {low:g} and {high:g}." if low is not None and high is not None else "Out of range."


def _leaf_lookups(condition: Q) -> Iterable[tuple[str, Any]]:
    for child in condition.children:
        if isinstance(child, Q):
            yield from _leaf_lookups(child)
        else:
            yield child


def _concrete_field_names(model: type[models.Model]) -> set[str]:
    return {f.name for f in model._meta.concrete_fields}


def explain_constraint(model: type[models.Model], constraint_name: str) -> tuple[str, str] | None:
    """(field, message) for a constraint or trigger of `model`, in words a technician can act on."""
    if constraint_name in _NAMED_RULES:
        return _NAMED_RULES[constraint_name]
    constraint = next((c for c in model._meta.constraints if c.name == constraint_name), None)
    if constraint is None:
        return None
    if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
        fields = [name for name in constraint.fields if name != "lab"]
        target = fields[-1] if fields else constraint.fields[-1]
        scope = " in the lab" if "lab" in constraint.fields else ""
        return target, f"This {target.replace('_', ' ')} is already used{scope}."
    if isinstance(constraint, models.CheckConstraint):
        names = _concrete_field_names(model)
        prefix = f"{model._meta.model_name}_"
        body = constraint_name.removeprefix(prefix)
        match = re.fullmatch(r"(?P<field>.+)_not_before_(?P<earlier>.+)", body)
        if match and match["field"] in names:
            earlier = match["earlier"].replace("_", " ")
            return match["field"], f"Must not be less than {earlier}."
        for suffix, message in _RULE_SUFFIXES:
            if body.endswith(suffix) and body.removesuffix(suffix) in names:
                field_name = body.removesuffix(suffix)
                return field_name, message(model, field_name, constraint.condition)
        referenced = [key.split("__")[0] for key, _ in _leaf_lookups(constraint.condition)]
        target = next((name for name in referenced if name in names), NON_FIELD_ERRORS)
        return target, f"Breaks the rule '{body.replace('_', ' ')}'."
    return None


def _integrity_error_as_validation_error(model: type[models.Model], error: IntegrityError) -> ValidationError | None:
    diag = getattr(error.__cause__, "diag", None)
    name = getattr(diag, "constraint_name", None)
    if not name:
        return None
    explained = explain_constraint(model, name)
    if explained is None:
        return None
    field_name, message = explained
    return ValidationError({field_name: [message]})


# --- Validation of one record before it is written -----------------------------------------------


def _failed_check_constraints(instance: models.Model) -> list[models.CheckConstraint]:
    """Evaluate every check constraint of the row in one query (Django's own validation runs one each)."""
    model = type(instance)
    checks = [c for c in model._meta.constraints if isinstance(c, models.CheckConstraint)]
    if not checks:
        return []
    query = Query(None)
    for name, value in instance._get_field_expression_map(meta=model._meta).items():
        query.add_annotation(value if hasattr(value, "resolve_expression") else Value(value), name, select=False)
    for index, constraint in enumerate(checks):
        condition = ExpressionWrapper(Q(constraint.condition), output_field=BooleanField())
        query.add_annotation(Coalesce(condition, True, output_field=BooleanField()), f"_rule_{index}")
    using = router.db_for_write(model, instance=instance)
    with transaction.atomic(using=using):
        row = query.get_compiler(using=using).execute_sql(SINGLE)
    return [constraint for constraint, passed in zip(checks, row, strict=True) if not passed]


def validate_record(instance: models.Model, *, exclude: Iterable[str] = ()) -> None:
    """Raise one ValidationError listing, per field, everything wrong with the row."""
    model = type(instance)
    excluded = set(exclude)
    errors: dict[str, list[str]] = {}
    try:
        instance.clean_fields(exclude=excluded)
    except ValidationError as exc:
        for key, messages in exc.message_dict.items():
            errors.setdefault(key, []).extend(messages)
    if errors:
        # Constraints cannot be evaluated on values of the wrong type; report the field errors first.
        raise ValidationError(errors)
    for key, messages in plausibility_errors(instance).items():
        if key not in excluded:
            errors.setdefault(key, []).extend(messages)
    for constraint in _failed_check_constraints(instance):
        field_name, message = explain_constraint(model, constraint.name) or (NON_FIELD_ERRORS, str(constraint))
        errors.setdefault(field_name, []).append(message)
    using = router.db_for_write(model, instance=instance)
    for constraint in model._meta.constraints:
        if not isinstance(constraint, models.UniqueConstraint):
            continue
        try:
            constraint.validate(model, instance, exclude=excluded, using=using)
        except ValidationError:
            field_name, message = explain_constraint(model, constraint.name) or (NON_FIELD_ERRORS, constraint.name)
            errors.setdefault(field_name, []).append(message)
    if errors:
        raise ValidationError(errors)


def save_record(instance: models.Model, *, update_fields: list[str] | None = None) -> None:
    """Save, translating a database constraint violation (e.g. a lost race) into field errors."""
    model = type(instance)
    try:
        with transaction.atomic(using=router.db_for_write(model, instance=instance)):
            instance.save(update_fields=update_fields)
    except IntegrityError as exc:
        explained = _integrity_error_as_validation_error(model, exc)
        if explained is None:
            raise
        raise explained from exc


def _model_name(model: type[models.Model]) -> str:
    return str(model._meta.verbose_name)


def _lock(instance: Record) -> Record:
    return type(instance)._default_manager.select_for_update().get(pk=instance.pk)


@contextmanager
def expected_version(instance: Record, version: int) -> Iterator[Record]:
    """Run the block in a transaction only if the row is still at `version` (it stays locked meanwhile)."""
    with transaction.atomic():
        locked = _lock(instance)
        check_version(locked, version)
        yield locked


def check_version(locked: models.Model, version: int) -> None:
    if locked.version != version:
        raise StaleVersion(model_name=_model_name(type(locked)), sent=version, current=locked.version)


def _locked_reason(instance: models.Model) -> str | None:
    """Why this row may not be changed any more, or None."""
    if isinstance(instance, SecretomeBatch) and instance.status in LOCKED_BATCH_STATUSES:
        return (
            f"Batch {instance.code} is {instance.status}; a {instance.status} batch cannot be edited. "
            "Record a deviation or make a new batch."
        )
    if isinstance(instance, ProcessingStep):
        batch = SecretomeBatch.objects.only("code", "status").get(pk=instance.batch_id)
        if batch.status in LOCKED_BATCH_STATUSES:
            return f"Batch {batch.code} is {batch.status}; its processing steps cannot be changed."
    if isinstance(instance, QCSpecification) and instance.results.exists():
        return (
            f"Specification {instance} has judged QC results; it cannot change. Add a new version "
            "(spec_version + 1) with a later effective_from."
        )
    if isinstance(instance, ProtocolVersion) and instance.status != VersionStatus.DRAFT:
        return f"Version {instance.number} is {instance.status}; only a draft can be edited. Start a new version."
    return None


def _submitted_batch(instance: models.Model, data: dict[str, Any]) -> SecretomeBatch | None:
    """The submitted batch this row is (or belongs to, or is being moved to), if any: changing it needs a reason."""
    if isinstance(instance, SecretomeBatch):
        return instance if instance.status == BatchStatus.SUBMITTED else None
    if isinstance(instance, ProcessingStep | Aliquot | QCResult):
        batch_ids = {instance.batch_id}
        if isinstance(data.get("batch"), SecretomeBatch):
            batch_ids.add(data["batch"].pk)
        return SecretomeBatch.objects.filter(pk__in=batch_ids, status=BatchStatus.SUBMITTED).only("code").first()
    return None


@dataclass
class ChildRows:
    """Rows owned by the record being written (e.g. a priming condition's agents), replaced as a set.

    `name` is the list's field on the parent; problems with a row are reported as `<name>.<index>.<field>`.
    """

    name: str
    model: type[models.Model]
    parent_field: str
    key_field: str
    rows: list[dict[str, Any]] = field(default_factory=list)


def _write_child(*, spec: ChildRows, index: int, row: models.Model, update_fields: list[str] | None) -> None:
    try:
        validate_record(row)
        save_record(row, update_fields=update_fields)
    except ValidationError as exc:
        raise ValidationError(
            {f"{spec.name}.{index}.{key}": messages for key, messages in exc.message_dict.items()}
        ) from exc


def _write_children(*, parent: models.Model, actor, children: list[ChildRows]) -> None:
    for spec in children:
        existing = {
            getattr(row, spec.key_field): row
            for row in spec.model._default_manager.filter(**{spec.parent_field: parent})
        }
        wanted_keys = [row.get(spec.key_field) for row in spec.rows]
        repeated = [index for index, key in enumerate(wanted_keys) if wanted_keys.index(key) != index]
        if repeated:
            raise ValidationError(
                {f"{spec.name}.{index}.{spec.key_field}": ["Listed more than once."] for index in repeated}
            )
        for key, row in existing.items():
            if key not in wanted_keys:
                row.delete()
        for index, values in enumerate(spec.rows):
            row = existing.get(values.get(spec.key_field))
            if row is None:
                row = spec.model(lab_id=parent.lab_id, created_by=actor, **{spec.parent_field: parent}, **values)
                _write_child(spec=spec, index=index, row=row, update_fields=None)
                continue
            changed = [name for name, value in values.items() if getattr(row, name) != value]
            if changed:
                for name in changed:
                    setattr(row, name, values[name])
                _write_child(spec=spec, index=index, row=row, update_fields=[*changed, "updated_at"])


# --- The generic services ------------------------------------------------------------------------


def record_create(
    *,
    model: type[Record],
    lab: Lab,
    actor,
    data: dict[str, Any],
    children: list[ChildRows] | None = None,
    roles: set[str] = WRITE_ROLES,
    reason: str | None = None,
) -> Record:
    """Create one lab-owned record (and its child rows) in one audited transaction."""
    require_role(actor, lab, roles, f"Recording a {_model_name(model)}")
    _require_pinnable(model=model, lab_id=lab.pk, data=data)
    with transaction.atomic(), audit_context(actor=actor, reason=reason):
        instance = model(lab=lab, created_by=actor, **data)
        validate_record(instance)
        save_record(instance)
        if children:
            _write_children(parent=instance, actor=actor, children=children)
        _after_write(instance, actor)
    return instance


def record_update(
    *,
    instance: Record,
    actor,
    data: dict[str, Any],
    version: int,
    children: list[ChildRows] | None = None,
    roles: set[str] = WRITE_ROLES,
    reason: str | None = None,
) -> Record:
    """Apply `data` to the row if nobody changed it since `version`; a no-op change writes nothing.

    A change to a submitted batch, or to a row of one, needs a `reason` (given here or by the enclosing
    audit context); it is kept with the change in the audit trail."""
    model = type(instance)
    require_role(actor, instance.lab_id, roles, f"Changing a {_model_name(model)}")
    reason = (reason or audit_reason() or "").strip() or None
    with transaction.atomic(), audit_context(actor=actor, reason=reason):
        locked = _lock(instance)
        check_version(locked, version)
        locked_reason = _locked_reason(locked)
        if locked_reason:
            raise RecordLocked(locked_reason, current_version=locked.version)
        changed = [name for name, value in data.items() if getattr(locked, name) != value]
        submitted = _submitted_batch(locked, data) if changed or children else None
        if submitted is not None and reason is None:
            raise ValidationError(
                {"reason": [f"Batch {submitted.code} is submitted for review; say why this change is made."]}
            )
        _require_pinnable(model=model, lab_id=locked.lab_id, data={name: data[name] for name in changed})
        for name in changed:
            setattr(locked, name, data[name])
        if changed:
            validate_record(locked)
            save_record(locked, update_fields=[*changed, "updated_at"])
        if children:
            _write_children(parent=locked, actor=actor, children=children)
        if changed or children:
            _after_write(locked, actor)
        locked.refresh_from_db(fields=["version", "updated_at"])
    return locked


# --- Batches and what hangs off them -------------------------------------------------------------


def _require_pinnable(*, model: type[models.Model], lab_id: int, data: dict[str, Any]) -> None:
    """A record may follow only an effective SOP version of its own lab and of the right category."""
    version = data.get("protocol_version")
    if version is not None:
        protocol_version_require_pinnable(version, record=model, lab=lab_id)


def _after_write(instance: models.Model, actor) -> None:
    """Bring the deviations of every batch the record feeds in line with its pinned SOP versions."""
    deviation_sync_for_record(record=instance, actor=actor)


def batch_create(*, lab: Lab, actor, data: dict[str, Any]) -> SecretomeBatch:
    """A new draft batch; the operator defaults to the actor."""
    data = {"operator": actor, **data}
    with transaction.atomic():
        batch = record_create(model=SecretomeBatch, lab=lab, actor=actor, data=data)
        with audit_context(actor=actor):
            BatchEvent.objects.create(lab_id=batch.lab_id, batch=batch, kind=BatchEventKind.CREATED, actor=actor)
    return batch


def batch_update(
    *, batch: SecretomeBatch, actor, data: dict[str, Any], version: int, reason: str | None = None
) -> SecretomeBatch:
    """Change a batch that is not released or retired (status changes go through the lifecycle services);
    a submitted batch is amended only with a `reason`."""
    mock = data.get("mock_control")
    if mock is not None and mock.pk == batch.pk:
        raise ValidationError({"mock_control": ["A batch cannot be its own mock control."]})
    return record_update(instance=batch, actor=actor, data=data, version=version, reason=reason)


def processing_step_create(*, lab: Lab, actor, data: dict[str, Any], reason: str | None = None) -> ProcessingStep:
    batch = data["batch"]
    if batch.status in LOCKED_BATCH_STATUSES:
        raise RecordLocked(f"Batch {batch.code} is {batch.status}; no processing step can be added.")
    return record_create(model=ProcessingStep, lab=lab, actor=actor, data=data, reason=reason)


def processing_step_update(
    *, step: ProcessingStep, actor, data: dict[str, Any], version: int, reason: str | None = None
) -> ProcessingStep:
    target = data.get("batch")
    if target is not None and target.pk != step.batch_id and target.status in LOCKED_BATCH_STATUSES:
        raise RecordLocked(f"Batch {target.code} is {target.status}; no processing step can be moved to it.")
    return record_update(instance=step, actor=actor, data=data, version=version, reason=reason)


def _agents(rows: list[dict[str, Any]] | None) -> list[ChildRows] | None:
    if rows is None:
        return None
    return [ChildRows(name="agents", model=PrimingAgent, parent_field="priming", key_field="agent", rows=rows)]


def priming_create(*, lab: Lab, actor, data: dict[str, Any], agents: list[dict[str, Any]] | None) -> PrimingCondition:
    return record_create(model=PrimingCondition, lab=lab, actor=actor, data=data, children=_agents(agents))


def priming_update(
    *, priming: PrimingCondition, actor, data: dict[str, Any], version: int, agents: list[dict[str, Any]] | None
) -> PrimingCondition:
    """Change a priming condition; when `agents` is given it replaces the whole list of agents."""
    return record_update(instance=priming, actor=actor, data=data, version=version, children=_agents(agents))


def _check_administration(data: dict[str, Any], current: Administration | None = None) -> None:
    batch = data.get("batch", current.batch if current else None)
    aliquot = data.get("aliquot", current.aliquot if current else None)
    study = data.get("study", current.study if current else None)
    group = data.get("group", current.group if current else None)
    if aliquot is not None and batch is not None and aliquot.batch_id != batch.pk:
        raise ValidationError({"aliquot": [f"Aliquot {aliquot.code} is not from batch {batch.code}."]})
    names = [g.get("name") for g in (study.groups or []) if isinstance(g, dict)] if study is not None else []
    if names and group not in names:
        raise ValidationError({"group": [f"Not a group of the study; its groups are: {', '.join(map(str, names))}."]})


def administration_create(*, lab: Lab, actor, data: dict[str, Any]) -> Administration:
    _check_administration(data)
    return record_create(model=Administration, lab=lab, actor=actor, data=data)


def administration_update(
    *, administration: Administration, actor, data: dict[str, Any], version: int
) -> Administration:
    _check_administration(data, administration)
    return record_update(instance=administration, actor=actor, data=data, version=version)


def aliquot_create(*, lab: Lab, actor, data: dict[str, Any], reason: str | None = None) -> Aliquot:
    batch = data["batch"]
    if batch.status == BatchStatus.RETIRED:
        raise RecordLocked(f"Batch {batch.code} is retired; no aliquot can be added.")
    return record_create(model=Aliquot, lab=lab, actor=actor, data=data, reason=reason)
