"""Correcting a released batch: it never changes; it is retired with the reason and replaced by a new draft.

(A verified QC result is corrected by `batches.services.qc.qc_result_correct`.)
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from batches.choices import BatchStatus
from batches.models import BatchEvent, BatchEventKind, SecretomeBatch
from batches.services.records import RecordLocked, record_create
from lims.audit import audit_context
from lims.roles import REVIEW_ROLES, require_role

# Bookkeeping that a correction does not copy: it is a new record with its own code, status and link.
_NOT_COPIED = {"id", "lab", "code", "status", "created_at", "created_by", "updated_at", "version", "corrects"}


def _production_fields(batch: SecretomeBatch) -> dict:
    return {
        field.name: getattr(batch, field.name)
        for field in SecretomeBatch._meta.concrete_fields
        if field.name not in _NOT_COPIED and field.name != "correction_reason"
    }


def _correction_code(batch: SecretomeBatch) -> str:
    taken = set(
        SecretomeBatch.objects.filter(lab_id=batch.lab_id, code__startswith=f"{batch.code}-C").values_list(
            "code", flat=True
        )
    )
    number = 1
    while f"{batch.code}-C{number}" in taken:
        number += 1
    return f"{batch.code}-C{number}"


def batch_correct(*, batch: SecretomeBatch, actor, reason: str) -> SecretomeBatch:
    """A reviewer corrects a released batch: it is retired with the reason, and a new draft batch
    `<code>-C<n>` copying its production fields and linked to it (`corrects`) takes its place, to be
    completed, submitted and released again. Asking twice returns the same correction."""
    require_role(actor, batch.lab_id, REVIEW_ROLES, "Correcting a released batch")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say why the released batch is corrected."]})
    with transaction.atomic(), audit_context(actor=actor, reason=reason):
        locked = SecretomeBatch.objects.select_for_update().select_related("lab").get(pk=batch.pk)
        if locked.status == BatchStatus.RETIRED:
            existing = locked.corrections.order_by("pk").first()
            if existing is not None:
                return existing
        if locked.status != BatchStatus.RELEASED:
            raise RecordLocked(
                f"Batch {locked.code} is {locked.status}; only a released batch is corrected by a new batch. "
                "A draft or submitted batch is edited directly.",
                current_version=locked.version,
            )
        correction = record_create(
            model=SecretomeBatch,
            lab=locked.lab,
            actor=actor,
            data={
                **_production_fields(locked),
                "code": _correction_code(locked),
                "corrects": locked,
                "correction_reason": reason,
            },
            roles=REVIEW_ROLES,
            reason=reason,
        )
        BatchEvent.objects.create(
            lab_id=locked.lab_id,
            batch=correction,
            kind=BatchEventKind.CREATED,
            actor=actor,
            data={"corrects": locked.code, "reason": reason},
        )
        locked.status = BatchStatus.RETIRED
        locked.save(update_fields=["status", "updated_at"])
        BatchEvent.objects.create(
            lab_id=locked.lab_id,
            batch=locked,
            kind=BatchEventKind.CORRECTED,
            actor=actor,
            data={"corrected_by": correction.code, "reason": reason},
        )
        return correction
