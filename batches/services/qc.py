"""QC results: recorded against the specification in force, then verified or rejected by a reviewer."""

import datetime as dt
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Case, IntegerField, Value, When
from django.utils import timezone

from batches.choices import BatchStatus, QCOutcome, QCStatus
from batches.models import QCResult, QCSpecification
from batches.services.records import (
    RecordLocked,
    check_version,
    record_create,
    record_update,
    save_record,
    validate_record,
)
from lims.audit import audit_context
from lims.models import Lab, Membership, Role
from lims.roles import REVIEW_ROLES, WRITE_ROLES, require_role
from lims.services.signatures import signature_sign
from lims.signatures import SignatureMeaning

# Mass concentrations convert into each other; every other unit must match the specification's.
_TO_UG_PER_ML = {"mg/mL": 1e3, "µg/mL": 1.0, "ng/mL": 1e-3, "pg/mL": 1e-6}
_SEVERITY = {QCOutcome.PASS: 0, QCOutcome.WARN: 1, QCOutcome.FAIL: 2}


def qc_specification_in_force(
    *, lab_id: int, assay: str, analyte: str, product_type: str, on: dt.date
) -> QCSpecification | None:
    """The specification that applies: the analyte's own before the assay-wide one, the product type's own
    before the one for every product type, then the latest that took effect on or before `on`."""
    return (
        QCSpecification.objects.filter(
            lab_id=lab_id,
            assay=assay,
            analyte__in={analyte, ""},
            product_type__in={product_type, ""},
            effective_from__lte=on,
        )
        .annotate(
            analyte_rank=Case(When(analyte="", then=Value(1)), default=Value(0), output_field=IntegerField()),
            product_rank=Case(When(product_type="", then=Value(1)), default=Value(0), output_field=IntegerField()),
        )
        .order_by("analyte_rank", "product_rank", "-effective_from", "-spec_version")
        .first()
    )


def _in_spec_unit(specification: QCSpecification, value: float, unit: str) -> float:
    if not specification.unit or unit == specification.unit:
        return value
    if unit in _TO_UG_PER_ML and specification.unit in _TO_UG_PER_ML:
        return value * _TO_UG_PER_ML[unit] / _TO_UG_PER_ML[specification.unit]
    raise ValidationError(
        {
            "unit": [
                f"The specification ({specification}) is in {specification.unit}; {unit or 'no unit'} cannot be "
                f"converted to it. Record the value in {specification.unit}."
            ]
        }
    )


def qc_outcome(*, specification: QCSpecification, value: float | None, unit: str, result_text: str) -> str:
    """pass, warn or fail against the specification; a qualitative and a numeric limit both count."""
    outcomes: list[str] = []
    if specification.expected_text:
        if result_text:
            outcomes.append(QCOutcome.PASS if result_text == specification.expected_text else QCOutcome.FAIL)
        elif specification.min_value is None and specification.max_value is None:
            raise ValidationError(
                {
                    "result_text": [
                        f"The specification ({specification}) expects a qualitative result "
                        f"({specification.expected_text})."
                    ]
                }
            )
    if specification.min_value is not None or specification.max_value is not None:
        if value is None:
            if not outcomes:
                raise ValidationError(
                    {"value": [f"The specification ({specification}) has numeric limits; record the value."]}
                )
        else:
            measured = _in_spec_unit(specification, value, unit)
            low, high = specification.min_value, specification.max_value
            if (low is not None and measured < low) or (high is not None and measured > high):
                outcomes.append(QCOutcome.FAIL)
            elif (specification.warn_min is not None and measured < specification.warn_min) or (
                specification.warn_max is not None and measured > specification.warn_max
            ):
                outcomes.append(QCOutcome.WARN)
            else:
                outcomes.append(QCOutcome.PASS)
    return max(outcomes, key=_SEVERITY.__getitem__)


def _judged(*, lab_id: int, values: dict[str, Any]) -> dict[str, Any]:
    if values.get("value") is None and not values.get("result_text"):
        return {"specification": None, "outcome": ""}  # no result recorded yet: nothing to judge
    batch = values["batch"]
    specification = qc_specification_in_force(
        lab_id=lab_id,
        assay=values["assay"],
        analyte=values.get("analyte") or "",
        product_type=batch.product_type,
        # A result whose day is not recorded is judged against the specification in force today.
        on=values.get("performed_on") or timezone.localdate(),
    )
    if specification is None:
        return {"specification": None, "outcome": ""}
    outcome = qc_outcome(
        specification=specification,
        value=values.get("value"),
        unit=values.get("unit") or "",
        result_text=values.get("result_text") or "",
    )
    return {"specification": specification, "outcome": outcome}


def _check_links(*, lab_id: int, values: dict[str, Any], kept_performer=None) -> None:
    """`kept_performer`: who ran the assay as stored; their membership was checked when they were named, and
    a colleague may still fix the result, or correct it, after they have left the lab."""
    batch = values["batch"]
    if batch.status == BatchStatus.RETIRED:
        raise RecordLocked(f"Batch {batch.code} is retired; no QC result can be recorded for it.")
    reference = values.get("reference_batch")
    if reference is not None and reference.pk == batch.pk:
        raise ValidationError({"reference_batch": ["A batch cannot be its own reference batch."]})
    performer = values["performed_by"]
    if performer != kept_performer and not Membership.objects.filter(user=performer, lab_id=lab_id).exists():
        raise ValidationError({"performed_by": [f"{performer} is not a member of the lab."]})


def qc_result_record(*, lab: Lab, actor, data: dict[str, Any], reason: str | None = None) -> QCResult:
    """Record a measurement; its outcome is computed against the specification in force on performed_on."""
    values = {"performed_by": actor, **data}
    require_role(actor, lab, WRITE_ROLES, "Recording a QC result")
    _check_links(lab_id=lab.pk, values=values)
    return record_create(
        model=QCResult, lab=lab, actor=actor, data={**values, **_judged(lab_id=lab.pk, values=values)}, reason=reason
    )


_JUDGED_FIELDS = ("batch", "assay", "analyte", "value", "unit", "result_text", "performed_on", "performed_by")


def qc_result_update(
    *, result: QCResult, actor, data: dict[str, Any], version: int, reason: str | None = None
) -> QCResult:
    """Correct a result still waiting for review; the outcome is computed again (on a submitted batch, with
    a `reason`)."""
    require_role(actor, result.lab_id, WRITE_ROLES, "Correcting a QC result")
    with transaction.atomic():
        locked = QCResult.objects.select_for_update().select_related("batch").get(pk=result.pk)
        check_version(locked, version)
        if locked.status != QCStatus.RECORDED:
            raise RecordLocked(
                f"This QC result is {locked.status}; it cannot be changed. Record the measurement again.",
                current_version=locked.version,
            )
        values = {name: getattr(locked, name) for name in _JUDGED_FIELDS} | {"reference_batch": locked.reference_batch}
        values |= data
        _check_links(lab_id=locked.lab_id, values=values, kept_performer=locked.performed_by)
        return record_update(
            instance=locked,
            actor=actor,
            data={**data, **_judged(lab_id=locked.lab_id, values=values)},
            version=version,
            reason=reason,
        )


# What a correction copies from the result it corrects (the rest is computed again or starts afresh).
_COPIED_FIELDS = (
    "batch",
    "assay",
    "sample",
    "analyte",
    "method",
    "instrument",
    "value",
    "unit",
    "result_text",
    "performed_on",
    "performed_by",
    "reference_batch",
    "raw_data",
    "protocol_version",
)
CORRECT_ROLES = {Role.TECHNICIAN, Role.REVIEWER}


def qc_result_correct(*, result: QCResult, actor, data: dict[str, Any], reason: str) -> QCResult:
    """A verified result never changes; its correction is a new recorded result linked to it (`corrects`),
    with the old one's values overlaid with `data`, its outcome judged again and the reason kept with it.
    The verified result is superseded: it no longer counts, and the correction is reviewed like any result."""
    require_role(actor, result.lab_id, CORRECT_ROLES, "Correcting a verified QC result")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the verified result is corrected."]})
    with transaction.atomic(), audit_context(actor=actor, reason=reason):
        locked = QCResult.objects.select_for_update().select_related("batch", "lab").get(pk=result.pk)
        if locked.status == QCStatus.SUPERSEDED:
            newer = locked.corrections.order_by("-pk").first()
            raise RecordLocked(
                f"This QC result was already corrected (by QC result {newer.pk if newer else '?'}); "
                "correct the newest version.",
                current_version=locked.version,
            )
        if locked.status != QCStatus.VERIFIED:
            raise RecordLocked(
                f"This QC result is {locked.status}; only a verified result is corrected by a new version. "
                "A result waiting for review is edited directly.",
                current_version=locked.version,
            )
        values = {name: getattr(locked, name) for name in _COPIED_FIELDS} | data
        _check_links(lab_id=locked.lab_id, values=values, kept_performer=locked.performed_by)
        correction = record_create(
            model=QCResult,
            lab=locked.lab,
            actor=actor,
            data={
                **values,
                **_judged(lab_id=locked.lab_id, values=values),
                "corrects": locked,
                "correction_reason": reason,
            },
            roles=CORRECT_ROLES,
            reason=reason,
        )
        locked.status = QCStatus.SUPERSEDED
        save_record(locked, update_fields=["status", "updated_at"])
        return correction


def _review(*, result: QCResult, actor, action: str) -> QCResult:
    locked = QCResult.objects.select_for_update().get(pk=result.pk)
    if actor.pk in {locked.performed_by_id, locked.created_by_id}:
        raise PermissionDenied(f"Nobody {action} their own QC result; another reviewer of the lab must do it.")
    return locked


def qc_result_verify(
    *, result: QCResult, actor, password: str, acceptance_justification: str = "", request=None
) -> QCResult:
    """A reviewer verifies and signs the result (an electronic signature with the meaning "verified");
    an out-of-spec result may be accepted with a justification, kept with the result and the signature."""
    require_role(actor, result.lab_id, REVIEW_ROLES, "Verifying a QC result")
    justification = acceptance_justification.strip()
    with transaction.atomic(), audit_context(actor=actor, reason=justification or "QC result verified"):
        locked = _review(result=result, actor=actor, action="verifies")
        if locked.status == QCStatus.VERIFIED:
            return locked
        if locked.status in {QCStatus.REJECTED, QCStatus.SUPERSEDED}:
            raise RecordLocked(
                f"This QC result is {locked.status}; it cannot be verified.", current_version=locked.version
            )
        locked.status = QCStatus.VERIFIED
        locked.verified_by = actor
        locked.verified_at = timezone.now()
        fields = ["status", "verified_by", "verified_at", "updated_at"]
        if justification:
            locked.acceptance_justification = justification
            fields.append("acceptance_justification")
        validate_record(locked)
        save_record(locked, update_fields=fields)
        signature_sign(
            actor=actor,
            password=password,
            meaning=SignatureMeaning.VERIFIED,
            record=locked,
            comment=justification,
            request=request,
        )
        locked.refresh_from_db(fields=["version"])
        return locked


def qc_result_reject(*, result: QCResult, actor, reason: str, password: str, request=None) -> QCResult:
    """A reviewer refuses a result (wrong sample, failed run) and signs it (meaning "rejected");
    it then counts for nothing."""
    require_role(actor, result.lab_id, REVIEW_ROLES, "Rejecting a QC result")
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the result is rejected."]})
    with transaction.atomic(), audit_context(actor=actor, reason=reason.strip()):
        locked = _review(result=result, actor=actor, action="rejects")
        if locked.status == QCStatus.REJECTED:
            return locked
        if locked.status in {QCStatus.VERIFIED, QCStatus.SUPERSEDED}:
            raise RecordLocked(
                f"This QC result is already {locked.status}; it cannot be rejected.", current_version=locked.version
            )
        locked.status = QCStatus.REJECTED
        save_record(locked, update_fields=["status", "updated_at"])
        signature_sign(
            actor=actor,
            password=password,
            meaning=SignatureMeaning.REJECTED,
            record=locked,
            comment=reason.strip(),
            request=request,
        )
        locked.refresh_from_db(fields=["version"])
        return locked
