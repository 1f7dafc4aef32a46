"""The one write path for lab records: every door (API, web forms, admin actions, imports, commands) ends here.

* the actor must hold a writing role in the record's lab;
* every link points at a row of the same lab (the database's same-lab trigger is the last guard);
* a record that may no longer change (a released batch, an effective SOP version) is refused (`RecordLocked`);
* an update names the `version` it was based on; a stale version changes nothing and raises `StaleVersion`
  with the current one (the database bumps `version` on every UPDATE);
* a change that needs a reason (to a submitted batch) gets it as the explicit `reason` argument, kept with
  the change in the audit trail;
* all field rules, plausibility rules and check constraints are evaluated before the write, so the caller
  gets every problem at once, keyed by field; database constraint violations are translated to the same
  field-keyed errors;
* the after-write hooks (lifecycle events, deviations) run in the same transaction; the checklist outbox
  is filled by database triggers.

The models' own rules are registered by their apps with `lims.write_rules`.
"""

from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, TypeVar

from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import IntegrityError, models, router, transaction
from django.db.models import BooleanField, ExpressionWrapper, Q, Value
from django.db.models.functions import Coalesce
from django.db.models.sql import Query
from django.db.models.sql.constants import SINGLE

from lims import write_rules
from lims.audit import audit_context
from lims.constraints import SameLab
from lims.models import Lab
from lims.plausibility import plausibility_errors
from lims.roles import WRITE_ROLES, require_role
from lims.write_rules import explain_constraint

Record = TypeVar("Record", bound=models.Model)

__all__ = [
    "Blocked",
    "ChildRows",
    "Conflict",
    "RecordLocked",
    "StaleVersion",
    "check_version",
    "expected_version",
    "explain_constraint",
    "record_create",
    "record_update",
    "save_record",
    "validate_record",
]


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


class Blocked(ValidationError):
    """A step refused for reasons elsewhere in the lab's records; `blockers` lists each in words (HTTP 400)."""

    def __init__(self, blockers: list[str], *, field_name: str = "status"):
        self.blockers = blockers
        super().__init__({field_name: blockers})


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


def _other_lab_links(instance: models.Model, excluded: set[str]) -> dict[str, list[str]]:
    """Links to another lab's rows, by field: what the database's same-lab trigger would refuse, said in words."""
    trigger = next((t for t in getattr(instance._meta, "triggers", ()) if isinstance(t, SameLab)), None)
    lab_id = getattr(instance, "lab_id", None)
    if trigger is None or lab_id is None:
        return {}
    errors: dict[str, list[str]] = {}
    for link in instance._meta.concrete_fields:
        if not link.many_to_one or link.name in ("lab", *trigger.exempt) or link.name in excluded:
            continue
        if getattr(instance, link.attname) is None or not hasattr(link.related_model, "lab_id"):
            continue
        unless = trigger.crossing_when.get(link.name)
        if unless is not None and getattr(instance, instance._meta.get_field(unless).attname) is not None:
            continue
        if getattr(instance, link.name).lab_id != lab_id:
            noun = link.related_model._meta.verbose_name
            errors[link.name] = [f"This {noun} belongs to another lab; choose a {noun} of the record's own lab."]
    return errors


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
    errors.update(_other_lab_links(instance, excluded))
    if errors:
        # Plausibility rules read linked rows; another lab's rows are not theirs to read.
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


def locked_reason(instance: models.Model) -> str | None:
    """Why this row may not be changed any more (a registered rule of its app), or None."""
    for rule in write_rules.rules_for("locked", type(instance)):
        reason = rule(instance)
        if reason:
            return reason
    return None


def _reason_needed(instance: models.Model, data: dict[str, Any]) -> str | None:
    for rule in write_rules.rules_for("reason_needed", type(instance)):
        message = rule(instance, data)
        if message:
            return message
    return None


def _check(model: type[models.Model], lab_id: int, data: dict[str, Any], current: models.Model | None) -> None:
    for rule in write_rules.rules_for("check", model):
        rule(model, lab_id, data, current)


def _after(kind: str, instance: models.Model, actor) -> None:
    for hook in write_rules.rules_for(kind, type(instance)):
        hook(instance, actor)


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


def _clean_reason(reason: str | None) -> str | None:
    return (reason or "").strip() or None


# --- The services --------------------------------------------------------------------------------


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
    for rule in write_rules.rules_for("defaults", model):
        data = {**rule(data, actor), **data}
    _check(model, lab.pk, data, None)
    with transaction.atomic(), audit_context(actor=actor, reason=_clean_reason(reason)):
        instance = model(lab=lab, created_by=actor, **data)
        validate_record(instance)
        save_record(instance)
        if children:
            _write_children(parent=instance, actor=actor, children=children)
        _after("after_create", instance, actor)
        _after("after_write", instance, actor)
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

    A change that needs a reason (to a submitted batch, or to a row of one) is refused without `reason`;
    the reason is kept with the change in the audit trail."""
    model = type(instance)
    require_role(actor, instance.lab_id, roles, f"Changing a {_model_name(model)}")
    reason = _clean_reason(reason)
    with transaction.atomic(), audit_context(actor=actor, reason=reason):
        locked = _lock(instance)
        check_version(locked, version)
        why_locked = locked_reason(locked)
        if why_locked:
            raise RecordLocked(why_locked, current_version=locked.version)
        changed = [name for name, value in data.items() if getattr(locked, name) != value]
        if (changed or children) and reason is None:
            asking = _reason_needed(locked, data)
            if asking:
                raise ValidationError({"reason": [asking]})
        _check(model, locked.lab_id, {name: data[name] for name in changed}, locked)
        for name in changed:
            setattr(locked, name, data[name])
        if changed:
            validate_record(locked)
            save_record(locked, update_fields=[*changed, "updated_at"])
        if children:
            _write_children(parent=locked, actor=actor, children=children)
        if changed or children:
            _after("after_write", locked, actor)
        locked.refresh_from_db(fields=["version", "updated_at"])
    return locked
