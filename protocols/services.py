"""Writes: protocols, their versions (draft → effective → retired), pins, and deviations.

A published version is frozen three times over: these services refuse to edit it, the admin shows it
read-only, and database triggers refuse any UPDATE of its content or parameters.
"""

import re
from dataclasses import dataclass, field

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models, transaction
from django.db.models import Max
from django.utils import timezone

from batches.models import CellLine, Passage, PrimingCondition, SecretomeBatch
from lims import write_rules
from lims.audit import audit_context
from lims.models import Lab
from lims.roles import JUSTIFY_ROLES, REVIEW_ROLES, WRITE_ROLES, require_role
from lims.services.signatures import signature_sign
from lims.signatures import SignatureMeaning
from protocols.models import (
    Deviation,
    DeviationStatus,
    ParameterType,
    Protocol,
    ProtocolCategory,
    ProtocolParameter,
    ProtocolVersion,
    VersionStatus,
)
from protocols.selectors import deviation_findings, deviation_key
from protocols.steps import STEP_KIND_BY_CATEGORY, governed_fields, is_numeric, step_kind_for_model

PARAMETER_NAME = re.compile(r"^[a-z][a-z0-9_]{0,59}$")
PARAMETER_KEYS = {"name", "value_type", "unit", "default", "min_value", "max_value", "choices"}


def _label(version: ProtocolVersion) -> str:
    return f"{version.protocol.code} v{version.number}"


# --- protocols -------------------------------------------------------------------------------------
def protocol_create(*, lab: Lab, actor, code: str, title: str, category: str) -> Protocol:
    require_role(actor, lab, WRITE_ROLES, "Creating a protocol")
    code, title = (code or "").strip(), (title or "").strip()
    errors: dict[str, list[str]] = {}
    if not code:
        errors["code"] = ["Give the SOP code, e.g. SOP-CM-002."]
    elif Protocol.objects.filter(lab=lab, code=code).exists():
        errors["code"] = [f"The lab already has a protocol {code}."]
    if not title:
        errors["title"] = ["Give the protocol a title."]
    if category not in ProtocolCategory.values:
        errors["category"] = [f"Choose one of: {', '.join(ProtocolCategory.values)}."]
    if errors:
        raise ValidationError(errors)
    with transaction.atomic(), audit_context(actor=actor, reason=f"Create protocol {code}"):
        return Protocol.objects.create(lab=lab, created_by=actor, code=code, title=title, category=category)


def protocol_update(*, protocol: Protocol, actor, title: str | None = None, category: str | None = None) -> Protocol:
    """The title may change at any time; the category only while no version was ever published."""
    require_role(actor, protocol.lab_id, WRITE_ROLES, "Editing a protocol")
    with transaction.atomic(), audit_context(actor=actor, reason=f"Edit protocol {protocol.code}"):
        locked = Protocol.objects.select_for_update().get(pk=protocol.pk)
        changed: list[str] = []
        if title is not None:
            if not title.strip():
                raise ValidationError({"title": ["Give the protocol a title."]})
            locked.title, changed = title.strip(), [*changed, "title"]
        if category is not None and category != locked.category:
            if category not in ProtocolCategory.values:
                raise ValidationError({"category": [f"Choose one of: {', '.join(ProtocolCategory.values)}."]})
            if locked.versions.exclude(status=VersionStatus.DRAFT).exists():
                raise ValidationError({"category": ["A protocol with a published version cannot change category."]})
            locked.category, changed = category, [*changed, "category"]
        if changed:
            locked.save(update_fields=[*changed, "updated_at"])
            locked.refresh_from_db(fields=["version"])
        return locked


# --- parameters ------------------------------------------------------------------------------------
def _float_or_none(raw, where: str, errors: list[str]) -> float | None:
    if raw is None or raw == "":
        return None
    try:
        return float(raw)
    except (TypeError, ValueError):
        errors.append(f"{where}: '{raw}' is not a number.")
        return None


def clean_parameters(*, category: str, parameters: list[dict]) -> list[dict]:
    """Check typed parameters against the records the category's protocols govern; every problem at once."""
    if not isinstance(parameters, list):
        raise ValidationError({"parameters": ["Send a list of parameters."]})
    kind = STEP_KIND_BY_CATEGORY.get(category)
    governed = governed_fields(kind) if kind else {}
    errors: list[str] = []
    cleaned: list[dict] = []
    seen: set[str] = set()
    for index, raw in enumerate(parameters, start=1):
        if not isinstance(raw, dict):
            errors.append(f"Parameter {index}: send an object with a name and a value_type.")
            continue
        name = str(raw.get("name") or "").strip()
        where = f"Parameter {index} ({name or 'no name'})"
        unknown = set(raw) - PARAMETER_KEYS - {"id"}
        if unknown:
            errors.append(f"{where}: unknown keys {', '.join(sorted(unknown))}.")
        value_type = raw.get("value_type") or ParameterType.NUMBER
        if not PARAMETER_NAME.match(name):
            errors.append(f"{where}: a name is the record field it governs, in snake_case (e.g. conditioning_time_h).")
            continue
        if name in seen:
            errors.append(f"{where}: the name appears twice.")
        seen.add(name)
        if value_type not in ParameterType.values:
            errors.append(f"{where}: value_type must be one of {', '.join(ParameterType.values)}.")
            continue
        model_field = governed.get(name)
        if value_type != ParameterType.TEXT and kind is not None and name not in governed:
            options = ", ".join(sorted(governed))
            errors.append(f"{where}: a {category} record has no field '{name}'; use one of: {options}.")
            continue
        low = _float_or_none(raw.get("min_value"), f"{where} min_value", errors)
        high = _float_or_none(raw.get("max_value"), f"{where} max_value", errors)
        allowed = raw.get("choices") or []
        default = "" if raw.get("default") is None else str(raw.get("default")).strip()
        unit = str(raw.get("unit") or "").strip()
        if value_type == ParameterType.NUMBER:
            if model_field is not None and not is_numeric(model_field):
                errors.append(f"{where}: '{name}' is not a number field; make it a choice or text parameter.")
            if allowed:
                errors.append(f"{where}: a number parameter has min_value/max_value, not choices.")
            if low is not None and high is not None and low > high:
                errors.append(f"{where}: min_value {low:g} is above max_value {high:g}.")
            default_value = _float_or_none(default, f"{where} default", errors)
            if default_value is not None and (
                (low is not None and default_value < low) or (high is not None and default_value > high)
            ):
                errors.append(f"{where}: the default {default_value:g} is outside min_value–max_value.")
        elif value_type == ParameterType.CHOICE:
            if low is not None or high is not None:
                errors.append(f"{where}: a choice parameter has choices, not min_value/max_value.")
            if not isinstance(allowed, list) or not allowed or not all(str(c).strip() for c in allowed):
                errors.append(f"{where}: list the allowed choices.")
                allowed = []
            allowed = [str(c).strip() for c in allowed]
            if model_field is not None and model_field.choices:
                valid = {str(value) for value, _label in model_field.flatchoices}
                wrong = [c for c in allowed if c not in valid]
                if wrong:
                    errors.append(f"{where}: {', '.join(wrong)} not a value '{name}' can take.")
            if default and default not in allowed:
                errors.append(f"{where}: the default '{default}' is not one of the choices.")
        elif low is not None or high is not None or allowed:
            errors.append(f"{where}: a text parameter has no limits or choices.")
        cleaned.append(
            {
                "name": name,
                "value_type": value_type,
                "unit": unit,
                "default": default,
                "min_value": low if value_type == ParameterType.NUMBER else None,
                "max_value": high if value_type == ParameterType.NUMBER else None,
                "choices": allowed if value_type == ParameterType.CHOICE else [],
            }
        )
    if errors:
        raise ValidationError({"parameters": errors})
    return cleaned


def _parameter_specs(version: ProtocolVersion) -> list[dict]:
    return [
        {key: getattr(parameter, key) for key in PARAMETER_KEYS} for parameter in version.parameters.order_by("name")
    ]


def _write_parameters(*, version: ProtocolVersion, actor, parameters: list[dict]) -> None:
    version.parameters.all().delete()
    ProtocolParameter.objects.bulk_create(
        ProtocolParameter(lab_id=version.lab_id, created_by=actor, protocol_version=version, **spec)
        for spec in parameters
    )


# --- versions --------------------------------------------------------------------------------------
def protocol_version_create_draft(
    *,
    protocol: Protocol,
    actor,
    body: str | None = None,
    change_summary: str = "",
    parameters: list[dict] | None = None,
) -> ProtocolVersion:
    """A new draft, numbered after the last version; body and parameters default to the latest version's."""
    require_role(actor, protocol.lab_id, WRITE_ROLES, "Drafting a protocol version")
    with transaction.atomic(), audit_context(actor=actor, reason=f"Draft a new version of {protocol.code}"):
        locked = Protocol.objects.select_for_update().get(pk=protocol.pk)
        draft = locked.versions.filter(status=VersionStatus.DRAFT).first()
        if draft is not None:
            raise ValidationError(
                {"protocol": [f"{locked.code} already has a draft (v{draft.number}); edit it or publish it first."]}
            )
        latest = locked.versions.order_by("-number").first()
        if body is None:
            body = latest.body if latest else ""
        if parameters is None:
            parameters = _parameter_specs(latest) if latest else []
        if not body.strip():
            raise ValidationError({"body": ["Write the procedure (Markdown)."]})
        cleaned = clean_parameters(category=locked.category, parameters=parameters)
        number = (locked.versions.aggregate(last=Max("number"))["last"] or 0) + 1
        version = ProtocolVersion.objects.create(
            lab_id=locked.lab_id,
            created_by=actor,
            protocol=locked,
            number=number,
            body=body,
            change_summary=(change_summary or "").strip(),
        )
        _write_parameters(version=version, actor=actor, parameters=cleaned)
        return version


def _refuse_unless_draft(version: ProtocolVersion, action: str) -> None:
    if version.status != VersionStatus.DRAFT:
        raise ValidationError(
            {
                "status": [
                    f"{_label(version)} is {version.status}: a published version cannot be {action}; "
                    "create a new draft instead."
                ]
            }
        )


def protocol_version_update_draft(
    *,
    version: ProtocolVersion,
    actor,
    body: str | None = None,
    change_summary: str | None = None,
    parameters: list[dict] | None = None,
) -> ProtocolVersion:
    """Edit a draft's text, summary or parameters (the parameters are replaced as a whole)."""
    require_role(actor, version.lab_id, WRITE_ROLES, "Editing a protocol version")
    with transaction.atomic(), audit_context(actor=actor, reason=f"Edit draft {_label(version)}"):
        locked = ProtocolVersion.objects.select_for_update().select_related("protocol").get(pk=version.pk)
        _refuse_unless_draft(locked, "edited")
        changed: list[str] = []
        if body is not None:
            if not body.strip():
                raise ValidationError({"body": ["Write the procedure (Markdown)."]})
            if body != locked.body:
                locked.body, changed = body, [*changed, "body"]
        if change_summary is not None and change_summary.strip() != locked.change_summary:
            locked.change_summary, changed = change_summary.strip(), [*changed, "change_summary"]
        if parameters is not None:
            cleaned = clean_parameters(category=locked.protocol.category, parameters=parameters)
            if sorted(cleaned, key=lambda spec: spec["name"]) != _parameter_specs(locked):
                _write_parameters(version=locked, actor=actor, parameters=cleaned)
                changed.append("updated_at")
        if changed:
            locked.save(update_fields=sorted({*changed, "updated_at"}))
            locked.refresh_from_db(fields=["version"])
        return locked


def protocol_version_publish(*, version: ProtocolVersion, actor, password: str, request=None) -> ProtocolVersion:
    """Make a draft effective and immutable; the version it replaces retires. Reviewers only; idempotent.

    Publishing is an electronic signature (meaning "published") over the text and the parameters: the
    reviewer re-enters their password, and a wrong one leaves the draft a draft.
    """
    require_role(actor, version.lab_id, REVIEW_ROLES, "Publishing a protocol version")
    with transaction.atomic(), audit_context(actor=actor, reason=f"Publish {_label(version)}"):
        # Lock the protocol first: two publishes of one protocol run one after the other.
        Protocol.objects.select_for_update().get(pk=version.protocol_id)
        locked = ProtocolVersion.objects.select_for_update().select_related("protocol").get(pk=version.pk)
        if locked.status == VersionStatus.EFFECTIVE:
            return locked
        if locked.status == VersionStatus.RETIRED:
            raise ValidationError({"status": [f"{_label(locked)} is retired and cannot be published again."]})
        if not locked.body.strip():
            raise ValidationError({"body": [f"{_label(locked)} has no procedure text to publish."]})
        now = timezone.now()
        ProtocolVersion.objects.filter(protocol_id=locked.protocol_id, status=VersionStatus.EFFECTIVE).update(
            status=VersionStatus.RETIRED, updated_at=now
        )
        locked.status = VersionStatus.EFFECTIVE
        locked.approved_by = actor
        locked.approved_at = now
        locked.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
        signature_sign(
            actor=actor,
            password=password,
            meaning=SignatureMeaning.PUBLISHED,
            record=locked,
            comment=locked.change_summary,
            request=request,
        )
        locked.refresh_from_db(fields=["version"])
        return locked


def protocol_version_retire(
    *, version: ProtocolVersion, actor, reason: str, password: str, request=None
) -> ProtocolVersion:
    """Withdraw an effective version without a successor (signed, meaning "retired"); records that pinned
    it keep it."""
    require_role(actor, version.lab_id, REVIEW_ROLES, "Retiring a protocol version")
    if not (reason or "").strip():
        raise ValidationError({"reason": ["Say why the version is retired."]})
    with transaction.atomic(), audit_context(actor=actor, reason=reason):
        locked = ProtocolVersion.objects.select_for_update().select_related("protocol").get(pk=version.pk)
        if locked.status == VersionStatus.RETIRED:
            return locked
        if locked.status == VersionStatus.DRAFT:
            raise ValidationError({"status": [f"{_label(locked)} is a draft; delete it or publish it."]})
        locked.status = VersionStatus.RETIRED
        locked.save(update_fields=["status", "updated_at"])
        signature_sign(
            actor=actor,
            password=password,
            meaning=SignatureMeaning.RETIRED,
            record=locked,
            comment=reason,
            request=request,
        )
        locked.refresh_from_db(fields=["version"])
        return locked


def protocol_version_delete_draft(*, version: ProtocolVersion, actor) -> None:
    require_role(actor, version.lab_id, WRITE_ROLES, "Deleting a protocol draft")
    with transaction.atomic(), audit_context(actor=actor, reason=f"Delete draft {_label(version)}"):
        locked = ProtocolVersion.objects.select_for_update().select_related("protocol").get(pk=version.pk)
        _refuse_unless_draft(locked, "deleted")
        locked.delete()


# --- pins ------------------------------------------------------------------------------------------
def protocol_version_require_pinnable(
    version: ProtocolVersion | None,
    *,
    record: models.Model | type[models.Model] | None = None,
    lab: Lab | int | None = None,
    field_name: str = "protocol_version",
) -> None:
    """Refuse, naming the field, a version that new work may not follow: a draft, a retired version,
    another lab's version, or a protocol of the wrong category for the record."""
    if version is None:
        return
    if not isinstance(version, ProtocolVersion):
        version = ProtocolVersion.objects.select_related("protocol").get(pk=version)
    label = _label(version)
    if version.status != VersionStatus.EFFECTIVE:
        hint = "it is still a draft" if version.status == VersionStatus.DRAFT else "it was retired"
        raise ValidationError(
            {field_name: [f"{label} cannot be followed for new work: {hint}. Pin the effective version."]}
        )
    lab_id = lab if isinstance(lab, int) or lab is None else lab.pk
    if lab_id is None and isinstance(record, models.Model):
        lab_id = getattr(record, "lab_id", None)
    if lab_id is not None and version.lab_id != lab_id:
        raise ValidationError({field_name: [f"{label} belongs to another lab."]})
    kind = step_kind_for_model(record) if record is not None else None
    if kind is not None and version.protocol.category != kind.category:
        raise ValidationError(
            {
                field_name: [
                    f"{label} is a {version.protocol.category} protocol; this record needs a {kind.category} one."
                ]
            }
        )


# --- deviations ------------------------------------------------------------------------------------
@dataclass
class DeviationSyncResult:
    created: list[Deviation] = field(default_factory=list)
    updated: list[Deviation] = field(default_factory=list)
    closed: list[Deviation] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.closed)


def deviation_sync(*, batch: SecretomeBatch, actor) -> DeviationSyncResult:
    """Bring the batch's deviations in line with its records: one open deviation per out-of-range value,
    updated while open, closed when the value no longer deviates. Running it twice changes nothing."""
    result = DeviationSyncResult()
    with transaction.atomic(), audit_context(actor=actor, reason="Deviation check against the pinned SOP versions"):
        locked = SecretomeBatch.objects.select_for_update().get(pk=batch.pk)
        findings = deviation_findings(batch=locked)
        standing = list(
            Deviation.objects.select_for_update().filter(batch=locked).exclude(status=DeviationStatus.CLOSED)
        )
        open_by_key = {deviation_key(d): d for d in standing if d.status == DeviationStatus.OPEN}
        decided = {(deviation_key(d), d.actual) for d in standing if d.status != DeviationStatus.OPEN}
        for finding in findings:
            current = open_by_key.pop(finding.key, None)
            if current is not None:
                values = {"expected": finding.expected, "actual": finding.actual, "record_label": finding.record_label}
                changed = [name for name, value in values.items() if getattr(current, name) != value]
                if changed:
                    for name in changed:
                        setattr(current, name, values[name])
                    current.save(update_fields=[*changed, "updated_at"])
                    result.updated.append(current)
                continue
            if (finding.key, finding.actual) in decided:
                continue  # approved (or rejected) for exactly this value already
            result.created.append(
                Deviation.objects.create(
                    lab_id=locked.lab_id,
                    created_by=actor,
                    batch=locked,
                    protocol_version=finding.protocol_version,
                    record_type=finding.record_type,
                    record_id=finding.record_id,
                    record_label=finding.record_label,
                    parameter=finding.parameter,
                    expected=finding.expected,
                    actual=finding.actual,
                )
            )
        now = timezone.now()
        for stale in open_by_key.values():
            stale.status = DeviationStatus.CLOSED
            stale.closed_at = now
            stale.save(update_fields=["status", "closed_at", "updated_at"])
            result.closed.append(stale)
    return result


def deviation_sync_for_record(*, record: models.Model, actor) -> list[DeviationSyncResult]:
    """After a write to any step record: check every batch whose records include it."""
    if isinstance(record, SecretomeBatch):
        batches = [record]
    elif isinstance(record, CellLine):
        batches = SecretomeBatch.objects.filter(passage__cell_line=record)
    elif isinstance(record, PrimingCondition):
        batches = SecretomeBatch.objects.filter(priming=record)
    elif isinstance(record, Passage):
        lineage, frontier = {record.pk}, {record.pk}
        while frontier:
            frontier = set(Passage.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - lineage
            lineage |= frontier
        batches = SecretomeBatch.objects.filter(passage_id__in=lineage)
    elif getattr(record, "batch_id", None) is not None:
        batches = [SecretomeBatch.objects.get(pk=record.batch_id)]
    else:
        return []
    if isinstance(batches, models.QuerySet):
        batches = batches.order_by("pk")  # one lock order for every writer: no deadlock between two syncs
    return [deviation_sync(batch=batch, actor=actor) for batch in batches]


def _locked_deviation(deviation: Deviation) -> Deviation:
    return Deviation.objects.select_for_update().select_related("protocol_version__protocol").get(pk=deviation.pk)


def deviation_justify(*, deviation: Deviation, actor, justification: str) -> Deviation:
    """Say why the batch departed from its SOP; the deviation stays open until a reviewer approves it."""
    require_role(actor, deviation.lab_id, JUSTIFY_ROLES, "Justifying a deviation")
    text = (justification or "").strip()
    if not text:
        raise ValidationError({"justification": ["Say why the value departed from the SOP."]})
    with transaction.atomic(), audit_context(actor=actor, reason="Justify a deviation"):
        locked = _locked_deviation(deviation)
        if locked.status != DeviationStatus.OPEN:
            if locked.justification == text:
                return locked
            raise ValidationError({"status": [f"This deviation is {locked.status}; its justification is final."]})
        if locked.justification != text:
            locked.justification = text
            locked.justified_by = actor
            locked.save(update_fields=["justification", "justified_by", "updated_at"])
            locked.refresh_from_db(fields=["version"])
        return locked


def deviation_approve(*, deviation: Deviation, actor) -> Deviation:
    """A reviewer accepts a justified deviation; the batch may then be released despite it. Idempotent."""
    require_role(actor, deviation.lab_id, REVIEW_ROLES, "Approving a deviation")
    with transaction.atomic(), audit_context(actor=actor, reason="Approve a deviation"):
        locked = _locked_deviation(deviation)
        if locked.status == DeviationStatus.APPROVED:
            return locked
        if locked.status != DeviationStatus.OPEN:
            raise ValidationError({"status": [f"This deviation is {locked.status} and cannot be approved."]})
        if not locked.justification.strip():
            raise ValidationError({"justification": ["A deviation needs a justification before it can be approved."]})
        if locked.justified_by_id == actor.pk:
            raise PermissionDenied(
                "Nobody approves a deviation they justified themselves; another reviewer of the lab must do it."
            )
        locked.status = DeviationStatus.APPROVED
        locked.approved_by = actor
        locked.approved_at = timezone.now()
        locked.save(update_fields=["status", "approved_by", "approved_at", "updated_at"])
        locked.refresh_from_db(fields=["version"])
        return locked


# --- rules of the one write path (lims.services.records) -------------------------------------------
write_rules.constraint_messages(
    {
        "protocolversion_number_unique": ("number", "This protocol already has a version with this number."),
        "protocolversion_one_effective": ("status", "This protocol already has an effective version."),
        "protocolversion_published_has_approver": ("approved_by", "A published version needs its approver and date."),
        "protocolparameter_name_unique": ("name", "This protocol version already has a parameter with this name."),
        "deviation_approved_is_justified_and_signed": (
            "justification",
            "An approved deviation needs a justification, an approver and the approval date.",
        ),
    }
)


@write_rules.check()
def _pins_follow_effective_versions(model: type[models.Model], lab_id: int, data: dict, current) -> None:
    """A record may follow only an effective SOP version of its own lab and of the right category."""
    version = data.get("protocol_version")
    if version is not None:
        protocol_version_require_pinnable(version, record=model, lab=lab_id)


@write_rules.after_write()
def _deviations_follow_the_records(record: models.Model, actor) -> None:
    """Bring the deviations of every batch the record feeds in line with its pinned SOP versions."""
    deviation_sync_for_record(record=record, actor=actor)


@write_rules.locked(ProtocolVersion)
def _only_drafts_change(version: ProtocolVersion) -> str | None:
    if version.status != VersionStatus.DRAFT:
        return f"Version {version.number} is {version.status}; only a draft can be edited. Start a new version."
    return None
