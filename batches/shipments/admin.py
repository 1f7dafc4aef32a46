"""Shipments in the admin: read-only pages for lab administrators (lims.admin_base), each scoped to the labs
they administer. A shipment, its snapshots and its notices concern two labs: the sending lab's admins see what
their lab packed, sent and froze; the receiving lab's admins see what was dispatched to their lab, the snapshots
shipped to it and its own receipt, received aliquots and notices — never the producer's other records."""

from django.contrib import admin
from django.db.models import Q

from batches import models as m
from batches.models.shipments import ShipmentStatus
from lims.admin_base import LabOwnedInline, LabScopedAdmin, LimsAdmin


class _BothSidesAdmin(LabScopedAdmin):
    """Rows of the sending lab (`lab`) that the receiving lab may also read once the shipment left."""

    receiver_path = "receiver"
    dispatched_only = True

    def scope(self, request, queryset):
        if request.user.is_superuser:
            return queryset
        labs = self.admin_lab_ids(request)
        received = Q(**{f"{self.receiver_path}__in": labs})
        if self.dispatched_only:
            received &= ~Q(status=ShipmentStatus.PACKED)
        return queryset.filter(Q(lab__in=labs) | received)


class ShipmentItemInline(LabOwnedInline):
    model = m.ShipmentItem
    fields = ("aliquot_code", "batch_code", "volume_ul", "state", "freeze_thaw_count")
    readonly_fields = fields


@admin.register(m.PartnerLab)
class PartnerLabAdmin(LabScopedAdmin):
    list_display = ("lab", "partner", "sends_to", "receives_from", "note")
    list_filter = ("lab", "sends_to", "receives_from")
    search_fields = ("partner__name", "note")
    list_select_related = ("lab", "partner")


@admin.register(m.Shipment)
class ShipmentAdmin(_BothSidesAdmin):
    list_display = ("code", "lab", "receiver", "status", "shipping_condition", "courier", "sent_at", "dispatched_by")
    list_filter = ("status", "shipping_condition")
    search_fields = ("code", "tracking_reference", "courier")
    list_select_related = ("lab", "receiver", "dispatched_by")
    readonly_fields = (*LabScopedAdmin.readonly_fields, "status", "dispatched_by", "dispatched_at")
    inlines = [ShipmentItemInline]


@admin.register(m.ProvenanceSnapshot)
class ProvenanceSnapshotAdmin(_BothSidesAdmin):
    dispatched_only = False  # a snapshot exists only once its shipment was dispatched
    list_display = ("batch_code", "snapshot_version", "lab", "receiver", "shipment", "fingerprint", "created_at")
    list_filter = ("snapshot_version",)
    search_fields = ("batch_code", "fingerprint", "shipment__code")
    list_select_related = ("lab", "receiver", "shipment")
    readonly_fields = [field.name for field in m.ProvenanceSnapshot._meta.fields if field.name not in {"id", "batch"}]
    exclude = ("batch",)  # the producer's batch row: the snapshot states what the receiver may know of it


@admin.register(m.ShipmentReceipt)
class ShipmentReceiptAdmin(LabScopedAdmin):
    list_display = ("shipment", "lab", "received_at", "received_by", "condition_on_arrival", "refused")
    list_filter = ("lab", "condition_on_arrival", "refused")
    search_fields = ("shipment__code",)
    list_select_related = ("shipment", "lab", "received_by")


@admin.register(m.ReceivedAliquot)
class ReceivedAliquotAdmin(LabScopedAdmin):
    list_display = ("code", "lab", "accepted", "status", "state", "location", "position", "freeze_thaw_count")
    list_filter = ("lab", "accepted", "status", "state")
    search_fields = ("code", "rejection_reason")
    list_select_related = ("lab", "location")
    exclude = ("item", "source_aliquot")  # the producer's rows: the snapshot is the receiver's view of them


@admin.register(m.ReceivedAliquotEvent)
class ReceivedAliquotEventAdmin(LabScopedAdmin):
    list_display = ("aliquot", "kind", "at", "volume_ul", "actor")
    list_filter = ("lab", "kind")
    search_fields = ("aliquot__code",)


@admin.register(m.ImpactNotice)
class ImpactNoticeAdmin(LimsAdmin):
    """A notice belongs to the receiving lab (`lab`); the producing lab's admins may read what it was told."""

    list_display = ("__str__", "lab", "producer", "shipment", "created_at", "acknowledged_by", "acknowledged_at")
    list_filter = ("kind",)
    search_fields = ("batch_code", "message")
    list_select_related = ("lab", "producer", "shipment", "acknowledged_by")
    readonly_fields = [field.name for field in m.ImpactNotice._meta.fields if field.name not in {"id", "batch"}]
    exclude = ("batch",)

    def scope(self, request, queryset):
        if request.user.is_superuser:
            return queryset
        labs = self.admin_lab_ids(request)
        return queryset.filter(Q(lab__in=labs) | Q(producer__in=labs))
