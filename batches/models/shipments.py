"""Secretome that travels: partner labs, shipments of aliquots, frozen provenance, receipt and notices.

These are the only models whose foreign keys cross labs, each on purpose: a shipment names its receiving
lab; a received aliquot (owned by the receiver) names the source aliquot it continues; a provenance
snapshot and a notice name the producer's batch. The receiver reads the producer's records only through
the snapshots shipped to it, never through these links.
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

from batches import choices
from lims import constraints as c
from lims.audit import tracked
from lims.models import LabOwnedModel, lab_owned_triggers


class ShippingCondition(models.TextChoices):
    DRY_ICE = "dry_ice", "Dry ice (−78 °C)"
    LN2_DRY_SHIPPER = "ln2_dry_shipper", "Liquid nitrogen dry shipper (≤ −150 °C)"
    REFRIGERATED = "refrigerated", "4 °C (cool packs)"
    AMBIENT = "ambient", "Ambient"


class ShipmentStatus(models.TextChoices):
    PACKED = "packed", "Packed (not dispatched)"
    DISPATCHED = "dispatched", "Dispatched"
    RECEIVED = "received", "Received"
    PARTIALLY_RECEIVED = "partially_received", "Partially received"
    REFUSED = "refused", "Refused"


class ArrivalCondition(models.TextChoices):
    INTACT = "intact", "Intact, coolant present"
    COOLANT_DEPLETED = "coolant_depleted", "Coolant depleted"
    DAMAGED = "damaged", "Package damaged"
    THAWED = "thawed", "Contents thawed"
    OTHER = "other", "Other (see notes)"


class NoticeKind(models.TextChoices):
    REJECTED = "rejected", "Batch rejected after shipping"
    RETIRED = "retired", "Batch retired after shipping"
    CORRECTED = "corrected", "Batch corrected after shipping"
    SNAPSHOT_UPDATED = "snapshot_updated", "Producer's record changed after shipping"


@tracked
class PartnerLab(LabOwnedModel):
    """One lab's side of a partnership: whether it sends to and/or receives from the partner.

    A shipment needs both sides: the sender declares it sends to the receiver, the receiver declares it
    receives from the sender."""

    partner = models.ForeignKey("lims.Lab", on_delete=models.PROTECT, related_name="+")
    sends_to = models.BooleanField(default=True, help_text="This lab may ship aliquots to the partner.")
    receives_from = models.BooleanField(default=True, help_text="This lab accepts shipments from the partner.")
    note = models.CharField(max_length=300, blank=True)

    class Meta(LabOwnedModel.Meta):
        ordering = ["lab", "partner"]
        constraints = [
            models.UniqueConstraint(fields=["lab", "partner"], name="partnerlab_once_per_partner"),
            models.CheckConstraint(condition=~Q(partner=models.F("lab")), name="partnerlab_not_self"),
        ]

    def __str__(self) -> str:
        return f"{self.lab} ↔ {self.partner}"


@tracked
class Shipment(LabOwnedModel):
    """Aliquots packed by the producing lab (`lab`) for a partner (`receiver`)."""

    code = models.CharField(max_length=40, help_text="Shipment code, unique in the sending lab.")
    receiver = models.ForeignKey("lims.Lab", on_delete=models.PROTECT, related_name="+")
    shipping_condition = models.CharField(max_length=20, choices=ShippingCondition.choices)
    courier = models.CharField(max_length=120, blank=True)
    tracking_reference = models.CharField(max_length=120, blank=True)
    packed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    sent_at = models.DateTimeField(null=True, blank=True, help_text="When it left the lab.")
    status = models.CharField(max_length=20, choices=ShipmentStatus.choices, default=ShipmentStatus.PACKED)
    dispatched_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    dispatched_at = models.DateTimeField(null=True, blank=True)
    notes = models.TextField(blank=True)

    class Meta(LabOwnedModel.Meta):
        triggers = [*LabOwnedModel.Meta.triggers, c.never_deleted()]
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["receiver", "status"])]
        constraints = [
            c.unique_code_per_lab("shipment"),
            c.in_choices("shipment", "shipping_condition", ShippingCondition),
            c.in_choices("shipment", "status", ShipmentStatus),
            models.CheckConstraint(condition=~Q(receiver=models.F("lab")), name="shipment_receiver_not_sender"),
            models.CheckConstraint(
                condition=Q(status=ShipmentStatus.PACKED) | Q(dispatched_at__isnull=False, dispatched_by__isnull=False),
                name="shipment_dispatched_is_signed",
            ),
        ]

    def __str__(self) -> str:
        return self.code


@tracked
class ShipmentItem(LabOwnedModel):
    """One aliquot in a shipment, with what the receiver may know of it frozen at packing."""

    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="items")
    aliquot = models.ForeignKey("batches.Aliquot", on_delete=models.PROTECT, related_name="shipment_items")
    batch = models.ForeignKey("batches.SecretomeBatch", on_delete=models.PROTECT, related_name="shipment_items")
    aliquot_code = models.CharField(max_length=50)
    batch_code = models.CharField(max_length=40)
    volume_ul = models.FloatField()
    state = models.CharField(max_length=12, choices=choices.AliquotState.choices)
    freeze_thaw_count = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Cycles at packing, as the producer recorded them (empty = not recorded)."
    )

    class Meta(LabOwnedModel.Meta):
        triggers = [*LabOwnedModel.Meta.triggers, c.never_deleted()]
        ordering = ["shipment", "aliquot_code"]
        constraints = [
            models.UniqueConstraint(fields=["shipment", "aliquot"], name="shipmentitem_aliquot_once_per_shipment"),
        ]

    def __str__(self) -> str:
        return f"{self.shipment} / {self.aliquot_code}"


@tracked
class ProvenanceSnapshot(models.Model):
    """The producer's record of one shipped batch, frozen at dispatch: append-only, fingerprinted.

    A later change to the producer's record (a rejection, a retirement, a correction) adds a new
    version; the versions before it stay as they were shipped."""

    lab = models.ForeignKey("lims.Lab", on_delete=models.PROTECT, related_name="+", help_text="Producing lab.")
    receiver = models.ForeignKey("lims.Lab", on_delete=models.PROTECT, related_name="+")
    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="snapshots")
    batch = models.ForeignKey("batches.SecretomeBatch", on_delete=models.PROTECT, related_name="snapshots")
    batch_code = models.CharField(max_length=40)
    snapshot_version = models.PositiveIntegerField(default=1)
    content = models.JSONField(help_text="The producer's record as canonical JSON.")
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of the canonical JSON of `content`.")
    reason = models.CharField(max_length=300, blank=True, help_text="Why this version was made.")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta:
        ordering = ["shipment", "batch_code", "snapshot_version"]
        constraints = [
            models.UniqueConstraint(
                fields=["shipment", "batch", "snapshot_version"], name="provenancesnapshot_version_unique"
            ),
            models.CheckConstraint(condition=Q(fingerprint__regex=r"^[0-9a-f]{64}$"), name="provenancesnapshot_hash"),
        ]
        indexes = [models.Index(fields=["receiver", "batch"])]
        triggers = [
            pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete),
            c.SameLab(),  # the producer's snapshot of the producer's batch in the producer's shipment
        ]

    def __str__(self) -> str:
        return f"{self.batch_code} v{self.snapshot_version} ({self.fingerprint[:12]})"


@tracked
class ShipmentReceipt(LabOwnedModel):
    """The receiving lab's (`lab`) account of a shipment's arrival; one per shipment."""

    shipment = models.OneToOneField(Shipment, on_delete=models.PROTECT, related_name="receipt")
    refused = models.BooleanField(default=False)
    received_at = models.DateTimeField()
    received_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    condition_on_arrival = models.CharField(max_length=20, choices=ArrivalCondition.choices)
    logger_temperature_c = models.FloatField(
        null=True, blank=True, help_text="Temperature logger reading on arrival (highest during transit), °C."
    )
    notes = models.TextField(blank=True)
    refusal_reason = models.TextField(blank=True)

    class Meta(LabOwnedModel.Meta):
        triggers = [*lab_owned_triggers(exempt=("shipment",)), c.never_deleted()]
        ordering = ["-received_at"]
        constraints = [
            c.in_choices("shipmentreceipt", "condition_on_arrival", ArrivalCondition),
            c.between("shipmentreceipt", "logger_temperature_c", -200, 60),
            models.CheckConstraint(
                condition=Q(refused=False) | ~Q(refusal_reason=""), name="shipmentreceipt_refusal_has_reason"
            ),
        ]

    def __str__(self) -> str:
        return f"Receipt of {self.shipment}"


@tracked
class ReceivedAliquot(LabOwnedModel):
    """A shipped aliquot as the receiving lab (`lab`) holds it: accepted into its storage, or rejected."""

    receipt = models.ForeignKey(ShipmentReceipt, on_delete=models.PROTECT, related_name="aliquots")
    item = models.OneToOneField(ShipmentItem, on_delete=models.PROTECT, related_name="received")
    source_aliquot = models.ForeignKey("batches.Aliquot", on_delete=models.PROTECT, related_name="received_copies")
    snapshot = models.ForeignKey(ProvenanceSnapshot, on_delete=models.PROTECT, related_name="received_aliquots")
    code = models.CharField(max_length=50, help_text="Code in the receiving lab (the producer's code by default).")
    accepted = models.BooleanField()
    rejection_reason = models.CharField(max_length=300, blank=True)
    volume_ul = models.FloatField()
    state = models.CharField(max_length=12, choices=choices.AliquotState.choices)
    temperature_c = models.FloatField(null=True, blank=True, help_text="Storage temperature, °C.")
    location = models.ForeignKey(
        "batches.StorageLocation", null=True, blank=True, on_delete=models.PROTECT, related_name="received_aliquots"
    )
    position = models.CharField(max_length=4, blank=True)
    stored_at = models.DateTimeField(null=True, blank=True)
    freeze_thaw_count = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Cycles so far, in every lab (empty = the producer did not record them)."
    )
    status = models.CharField(max_length=10, choices=choices.AliquotStatus.choices)

    class Meta(LabOwnedModel.Meta):
        triggers = [*lab_owned_triggers(exempt=("item", "source_aliquot", "snapshot")), c.never_deleted()]
        ordering = ["code"]
        constraints = [
            c.unique_code_per_lab("receivedaliquot"),
            c.in_choices("receivedaliquot", "status", choices.AliquotStatus),
            c.between("receivedaliquot", "temperature_c", -200, 40),
            models.CheckConstraint(
                condition=Q(accepted=True) | ~Q(rejection_reason=""), name="receivedaliquot_rejection_has_reason"
            ),
            models.UniqueConstraint(
                fields=["location", "position"],
                condition=Q(status__in=["available", "reserved"]) & ~Q(position=""),
                name="receivedaliquot_one_per_position",
            ),
        ]

    def __str__(self) -> str:
        return self.code


@tracked
class ReceivedAliquotEvent(LabOwnedModel):
    """A thaw, a use, a move or a discard of a received aliquot in the receiving lab."""

    aliquot = models.ForeignKey(ReceivedAliquot, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=12, choices=choices.AliquotEventKind.choices)
    at = models.DateTimeField()
    volume_ul = models.FloatField(null=True, blank=True)
    administration = models.ForeignKey(
        "batches.Administration", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta(LabOwnedModel.Meta):
        ordering = ["aliquot", "at"]
        constraints = [c.in_choices("receivedaliquotevent", "kind", choices.AliquotEventKind)]

    def __str__(self) -> str:
        return f"{self.aliquot} {self.kind}"


@tracked
class ImpactNotice(LabOwnedModel):
    """Told to a receiving lab (`lab`): a batch it received was rejected, retired or corrected."""

    producer = models.ForeignKey("lims.Lab", on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey("batches.SecretomeBatch", on_delete=models.PROTECT, related_name="impact_notices")
    batch_code = models.CharField(max_length=40)
    shipment = models.ForeignKey(Shipment, on_delete=models.PROTECT, related_name="notices")
    snapshot = models.ForeignKey(ProvenanceSnapshot, on_delete=models.PROTECT, related_name="notices")
    kind = models.CharField(max_length=20, choices=NoticeKind.choices)
    message = models.TextField()
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    acknowledged_at = models.DateTimeField(null=True, blank=True)

    class Meta(LabOwnedModel.Meta):
        triggers = [*lab_owned_triggers(exempt=("batch", "shipment", "snapshot"))]
        ordering = ["-created_at"]
        constraints = [
            c.in_choices("impactnotice", "kind", NoticeKind),
            models.UniqueConstraint(fields=["snapshot"], name="impactnotice_once_per_snapshot"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()}: {self.batch_code}"
