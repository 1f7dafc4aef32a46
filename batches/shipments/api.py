"""API for shipments between labs: thin ViewSets over batches.shipments.services and selectors."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.filters import OrderingFilter
from rest_framework.request import Request
from rest_framework.response import Response

from batches.api.serializers import SignatureSerializer
from batches.models import (
    Administration,
    ImpactNotice,
    PartnerLab,
    ProvenanceSnapshot,
    ReceivedAliquot,
    SecretomeBatch,
    Shipment,
    ShipmentItem,
    StorageLocation,
    Study,
)
from batches.models.shipments import ArrivalCondition, ShippingCondition
from batches.shipments import selectors, services
from lims.api.pagination import LabPagination
from lims.api.parsers import SafeJSONParser
from lims.api.permissions import LabRolePermission
from lims.api.renderers import SafeJSONRenderer
from lims.api.scoping import request_lab_ids
from lims.api.serializers import LabField, LabScopedRelatedField
from lims.models import Lab, Role
from lims.roles import REVIEW_ROLES, WRITE_ROLES


@extend_schema_field(OpenApiTypes.INT)
class LabIdField(LabField):
    """A lab of the requesting user, by id."""


def _single_lab(request: Request, lab: Lab | None) -> Lab:
    if lab is not None:
        return lab
    ids = request_lab_ids(request)
    if len(ids) != 1:
        raise serializers.ValidationError({"lab": ["You belong to several labs: say which one."]})
    return Lab.objects.get(pk=ids[0])


# --- Serializers ---------------------------------------------------------------------------------


class PartnerLabSerializer(serializers.ModelSerializer):
    lab = LabField(required=False, help_text="Your lab (may be omitted when you belong to one lab).")
    partner = serializers.PrimaryKeyRelatedField(queryset=Lab.objects.all(), help_text="The partner lab's id.")
    partner_name = serializers.CharField(source="partner.name", read_only=True)

    class Meta:
        model = PartnerLab
        fields = ("id", "lab", "partner", "partner_name", "sends_to", "receives_from", "note", "version", "created_at")
        read_only_fields = ("version", "created_at")
        validators: list = []  # the service checks the pair against the resolved lab


class ShipmentItemSerializer(serializers.ModelSerializer):
    class Meta:
        model = ShipmentItem
        fields = ("id", "aliquot_code", "batch_code", "volume_ul", "state", "freeze_thaw_count")


class ShipmentSerializer(serializers.ModelSerializer):
    """What both labs see of a shipment: codes frozen at packing, never the producer's row ids."""

    lab_name = serializers.CharField(source="lab.name", read_only=True)
    receiver_name = serializers.CharField(source="receiver.name", read_only=True)
    items = ShipmentItemSerializer(many=True, read_only=True)

    class Meta:
        model = Shipment
        fields = (
            "id", "code", "lab", "lab_name", "receiver", "receiver_name", "status", "shipping_condition", "courier",
            "tracking_reference", "packed_by", "sent_at", "dispatched_by", "dispatched_at", "notes", "items",
            "version", "created_at",
        )  # fmt: skip
        read_only_fields = fields


class ShipmentCreateSerializer(serializers.Serializer):
    lab = LabIdField(
        required=False,
        help_text="Id of the sending lab (may be omitted when you belong to one lab).",
    )
    code = serializers.CharField(max_length=40, required=False, allow_blank=True, help_text="Default SH-0001, …")
    receiver = serializers.IntegerField(help_text="Id of a partner lab this lab ships to.")
    aliquots = serializers.ListField(
        child=serializers.IntegerField(), min_length=1, help_text="Ids of available aliquots (at least one)."
    )
    shipping_condition = serializers.ChoiceField(choices=ShippingCondition.choices)
    courier = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    tracking_reference = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    sent_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ReceiveItemSerializer(serializers.Serializer):
    item = serializers.IntegerField(help_text="Id of the shipment item (see the shipment's items).")
    accepted = serializers.BooleanField()
    rejection_reason = serializers.CharField(max_length=300, required=False, allow_blank=True, default="")
    code = serializers.CharField(max_length=50, required=False, allow_blank=True, default="")
    location = LabScopedRelatedField(
        queryset=StorageLocation.objects.all(), required=False, allow_null=True, default=None
    )
    position = serializers.CharField(max_length=4, required=False, allow_blank=True, default="")
    temperature_c = serializers.FloatField(required=False, allow_null=True, default=None)


class ArrivalSerializer(serializers.Serializer):
    received_at = serializers.DateTimeField(required=False, allow_null=True, default=None)
    condition_on_arrival = serializers.ChoiceField(choices=ArrivalCondition.choices)
    logger_temperature_c = serializers.FloatField(required=False, allow_null=True, default=None)
    notes = serializers.CharField(required=False, allow_blank=True, default="", max_length=5000)


class ReceiveSerializer(ArrivalSerializer):
    items = ReceiveItemSerializer(many=True)


class RefuseSerializer(ArrivalSerializer):
    reason = serializers.CharField(max_length=2000)


class ReceiptSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    shipment = serializers.IntegerField(source="shipment_id")
    refused = serializers.BooleanField()
    received_at = serializers.DateTimeField()
    condition_on_arrival = serializers.CharField()
    logger_temperature_c = serializers.FloatField(allow_null=True)
    refusal_reason = serializers.CharField()


class SnapshotSerializer(serializers.ModelSerializer):
    producer = serializers.CharField(source="lab.name", read_only=True)
    receiver_name = serializers.CharField(source="receiver.name", read_only=True)
    shipment_code = serializers.CharField(source="shipment.code", read_only=True)

    class Meta:
        model = ProvenanceSnapshot
        fields = (
            "id", "producer", "receiver", "receiver_name", "shipment", "shipment_code", "batch_code",
            "snapshot_version", "fingerprint", "reason", "created_at", "content",
        )  # fmt: skip
        read_only_fields = fields


class NoticeSerializer(serializers.ModelSerializer):
    producer_name = serializers.CharField(source="producer.name", read_only=True)
    shipment_code = serializers.CharField(source="shipment.code", read_only=True)
    snapshot_fingerprint = serializers.CharField(source="snapshot.fingerprint", read_only=True)

    class Meta:
        model = ImpactNotice
        fields = (
            "id", "lab", "producer_name", "batch_code", "shipment", "shipment_code", "snapshot", "snapshot_fingerprint",
            "kind", "message", "acknowledged_by", "acknowledged_at", "created_at",
        )  # fmt: skip
        read_only_fields = fields


class ReceivedAliquotSerializer(serializers.ModelSerializer):
    producer = serializers.CharField(source="receipt.shipment.lab.name", read_only=True)
    shipment_code = serializers.CharField(source="receipt.shipment.code", read_only=True)
    snapshot_fingerprint = serializers.CharField(source="snapshot.fingerprint", read_only=True)

    class Meta:
        model = ReceivedAliquot
        fields = (
            "id", "lab", "code", "producer", "shipment_code", "snapshot", "snapshot_fingerprint", "accepted",
            "rejection_reason", "volume_ul", "state", "temperature_c", "location", "position", "stored_at",
            "freeze_thaw_count", "status", "version",
        )  # fmt: skip
        read_only_fields = fields


class AdministeredSerializer(serializers.Serializer):
    administration = serializers.IntegerField()


class CustodyEventSerializer(serializers.Serializer):
    lab = serializers.CharField()
    at = serializers.DateTimeField(allow_null=True)
    event = serializers.CharField()
    detail = serializers.CharField()


class AdministerSerializer(serializers.Serializer):
    study = LabScopedRelatedField(queryset=Study.objects.all())
    group = serializers.CharField(max_length=80)
    dose_value = serializers.FloatField()
    dose_unit = serializers.CharField(max_length=20)
    route = serializers.CharField(max_length=30)
    volume_ul = serializers.FloatField()
    site = serializers.CharField(max_length=120, required=False, allow_blank=True, default="")
    day_after_induction = serializers.IntegerField(required=False, allow_null=True, default=None)
    consumed = serializers.BooleanField(default=True, help_text="The aliquot is used up by this administration.")


# --- ViewSets ------------------------------------------------------------------------------------


class _Scoped(viewsets.GenericViewSet):
    permission_classes = [LabRolePermission]
    pagination_class = LabPagination
    renderer_classes = [SafeJSONRenderer]
    parser_classes = [SafeJSONParser]
    filter_backends = [OrderingFilter]
    action_roles: dict[str, set[str] | None] = {}
    write_roles: set[str] = WRITE_ROLES

    def roles_for_action(self) -> set[str] | None:
        if self.action in self.action_roles:
            return self.action_roles[self.action]
        return None if self.request.method in ("GET", "HEAD", "OPTIONS") else self.write_roles


class PartnerLabViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, mixins.CreateModelMixin, _Scoped):
    """Partner labs: each lab declares whether it sends to and receives from a partner (lab admins)."""

    queryset = PartnerLab.objects.all()
    serializer_class = PartnerLabSerializer
    write_roles = {Role.LAB_ADMIN}
    ordering = ("partner", "id")

    def get_queryset(self):
        return selectors.partner_lab_list(lab_ids=request_lab_ids(self.request))

    def perform_create(self, serializer):
        data = serializer.validated_data
        serializer.instance = services.partner_lab_declare(
            lab=_single_lab(self.request, data.get("lab")),
            actor=self.request.user,
            partner=data["partner"],
            sends_to=data.get("sends_to", True),
            receives_from=data.get("receives_from", True),
            note=data.get("note", ""),
        )


class ShipmentViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _Scoped):
    """Shipments this lab sent, and those sent to it (from dispatch on)."""

    queryset = Shipment.objects.all()
    serializer_class = ShipmentSerializer
    ordering = ("-created_at", "-id")
    # Receiving is the receiver's act: the object's lab (the sender) does not decide it, the service checks
    # the role in the receiving lab (403) after _own has answered 404 to anyone outside both labs.
    action_roles = {"sign_dispatch": REVIEW_ROLES, "receive": None, "refuse": None}

    def get_queryset(self):
        return selectors.shipment_list(lab_ids=request_lab_ids(self.request)).prefetch_related("items")

    def _respond(self, shipment: Shipment, code: int = status.HTTP_200_OK) -> Response:
        return Response(ShipmentSerializer(self.get_queryset().get(pk=shipment.pk)).data, status=code)

    @extend_schema(request=ShipmentCreateSerializer, responses={201: ShipmentSerializer})
    def create(self, request: Request) -> Response:
        body = ShipmentCreateSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        shipment = services.shipment_create(
            lab=_single_lab(request, data.get("lab")),
            actor=request.user,
            receiver_id=data["receiver"],
            aliquot_ids=data["aliquots"],
            shipping_condition=data["shipping_condition"],
            courier=data["courier"],
            tracking_reference=data["tracking_reference"],
            sent_at=data["sent_at"],
            notes=data["notes"],
            code=data.get("code", ""),
        )
        return self._respond(shipment, status.HTTP_201_CREATED)

    def _own(self, pk, side: str) -> Shipment:
        shipment = self.get_object()
        lab_id = shipment.lab_id if side == "sender" else shipment.receiver_id
        if lab_id not in request_lab_ids(self.request):
            raise NotFound()
        return shipment

    @extend_schema(
        request=SignatureSerializer,
        responses=ShipmentSerializer,
        description="A reviewer of the sending lab signs the dispatch (electronic signature: send your password).",
    )
    @action(detail=True, methods=["post"], url_path="dispatch", url_name="dispatch")
    def sign_dispatch(self, request: Request, pk=None) -> Response:
        shipment = self._own(pk, "sender")
        body = SignatureSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        shipment = services.shipment_dispatch(
            shipment=shipment, actor=request.user, password=body.validated_data["password"], request=request
        )
        return self._respond(shipment)

    @extend_schema(request=ReceiveSerializer, responses={201: ReceiptSerializer})
    @action(detail=True, methods=["post"])
    def receive(self, request: Request, pk=None) -> Response:
        shipment = self._own(pk, "receiver")
        body = ReceiveSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = body.validated_data
        receipt = services.shipment_receive(
            shipment=shipment,
            actor=request.user,
            items=[dict(item) for item in data["items"]],
            condition_on_arrival=data["condition_on_arrival"],
            received_at=data["received_at"],
            logger_temperature_c=data["logger_temperature_c"],
            notes=data["notes"],
        )
        return Response(ReceiptSerializer(receipt).data, status=status.HTTP_201_CREATED)

    @extend_schema(request=RefuseSerializer, responses={201: ReceiptSerializer})
    @action(detail=True, methods=["post"])
    def refuse(self, request: Request, pk=None) -> Response:
        shipment = self._own(pk, "receiver")
        body = RefuseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        receipt = services.shipment_refuse(
            shipment=shipment,
            actor=request.user,
            reason=data["reason"],
            condition_on_arrival=data["condition_on_arrival"],
            received_at=data["received_at"],
            logger_temperature_c=data["logger_temperature_c"],
            notes=data["notes"],
        )
        return Response(ReceiptSerializer(receipt).data, status=status.HTTP_201_CREATED)


class SnapshotViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _Scoped):
    """Provenance snapshots: the producer's frozen record of each shipped batch (read-only)."""

    queryset = ProvenanceSnapshot.objects.all()
    serializer_class = SnapshotSerializer
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        return selectors.snapshot_list(lab_ids=request_lab_ids(self.request))


class NoticeViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _Scoped):
    """Notices to a receiving lab that a batch it received was rejected, retired or corrected."""

    queryset = ImpactNotice.objects.all()
    serializer_class = NoticeSerializer
    ordering = ("-created_at", "-id")

    def get_queryset(self):
        return selectors.notice_list(lab_ids=request_lab_ids(self.request))

    @extend_schema(request=None, responses=NoticeSerializer)
    @action(detail=True, methods=["post"])
    def acknowledge(self, request: Request, pk=None) -> Response:
        notice = services.impact_notice_acknowledge(notice=self.get_object(), actor=request.user)
        return Response(NoticeSerializer(notice).data)


class ReceivedAliquotViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, _Scoped):
    """Aliquots this lab received from partner labs, in its own storage."""

    queryset = ReceivedAliquot.objects.all()
    serializer_class = ReceivedAliquotSerializer
    ordering = ("code", "id")

    def get_queryset(self):
        return selectors.received_aliquot_list(lab_ids=request_lab_ids(self.request))

    @extend_schema(responses=CustodyEventSerializer(many=True), filters=False)
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def custody(self, request: Request, pk=None) -> Response:
        """Custody across both labs: the producer's storage, the shipment, the receipt, then this lab's events."""
        timeline = selectors.received_aliquot_custody(aliquot=self.get_object())
        return Response(CustodyEventSerializer(timeline, many=True).data)

    @extend_schema(request=AdministerSerializer, responses={201: AdministeredSerializer})
    @action(detail=True, methods=["post"])
    def administer(self, request: Request, pk=None) -> Response:
        aliquot = self.get_object()
        body = AdministerSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        data = dict(body.validated_data)
        study, consumed = data.pop("study"), data.pop("consumed")
        administration = services.received_aliquot_administer(
            aliquot=aliquot, actor=request.user, study=study, data=data, consumed=consumed
        )
        return Response({"administration": administration.pk}, status=status.HTTP_201_CREATED)


class TraceSerializer(serializers.Serializer):
    root = serializers.CharField()
    root_id = serializers.IntegerField()
    labs = serializers.ListField(child=serializers.CharField())
    batches = serializers.ListField(child=serializers.DictField())
    shipments = serializers.ListField(child=serializers.DictField())
    studies = serializers.ListField(child=serializers.DictField())
    administrations = serializers.ListField(child=serializers.DictField())
    notices = serializers.ListField(child=serializers.DictField())


class OriginSerializer(serializers.Serializer):
    administration_id = serializers.IntegerField()
    study = serializers.CharField()
    group_name = serializers.CharField()
    lab = serializers.CharField()
    batch = serializers.CharField()
    batch_status = serializers.CharField()
    passage_number = serializers.IntegerField()
    cell_line = serializers.CharField()
    donor = serializers.CharField()
    species = serializers.CharField()
    tissue_source = serializers.CharField()
    producer = serializers.CharField()
    aliquot = serializers.CharField(allow_null=True)
    shipment = serializers.CharField(allow_null=True)
    fingerprint = serializers.CharField(allow_null=True)


class BatchTraceViewSet(_Scoped):
    """Traceability of a batch of your lab: everything downstream, in every lab (one query)."""

    queryset = SecretomeBatch.objects.all()
    serializer_class = TraceSerializer

    def get_queryset(self):
        return SecretomeBatch.objects.filter(lab_id__in=request_lab_ids(self.request)).only("id", "lab_id")

    def _trace(self):
        batch = self.get_object()
        return selectors.trace_downstream(root="batch", root_id=batch.pk, lab_ids=[batch.lab_id])

    @extend_schema(
        responses=TraceSerializer, description="Every shipment, lab, study, group and administration downstream."
    )
    @action(detail=True, methods=["get"])
    def trace(self, request: Request, pk=None) -> Response:
        return Response(self._trace().as_dict())

    @extend_schema(
        responses=TraceSerializer,
        description="Every downstream use in every lab, and the notices sent to receiving labs.",
    )
    @action(detail=True, methods=["get"])
    def impact(self, request: Request, pk=None) -> Response:
        data = self._trace().as_dict()
        data["receiving_labs"] = sorted({row["lab"] for row in data["shipments"]})
        return Response(data)


class AdministrationOriginViewSet(_Scoped):
    """From an administration of your lab back to the donor, across a shipment where there was one."""

    queryset = Administration.objects.all()
    serializer_class = OriginSerializer

    @extend_schema(responses=OriginSerializer)
    @action(detail=True, methods=["get"])
    def origin(self, request: Request, pk=None) -> Response:
        try:
            administration_id = int(pk)
        except (TypeError, ValueError) as exc:
            raise NotFound() from exc
        origin = selectors.trace_upstream(administration_id=administration_id, lab_ids=request_lab_ids(request))
        if origin is None:
            raise NotFound()
        return Response(OriginSerializer(origin).data)
