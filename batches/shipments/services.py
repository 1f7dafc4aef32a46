"""Writes for shipments between labs (STYLE.md 1–2): each one transaction, locked, idempotent, audited.

The producing lab packs and signs; the receiving lab receives or refuses; neither writes the other's
records, except the shipment's status, which both sides move along its one path."""

import datetime as dt
import logging
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.utils import timezone

from batches.choices import AliquotEventKind, AliquotStatus, BatchStatus
from batches.models import (
    Administration,
    Aliquot,
    AliquotEvent,
    BatchEventKind,
    ImpactNotice,
    PartnerLab,
    ProvenanceSnapshot,
    ReceivedAliquot,
    ReceivedAliquotEvent,
    SecretomeBatch,
    Shipment,
    ShipmentItem,
    ShipmentReceipt,
    StorageLocation,
    Study,
)
from batches.models.shipments import ArrivalCondition, NoticeKind, ShipmentStatus, ShippingCondition
from batches.services.records import administration_create, record_update, save_record, validate_record
from batches.shipments.snapshots import provenance_content, provenance_fingerprint
from lims.audit import audit_context
from lims.models import Lab, Membership, Role
from lims.roles import REVIEW_ROLES, WRITE_ROLES, require_role
from lims.services.signatures import signature_sign
from lims.signatures import SignatureMeaning

logger = logging.getLogger(__name__)

ADMIN_ROLES = {Role.LAB_ADMIN}
SHIPPED_STATUSES = {ShipmentStatus.DISPATCHED, ShipmentStatus.RECEIVED, ShipmentStatus.PARTIALLY_RECEIVED}


def _refuse(field: str, message: str) -> None:
    raise ValidationError({field: [message]})


# --- Partner labs --------------------------------------------------------------------------------


def partner_lab_declare(
    *, lab: Lab, actor, partner: Lab, sends_to: bool = True, receives_from: bool = True, note: str = ""
) -> PartnerLab:
    """A lab admin declares this lab's side of a partnership (declaring again changes it)."""
    require_role(actor, lab, ADMIN_ROLES, "Declaring a partner lab")
    if partner.pk == lab.pk:
        _refuse("partner", "A lab cannot be its own partner.")
    with transaction.atomic(), audit_context(actor=actor):
        existing = PartnerLab.objects.select_for_update().filter(lab=lab, partner=partner).first()
        if existing is None:
            row = PartnerLab(
                lab=lab, partner=partner, sends_to=sends_to, receives_from=receives_from, note=note, created_by=actor
            )
            validate_record(row)
            save_record(row)
            return row
        # Declaring again changes the row through the one write path (its rules, version and history).
        data = {"sends_to": sends_to, "receives_from": receives_from, "note": note}
        return record_update(instance=existing, actor=actor, data=data, version=existing.version, roles=ADMIN_ROLES)


def partnership_problem(*, sender_id: int, receiver_id: int) -> str | None:
    """Why `sender` may not ship to `receiver` now, or None (both sides must have declared it)."""
    sides = {
        row.lab_id: row
        for row in PartnerLab.objects.filter(lab_id=sender_id, partner_id=receiver_id)
        | PartnerLab.objects.filter(lab_id=receiver_id, partner_id=sender_id)
    }
    sender_side, receiver_side = sides.get(sender_id), sides.get(receiver_id)
    if sender_side is None or not sender_side.sends_to:
        return "Not a partner lab this lab ships to: a lab admin declares the partner lab (sends to) first."
    if receiver_side is None or not receiver_side.receives_from:
        return "The receiving lab has not declared that it receives from this lab."
    return None


# --- Packing and dispatch ------------------------------------------------------------------------


def _next_code(lab: Lab) -> str:
    taken = set(Shipment.objects.filter(lab=lab, code__startswith="SH-").values_list("code", flat=True))
    number = len(taken) + 1
    while f"SH-{number:04d}" in taken:
        number += 1
    return f"SH-{number:04d}"


def _aliquot_problem(aliquot: Aliquot) -> str | None:
    if aliquot.status != AliquotStatus.AVAILABLE:
        return f"Aliquot {aliquot.code} is {aliquot.status}; only an available aliquot can be shipped."
    if aliquot.batch.status != BatchStatus.RELEASED:
        batch = aliquot.batch
        return (
            f"Aliquot {aliquot.code} is of batch {batch.code}, which is {batch.status}; "
            "only released batches are shipped."
        )
    return None


def shipment_create(
    *,
    lab: Lab,
    actor,
    receiver_id: int,
    aliquot_ids: list[int],
    shipping_condition: str,
    courier: str = "",
    tracking_reference: str = "",
    packed_by=None,
    sent_at: dt.datetime | None = None,
    notes: str = "",
    code: str = "",
) -> Shipment:
    """Pack available aliquots of released batches for a partner; they are reserved until dispatch."""
    require_role(actor, lab, WRITE_ROLES, "Packing a shipment")
    if shipping_condition not in ShippingCondition.values:
        _refuse("shipping_condition", f"Choose one of: {', '.join(ShippingCondition.values)}.")
    if not aliquot_ids:
        _refuse("aliquots", "List at least one aliquot to ship.")
    if len(set(aliquot_ids)) != len(aliquot_ids):
        _refuse("aliquots", "An aliquot is listed more than once.")
    receiver = Lab.objects.filter(pk=receiver_id).first()
    problem = "Not a partner lab this lab ships to." if receiver is None else None
    problem = problem or partnership_problem(sender_id=lab.pk, receiver_id=receiver.pk)
    if problem:
        _refuse("receiver", problem)
    if packed_by is not None and not Membership.objects.filter(user=packed_by, lab=lab).exists():
        _refuse("packed_by", "The packer must be a member of the sending lab.")
    with transaction.atomic(), audit_context(actor=actor):
        aliquots = {
            aliquot.pk: aliquot
            for aliquot in Aliquot.objects.select_for_update(of=("self",))
            .select_related("batch")
            .filter(pk__in=aliquot_ids, lab=lab)
        }
        errors = []
        for aliquot_id in aliquot_ids:
            aliquot = aliquots.get(aliquot_id)
            if aliquot is None:
                errors.append(f"Aliquot id {aliquot_id} is not one of {lab.name}'s aliquots.")
                continue
            problem = _aliquot_problem(aliquot)
            if problem:
                errors.append(problem)
        if errors:
            raise ValidationError({"aliquots": errors})
        shipment = Shipment(
            lab=lab,
            created_by=actor,
            code=code.strip() or _next_code(lab),
            receiver=receiver,
            shipping_condition=shipping_condition,
            courier=courier,
            tracking_reference=tracking_reference,
            packed_by=packed_by or actor,
            sent_at=sent_at,
            notes=notes,
        )
        validate_record(shipment)
        save_record(shipment)
        for aliquot_id in aliquot_ids:
            aliquot = aliquots[aliquot_id]
            ShipmentItem.objects.create(
                lab=lab,
                created_by=actor,
                shipment=shipment,
                aliquot=aliquot,
                batch=aliquot.batch,
                aliquot_code=aliquot.code,
                batch_code=aliquot.batch.code,
                volume_ul=aliquot.volume_ul,
                state=aliquot.state,
                freeze_thaw_count=aliquot.freeze_thaw_count,
            )
        Aliquot.objects.filter(pk__in=aliquot_ids).update(status=AliquotStatus.RESERVED)
    return shipment


def _snapshot_create(
    *, shipment: Shipment, batch: SecretomeBatch, actor, version: int, reason: str, content: dict | None = None
) -> ProvenanceSnapshot:
    content = content if content is not None else provenance_content(batch=batch, shipment=shipment)
    return ProvenanceSnapshot.objects.create(
        lab_id=shipment.lab_id,
        receiver_id=shipment.receiver_id,
        shipment=shipment,
        batch=batch,
        batch_code=batch.code,
        snapshot_version=version,
        content=content,
        fingerprint=provenance_fingerprint(content),
        reason=reason,
        created_by=actor,
    )


def shipment_dispatch(*, shipment: Shipment, actor, password: str, request=None) -> Shipment:
    """A reviewer signs the dispatch; the aliquots leave the lab and each batch's provenance is frozen."""
    require_role(actor, shipment.lab_id, REVIEW_ROLES, "Signing a shipment's dispatch")
    with transaction.atomic(), audit_context(actor=actor):
        locked = Shipment.objects.select_for_update().select_related("lab", "receiver").get(pk=shipment.pk)
        if locked.status != ShipmentStatus.PACKED:
            if locked.status == ShipmentStatus.DISPATCHED:
                return locked
            _refuse(
                "status", f"Shipment {locked.code} is {locked.get_status_display().lower()}; it was dispatched already."
            )
        problem = partnership_problem(sender_id=locked.lab_id, receiver_id=locked.receiver_id)
        if problem:
            _refuse("receiver", problem)
        items = list(locked.items.select_related("batch", "aliquot"))
        unreleased = sorted({item.batch.code for item in items if item.batch.status != BatchStatus.RELEASED})
        if unreleased:
            _refuse("status", f"Batch {', '.join(unreleased)} is no longer released; unpack it before dispatch.")
        now = timezone.now()
        locked.status = ShipmentStatus.DISPATCHED
        locked.dispatched_by = actor
        locked.dispatched_at = now
        locked.sent_at = locked.sent_at or now
        locked.save(update_fields=["status", "dispatched_by", "dispatched_at", "sent_at", "updated_at"])
        signature_sign(
            actor=actor,
            password=password,
            meaning=SignatureMeaning.APPROVED,
            record=locked,
            comment=f"Dispatch of shipment {locked.code} to {locked.receiver.name}",
            request=request,
        )
        aliquot_ids = [item.aliquot_id for item in items]
        Aliquot.objects.filter(pk__in=aliquot_ids).update(status=AliquotStatus.CONSUMED, location=None, position="")
        AliquotEvent.objects.bulk_create(
            AliquotEvent(
                lab_id=locked.lab_id,
                created_by=actor,
                aliquot_id=item.aliquot_id,
                kind=AliquotEventKind.MOVED,
                at=locked.sent_at,
                actor=actor,
                note=f"Shipped to {locked.receiver.name} in {locked.code}"[:200],
            )
            for item in items
        )
        for batch in sorted({item.batch for item in items}, key=lambda b: b.code):
            _snapshot_create(shipment=locked, batch=batch, actor=actor, version=1, reason="Frozen at dispatch")
        locked.refresh_from_db(fields=["version"])
        return locked


# --- Receipt -------------------------------------------------------------------------------------


def _lock_for_receipt(*, shipment: Shipment, actor, action: str) -> Shipment:
    require_role(actor, shipment.receiver_id, WRITE_ROLES, action)
    locked = Shipment.objects.select_for_update().select_related("lab", "receiver").get(pk=shipment.pk)
    receipt = ShipmentReceipt.objects.filter(shipment=locked).first()
    if receipt is not None:
        what = "refused" if receipt.refused else "received"
        _refuse("shipment", f"Shipment {locked.code} was already {what} on {receipt.received_at:%Y-%m-%d %H:%M} UTC.")
    if locked.status != ShipmentStatus.DISPATCHED:
        _refuse("shipment", f"Shipment {locked.code} has not been dispatched yet.")
    return locked


def _receipt_fields(received_at, condition_on_arrival: str, logger_temperature_c) -> dict[str, Any]:
    if condition_on_arrival not in ArrivalCondition.values:
        _refuse("condition_on_arrival", f"Choose one of: {', '.join(ArrivalCondition.values)}.")
    return {
        "received_at": received_at or timezone.now(),
        "condition_on_arrival": condition_on_arrival,
        "logger_temperature_c": logger_temperature_c,
    }


def _save_receipt(receipt: ShipmentReceipt) -> None:
    validate_record(receipt, exclude=["shipment"])
    try:
        with transaction.atomic():
            receipt.save()
    except IntegrityError as exc:
        # Another connection received the same shipment between our lock and insert (only possible
        # without the lock, e.g. raw SQL): the one-receipt-per-shipment key keeps a single receipt.
        raise ValidationError({"shipment": ["This shipment was already received."]}) from exc


def _position_taken(location: StorageLocation, position: str) -> bool:
    if not position:
        return False
    live = [AliquotStatus.AVAILABLE, AliquotStatus.RESERVED]
    return (
        Aliquot.objects.filter(location=location, position=position, status__in=live).exists()
        or ReceivedAliquot.objects.filter(location=location, position=position, status__in=live).exists()
    )


def shipment_receive(
    *,
    shipment: Shipment,
    actor,
    items: list[dict[str, Any]],
    condition_on_arrival: str,
    received_at: dt.datetime | None = None,
    logger_temperature_c: float | None = None,
    notes: str = "",
) -> ShipmentReceipt:
    """The receiving lab accepts or rejects each aliquot (with a reason) and places the accepted ones.

    `items` holds one entry per shipped aliquot: {"item": ShipmentItem id, "accepted": bool,
    "rejection_reason": str, "code": str, "location": StorageLocation | None, "position": str,
    "temperature_c": float | None}."""
    with transaction.atomic(), audit_context(actor=actor):
        locked = _lock_for_receipt(shipment=shipment, actor=actor, action="Receiving a shipment")
        fields = _receipt_fields(received_at, condition_on_arrival, logger_temperature_c)
        shipped = {item.pk: item for item in locked.items.all()}
        errors: dict[str, list[str]] = {}
        seen: set[int] = set()
        for index, entry in enumerate(items):
            item_id = entry.get("item")
            if item_id not in shipped:
                errors[f"items.{index}.item"] = ["Not an aliquot of this shipment."]
            elif item_id in seen:
                errors[f"items.{index}.item"] = ["Listed more than once."]
            seen.add(item_id)
            if not entry.get("accepted") and not (entry.get("rejection_reason") or "").strip():
                errors[f"items.{index}.rejection_reason"] = ["Say why this aliquot is rejected."]
            location = entry.get("location")
            if entry.get("accepted") and location is not None:
                if location.lab_id != locked.receiver_id:
                    errors[f"items.{index}.location"] = ["Choose a storage location of your own lab."]
                elif _position_taken(location, entry.get("position") or ""):
                    errors[f"items.{index}.position"] = ["Another aliquot already sits at this position."]
        missing = [shipped[pk].aliquot_code for pk in shipped if pk not in seen]
        if missing:
            errors.setdefault("items", []).append(f"Accept or reject every aliquot; missing: {', '.join(missing)}.")
        if errors:
            raise ValidationError(errors)
        receipt = ShipmentReceipt(
            lab_id=locked.receiver_id, created_by=actor, shipment=locked, received_by=actor, notes=notes, **fields
        )
        _save_receipt(receipt)
        latest = _latest_snapshots(shipment=locked)
        any_rejected = False
        for index, entry in enumerate(items):
            item = shipped[entry["item"]]
            accepted = bool(entry.get("accepted"))
            any_rejected |= not accepted
            row = ReceivedAliquot(
                lab_id=locked.receiver_id,
                created_by=actor,
                receipt=receipt,
                item=item,
                source_aliquot_id=item.aliquot_id,
                snapshot=latest[item.batch_id],
                code=(entry.get("code") or "").strip() or item.aliquot_code,
                accepted=accepted,
                rejection_reason="" if accepted else entry["rejection_reason"].strip(),
                volume_ul=item.volume_ul,
                state=item.state,
                temperature_c=entry.get("temperature_c"),
                location=entry.get("location") if accepted else None,
                position=(entry.get("position") or "") if accepted else "",
                stored_at=fields["received_at"] if accepted else None,
                freeze_thaw_count=item.freeze_thaw_count,
                status=AliquotStatus.AVAILABLE if accepted else AliquotStatus.DISCARDED,
            )
            try:
                validate_record(row, exclude=["receipt", "item", "snapshot", "source_aliquot"])
            except ValidationError as exc:
                raise ValidationError(
                    {f"items.{index}.{key}": value for key, value in exc.message_dict.items()}
                ) from exc
            save_record(row)
            ReceivedAliquotEvent.objects.create(
                lab_id=locked.receiver_id,
                created_by=actor,
                aliquot=row,
                kind=AliquotEventKind.MOVED if accepted else AliquotEventKind.DISCARDED,
                at=fields["received_at"],
                actor=actor,
                note=(f"Received from {locked.lab.name} in {locked.code}" if accepted else row.rejection_reason)[:200],
            )
        locked.status = ShipmentStatus.PARTIALLY_RECEIVED if any_rejected else ShipmentStatus.RECEIVED
        locked.save(update_fields=["status", "updated_at"])
        return receipt


def shipment_refuse(
    *,
    shipment: Shipment,
    actor,
    reason: str,
    condition_on_arrival: str,
    received_at: dt.datetime | None = None,
    logger_temperature_c: float | None = None,
    notes: str = "",
) -> ShipmentReceipt:
    """The receiving lab refuses the whole shipment (with the reason); nothing enters its storage."""
    if not (reason or "").strip():
        _refuse("reason", "Say why the shipment is refused.")
    with transaction.atomic(), audit_context(actor=actor, reason=reason.strip()):
        locked = _lock_for_receipt(shipment=shipment, actor=actor, action="Refusing a shipment")
        fields = _receipt_fields(received_at, condition_on_arrival, logger_temperature_c)
        receipt = ShipmentReceipt(
            lab_id=locked.receiver_id,
            created_by=actor,
            shipment=locked,
            received_by=actor,
            refused=True,
            refusal_reason=reason.strip(),
            notes=notes,
            **fields,
        )
        _save_receipt(receipt)
        locked.status = ShipmentStatus.REFUSED
        locked.save(update_fields=["status", "updated_at"])
        return receipt


# --- The receiver's use of received aliquots -----------------------------------------------------


def received_aliquot_thaw(*, aliquot: ReceivedAliquot, actor, at: dt.datetime | None = None) -> ReceivedAliquot:
    """A thaw in the receiving lab: the freeze–thaw count continues the producer's."""
    require_role(actor, aliquot.lab_id, WRITE_ROLES, "Thawing an aliquot")
    with transaction.atomic(), audit_context(actor=actor):
        locked = ReceivedAliquot.objects.select_for_update().get(pk=aliquot.pk)
        if locked.status != AliquotStatus.AVAILABLE:
            _refuse("status", f"Aliquot {locked.code} is {locked.status}.")
        # An unknown count stays unknown: adding one to "not recorded" would invent the cycles before it.
        # The thaw itself is still recorded, in the event, and says so.
        note = ""
        if locked.freeze_thaw_count is None:
            note = "Thawed once more; the cycles before receipt were not recorded, so the count stays unknown."
        else:
            locked.freeze_thaw_count += 1
            locked.save(update_fields=["freeze_thaw_count", "updated_at"])
        ReceivedAliquotEvent.objects.create(
            lab_id=locked.lab_id,
            created_by=actor,
            aliquot=locked,
            kind=AliquotEventKind.THAWED,
            at=at or timezone.now(),
            actor=actor,
            note=note,
        )
        locked.refresh_from_db(fields=["version"])
        return locked


def received_aliquot_administer(
    *, aliquot: ReceivedAliquot, actor, study: Study, data: dict[str, Any], consumed: bool = True
) -> Administration:
    """Record an administration of the receiving lab's study that used a received aliquot.

    The administration's batch is the producer's batch (what the animals received); the received aliquot
    is the custody link, and its use is logged in the receiving lab."""
    require_role(actor, aliquot.lab_id, WRITE_ROLES, "Recording an administration")
    if study.lab_id != aliquot.lab_id:
        _refuse("study", "Choose a study of the lab that received the aliquot.")
    with transaction.atomic(), audit_context(actor=actor):
        locked = ReceivedAliquot.objects.select_for_update().select_related("item").get(pk=aliquot.pk)
        if not locked.accepted or locked.status not in {AliquotStatus.AVAILABLE, AliquotStatus.RESERVED}:
            _refuse("received_aliquot", f"Aliquot {locked.code} is {locked.status}; it cannot be used.")
        batch = SecretomeBatch.objects.get(pk=locked.item.batch_id)
        lab = Lab.objects.get(pk=locked.lab_id)
        administration = administration_create(
            lab=lab, actor=actor, data={**data, "study": study, "batch": batch, "received_aliquot": locked}
        )
        ReceivedAliquotEvent.objects.create(
            lab_id=locked.lab_id,
            created_by=actor,
            aliquot=locked,
            kind=AliquotEventKind.USED,
            at=timezone.now(),
            volume_ul=administration.volume_ul,
            administration=administration,
            actor=actor,
            note=f"{study.title} / {administration.group}"[:200],
        )
        if consumed:
            locked.status = AliquotStatus.CONSUMED
            locked.save(update_fields=["status", "updated_at"])
        return administration


# --- After shipping: corrections and notices -----------------------------------------------------

_NOTICE_FOR_EVENT = {
    BatchEventKind.REJECTED: NoticeKind.REJECTED,
    BatchEventKind.RETIRED: NoticeKind.RETIRED,
    BatchEventKind.CORRECTED: NoticeKind.CORRECTED,
}


def _latest_snapshots(*, shipment: Shipment) -> dict[int, ProvenanceSnapshot]:
    latest: dict[int, ProvenanceSnapshot] = {}
    for snapshot in ProvenanceSnapshot.objects.filter(shipment=shipment).order_by("batch_id", "snapshot_version"):
        latest[snapshot.batch_id] = snapshot
    return latest


def _email_configured() -> bool:
    backend = settings.EMAIL_BACKEND
    return backend != "django.core.mail.backends.smtp.EmailBackend" or settings.EMAIL_HOST != "localhost"


def _email_notice(notice_ids: list[int]) -> None:
    for notice in ImpactNotice.objects.filter(pk__in=notice_ids).select_related("lab", "producer"):
        recipients = list(
            Membership.objects.filter(lab_id=notice.lab_id, role__in=[Role.REVIEWER, Role.LAB_ADMIN])
            .exclude(user__email="")
            .values_list("user__email", flat=True)
        )
        if not recipients:
            continue
        try:
            send_mail(
                subject=f"[Secretome LIMS] {notice.get_kind_display()}: {notice.batch_code} "
                f"from {notice.producer.name}",
                message=notice.message,
                from_email=None,
                recipient_list=recipients,
            )
        except OSError:
            logger.exception("could not e-mail impact notice %s", notice.pk)


def snapshot_refresh(
    *, batch: SecretomeBatch, actor, reason: str, kind: str = NoticeKind.SNAPSHOT_UPDATED
) -> list[ImpactNotice]:
    """After the producer's record of a shipped batch changed: a new snapshot version for every shipment
    whose frozen record no longer matches, and a notice to each receiving lab. Earlier versions stay."""
    notices: list[ImpactNotice] = []
    shipments = (
        Shipment.objects.filter(items__batch=batch, status__in=SHIPPED_STATUSES)
        .select_related("lab", "receiver")
        .distinct()
        .order_by("pk")
    )
    with transaction.atomic(), audit_context(actor=actor, reason=reason or None):
        for shipment in shipments:
            latest = (
                ProvenanceSnapshot.objects.filter(shipment=shipment, batch=batch).order_by("-snapshot_version").first()
            )
            content = provenance_content(batch=batch, shipment=shipment)
            fingerprint = provenance_fingerprint(content)
            if latest is not None and latest.fingerprint == fingerprint:
                continue
            version = (latest.snapshot_version + 1) if latest else 1
            snapshot = _snapshot_create(
                shipment=shipment, batch=batch, actor=actor, version=version, reason=reason, content=content
            )
            label = NoticeKind(kind).label
            message = (
                f"{label}: batch {batch.code} from {shipment.lab.name}, which you received in shipment "
                f"{shipment.code}. Reason given: {reason or 'none given'}. The producer's record is now "
                f"snapshot version {version} (fingerprint {snapshot.fingerprint}). Check every use of its aliquots."
            )
            notices.append(
                ImpactNotice.objects.create(
                    lab_id=shipment.receiver_id,
                    created_by=actor,
                    producer_id=shipment.lab_id,
                    batch=batch,
                    batch_code=batch.code,
                    shipment=shipment,
                    snapshot=snapshot,
                    kind=kind,
                    message=message,
                )
            )
    if notices and _email_configured():
        ids = [notice.pk for notice in notices]
        transaction.on_commit(lambda: _email_notice(ids))
    return notices


def batch_event_recorded(*, event) -> None:
    """A rejection, retirement or correction of a batch that was shipped tells every receiving lab."""
    kind = _NOTICE_FOR_EVENT.get(event.kind)
    if kind is None:
        return
    if not ProvenanceSnapshot.objects.filter(batch_id=event.batch_id).exists():
        return
    reason = str((event.data or {}).get("reason") or "")
    snapshot_refresh(batch=event.batch, actor=event.actor, reason=reason, kind=kind)


def qc_result_corrected(*, result) -> None:
    """A verified QC result of a shipped batch was corrected: the receiving labs get the new record."""
    if not ProvenanceSnapshot.objects.filter(batch_id=result.batch_id).exists():
        return
    from batches.models import QCResult

    correction = QCResult.objects.filter(corrects=result).order_by("-pk").first()
    reason = f"QC result {result} corrected" + (f": {correction.correction_reason}" if correction else "")
    actor = correction.created_by if correction else None
    snapshot_refresh(batch=result.batch, actor=actor, reason=reason[:300], kind=NoticeKind.SNAPSHOT_UPDATED)


def impact_notice_acknowledge(*, notice: ImpactNotice, actor) -> ImpactNotice:
    """The receiving lab says it has read the notice; acknowledging twice keeps the first."""
    require_role(actor, notice.lab_id, WRITE_ROLES, "Acknowledging a notice")
    with transaction.atomic(), audit_context(actor=actor):
        ImpactNotice.objects.filter(pk=notice.pk, acknowledged_at__isnull=True).update(
            acknowledged_by=actor, acknowledged_at=timezone.now()
        )
        return ImpactNotice.objects.get(pk=notice.pk)
