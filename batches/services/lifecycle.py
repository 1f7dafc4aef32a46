"""A batch's lifecycle: draft → submitted → released | rejected; retired.

Each transition is atomic, locks the row, is idempotent, and writes a BatchEvent in the same
transaction (STYLE.md 2–3).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction

from batches.choices import QC_NOT_COUNTED, BatchStatus
from batches.models import BatchEvent, BatchEventKind, SecretomeBatch
from batches.services.checklist import checklist_release_blockers
from lims.audit import audit_context
from lims.roles import REVIEW_ROLES, WRITE_ROLES, require_role
from lims.services.records import Blocked
from lims.services.signatures import signature_sign
from lims.signatures import SignatureMeaning
from protocols.selectors import deviation_release_blockers


class ReleaseRefused(Blocked):
    """Release was refused; `blockers` lists every reason, in words a reviewer can act on."""


def batch_release_blockers(*, batch: SecretomeBatch) -> list[str]:
    """Every reason this batch cannot be released now."""
    blockers: list[str] = []
    unverified = batch.qc_results.exclude(status="verified").exclude(status__in=QC_NOT_COUNTED)
    for result in unverified.order_by("assay", "analyte"):
        blockers.append(f"QC result '{result}' is not verified yet.")
    if not batch.qc_results.filter(status="verified").exists():
        blockers.append("The batch has no verified QC result.")
    blockers.extend(checklist_release_blockers(batch=batch))
    blockers.extend(deviation_release_blockers(batch=batch))
    return blockers


def batch_release_blockers_many(*, batches: list[SecretomeBatch]) -> dict[int, list[str]]:
    """batch_release_blockers for a page of batches: QC results in one query, the checklist from current reports."""
    from batches.models import QCResult
    from batches.selectors.checklist import checklist_current_evaluations

    ids = [batch.pk for batch in batches]
    results: dict[int, list] = {pk: [] for pk in ids}
    for result in (
        QCResult.objects.filter(batch_id__in=ids).exclude(status__in=QC_NOT_COUNTED).order_by("assay", "analyte")
    ):
        results[result.batch_id].append(result)
    evaluations, _ = checklist_current_evaluations(batch_ids=ids)
    blockers: dict[int, list[str]] = {}
    for batch in batches:
        found = [f"QC result '{r}' is not verified yet." for r in results[batch.pk] if r.status != "verified"]
        if not any(r.status == "verified" for r in results[batch.pk]):
            found.append("The batch has no verified QC result.")
        found.extend(evaluations[batch.pk].release_problems)
        found.extend(deviation_release_blockers(batch=batch))
        blockers[batch.pk] = found
    return blockers


def _transition(
    *, batch: SecretomeBatch, actor, target: str, allowed_from: set[str], kind: str, data: dict | None = None
) -> SecretomeBatch:
    locked = SecretomeBatch.objects.select_for_update().get(pk=batch.pk)
    if locked.status == target:
        return locked
    if locked.status not in allowed_from:
        raise ValidationError({"status": [f"A {locked.get_status_display().lower()} batch cannot become {target}."]})
    locked.status = target
    locked.save(update_fields=["status", "updated_at"])
    BatchEvent.objects.create(lab_id=locked.lab_id, batch=locked, kind=kind, actor=actor, data=data or {})
    locked.refresh_from_db(fields=["version"])
    return locked


def batch_submit(*, batch: SecretomeBatch, actor) -> SecretomeBatch:
    require_role(actor, batch.lab_id, WRITE_ROLES, "Submitting a batch")
    with transaction.atomic(), audit_context(actor=actor):
        return _transition(
            batch=batch,
            actor=actor,
            target=BatchStatus.SUBMITTED,
            allowed_from={BatchStatus.DRAFT},
            kind=BatchEventKind.SUBMITTED,
        )


def batch_return_for_changes(*, batch: SecretomeBatch, actor, reason: str) -> SecretomeBatch:
    """A reviewer sends a submitted batch back to its technician as a draft, saying what to change.

    The reason is kept on the event and in the audit trail; the batch is submitted again when done."""
    require_role(actor, batch.lab_id, REVIEW_ROLES, "Returning a batch for changes")
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": ["Say what the technician should change."]})
    with transaction.atomic(), audit_context(actor=actor, reason=reason):
        locked = SecretomeBatch.objects.select_for_update().get(pk=batch.pk)
        if locked.status == BatchStatus.DRAFT:
            last = locked.events.order_by("-at", "-pk").first()
            if last is not None and last.kind == BatchEventKind.RETURNED and last.data.get("reason") == reason:
                return locked
            raise ValidationError({"status": [f"Batch {locked.code} is a draft; only a submitted batch is returned."]})
        return _transition(
            batch=locked,
            actor=actor,
            target=BatchStatus.DRAFT,
            allowed_from={BatchStatus.SUBMITTED},
            kind=BatchEventKind.RETURNED,
            data={"reason": reason},
        )


def batch_is_own_work(batch: SecretomeBatch, user) -> bool:
    """The user operated the batch or recorded it: they do not release or reject it (never your own work)."""
    return user.pk in {batch.operator_id, batch.created_by_id}


def _refuse_own_batch(batch: SecretomeBatch, actor, action: str) -> None:
    if batch_is_own_work(batch, actor):
        raise PermissionDenied(
            f"Nobody {action} a batch they made or recorded; another reviewer of the lab must do it."
        )


def batch_release(*, batch: SecretomeBatch, actor, password: str, request=None) -> SecretomeBatch:
    """Release a submitted batch; releasing is an electronic signature (meaning "released")."""
    require_role(actor, batch.lab_id, REVIEW_ROLES, "Releasing a batch")
    with transaction.atomic(), audit_context(actor=actor):
        locked = SecretomeBatch.objects.select_for_update().get(pk=batch.pk)
        _refuse_own_batch(locked, actor, "releases")
        if locked.status == BatchStatus.RELEASED:
            return locked
        blockers = batch_release_blockers(batch=locked)
        if blockers:
            raise ReleaseRefused(blockers)
        released = _transition(
            batch=locked,
            actor=actor,
            target=BatchStatus.RELEASED,
            allowed_from={BatchStatus.SUBMITTED},
            kind=BatchEventKind.RELEASED,
        )
        signature_sign(
            actor=actor, password=password, meaning=SignatureMeaning.RELEASED, record=released, request=request
        )
        return released


def batch_reject(*, batch: SecretomeBatch, actor, reason: str, password: str, request=None) -> SecretomeBatch:
    """Reject a submitted batch; rejecting is an electronic signature (meaning "rejected") with its reason."""
    require_role(actor, batch.lab_id, REVIEW_ROLES, "Rejecting a batch")
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the batch is rejected."]})
    with transaction.atomic(), audit_context(actor=actor, reason=reason):
        locked = SecretomeBatch.objects.select_for_update().get(pk=batch.pk)
        _refuse_own_batch(locked, actor, "rejects")
        if locked.status == BatchStatus.REJECTED:
            return locked
        rejected = _transition(
            batch=locked,
            actor=actor,
            target=BatchStatus.REJECTED,
            allowed_from={BatchStatus.SUBMITTED},
            kind=BatchEventKind.REJECTED,
            data={"reason": reason},
        )
        signature_sign(
            actor=actor,
            password=password,
            meaning=SignatureMeaning.REJECTED,
            record=rejected,
            comment=reason.strip(),
            request=request,
        )
        return rejected


def batch_retire(*, batch: SecretomeBatch, actor, reason: str) -> SecretomeBatch:
    require_role(actor, batch.lab_id, REVIEW_ROLES | {"lab_admin"}, "Retiring a batch")
    if not reason.strip():
        raise ValidationError({"reason": ["Say why the batch is retired."]})
    with transaction.atomic(), audit_context(actor=actor, reason=reason):
        return _transition(
            batch=batch,
            actor=actor,
            target=BatchStatus.RETIRED,
            allowed_from={BatchStatus.DRAFT, BatchStatus.SUBMITTED, BatchStatus.RELEASED, BatchStatus.REJECTED},
            kind=BatchEventKind.RETIRED,
            data={"reason": reason},
        )
