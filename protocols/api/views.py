"""ViewSets for SOPs: thin views over protocols.services."""

from typing import Any

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import status
from rest_framework.decorators import action
from rest_framework.exceptions import ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from batches.api.serializers import SignatureSerializer
from lims.api.filters import LabFilterSet
from lims.api.viewsets import LabOwnedViewSet, LabScopedReadOnlyViewSet
from lims.models import Lab
from lims.roles import JUSTIFY_ROLES, REVIEW_ROLES, WRITE_ROLES
from lims.services.records import expected_version
from protocols import selectors, services
from protocols.api import serializers
from protocols.models import Deviation, Protocol, ProtocolVersion


def _parameters(data: dict[str, Any]) -> list[dict[str, Any]] | None:
    rows = data.pop("parameters", None)
    return None if rows is None else [dict(row) for row in rows]


class ProtocolFilter(LabFilterSet):
    class Meta:
        model = Protocol
        fields = ("code", "category")


class ProtocolViewSet(LabOwnedViewSet):
    """Standard operating procedures; their content lives in versions."""

    queryset = Protocol.objects.all()
    serializer_class = serializers.ProtocolSerializer
    filterset_class = ProtocolFilter
    ordering_fields = ("code", "title", "category", "created_at")
    ordering = ("code", "id")

    def create_record(self, *, lab: Lab, data: dict[str, Any]):
        return services.protocol_create(lab=lab, actor=self.request.user, **data)

    def update_record(self, *, instance, data, version, reason=None):
        with expected_version(instance, version) as locked:
            return services.protocol_update(protocol=locked, actor=self.request.user, **data)


class ProtocolVersionFilter(LabFilterSet):
    class Meta:
        model = ProtocolVersion
        fields = ("protocol", "status", "number")


class ProtocolVersionViewSet(LabOwnedViewSet):
    """Versions of a protocol: a draft is edited, then published (immutable), then retired."""

    queryset = ProtocolVersion.objects.prefetch_related("parameters")
    serializer_class = serializers.ProtocolVersionSerializer
    filterset_class = ProtocolVersionFilter
    ordering_fields = ("number", "created_at", "approved_at")
    ordering = ("protocol", "-number", "id")
    http_method_names = [*LabOwnedViewSet.http_method_names, "delete"]
    action_roles = {"publish": REVIEW_ROLES, "retire": REVIEW_ROLES, "destroy": WRITE_ROLES}

    def create_record(self, *, lab: Lab, data: dict[str, Any]):
        parameters = _parameters(data)
        return services.protocol_version_create_draft(
            protocol=data.pop("protocol"), actor=self.request.user, parameters=parameters, **data
        )

    def update_record(self, *, instance, data, version, reason=None):
        parameters = _parameters(data)
        with expected_version(instance, version) as locked:
            return services.protocol_version_update_draft(
                version=locked, actor=self.request.user, parameters=parameters, **data
            )

    @extend_schema(summary="Delete a draft version", responses={204: None})
    def destroy(self, request: Request, *args, **kwargs) -> Response:
        services.protocol_version_delete_draft(version=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)

    @extend_schema(
        summary="Publish and sign the draft (reviewers)",
        description=(
            "The version becomes effective and immutable; the version it replaces retires. Publishing is an "
            "electronic signature (meaning 'published'): send your password."
        ),
        request=SignatureSerializer,
        responses={200: serializers.ProtocolVersionSerializer},
    )
    @action(detail=True, methods=["post"])
    def publish(self, request: Request, pk: str | None = None) -> Response:
        version = self.get_object()
        body = SignatureSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = services.protocol_version_publish(
            version=version, actor=request.user, password=body.validated_data["password"], request=request
        )
        return self.respond_with(version)

    @extend_schema(
        summary="Differences from another version of the same protocol",
        description="The text as a unified diff, and the parameters added, removed or changed (with before/after).",
        parameters=[
            OpenApiParameter(
                "against", OpenApiTypes.INT, required=True, description="Id of the version to compare with."
            )
        ],
        responses={200: OpenApiTypes.OBJECT},
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def diff(self, request: Request, pk: str | None = None) -> Response:
        version = self.get_object()
        query = serializers.DiffQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        against = self.get_queryset().filter(pk=query.validated_data["against"]).first()
        if against is None:
            raise ValidationError({"against": ["No protocol version with this id in your labs."]})
        return Response(selectors.protocol_version_diff(version=version, against=against))

    @extend_schema(
        summary="Batches that followed this version",
        description="Every batch that used the version at some step, directly or through the cells it was made from.",
        responses=serializers.BatchUsageSerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"], filter_backends=[])
    def batches(self, request: Request, pk: str | None = None) -> Response:
        version = self.get_object()
        page = self.paginate_queryset(selectors.protocol_version_batches(version=version))
        return self.get_paginated_response(serializers.BatchUsageSerializer(page, many=True).data)

    @extend_schema(
        summary="Retire and sign the effective version without a successor (reviewers)",
        request=serializers.RetireSerializer,
        responses={200: serializers.ProtocolVersionSerializer},
    )
    @action(detail=True, methods=["post"])
    def retire(self, request: Request, pk: str | None = None) -> Response:
        version = self.get_object()
        body = serializers.RetireSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        version = services.protocol_version_retire(
            version=version,
            actor=request.user,
            reason=body.validated_data["reason"],
            password=body.validated_data["password"],
            request=request,
        )
        return self.respond_with(version)


class DeviationFilter(LabFilterSet):
    class Meta:
        model = Deviation
        fields = ("batch", "protocol_version", "status", "record_type", "parameter")


class DeviationViewSet(LabScopedReadOnlyViewSet):
    """Departures of a batch's records from their pinned SOP versions.

    They are found by the system after every write; people justify them and reviewers approve them.
    """

    queryset = Deviation.objects.all()
    serializer_class = serializers.DeviationSerializer
    filterset_class = DeviationFilter
    ordering_fields = ("created_at", "parameter", "status")
    ordering = ("batch", "parameter", "id")
    action_roles = {"justify": JUSTIFY_ROLES, "approve": REVIEW_ROLES}

    def _respond(self, deviation: Deviation) -> Response:
        fresh = self.get_queryset().get(pk=deviation.pk)
        return Response(self.serializer_class(fresh, context=self.get_serializer_context()).data)

    @extend_schema(
        summary="Justify the deviation",
        request=serializers.JustificationSerializer,
        responses=serializers.DeviationSerializer,
    )
    @action(detail=True, methods=["post"])
    def justify(self, request: Request, pk: str | None = None) -> Response:
        deviation = self.get_object()
        body = serializers.JustificationSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        deviation = services.deviation_justify(
            deviation=deviation, actor=request.user, justification=body.validated_data["justification"]
        )
        return self._respond(deviation)

    @extend_schema(
        summary="Approve the justified deviation (reviewers)", request=None, responses=serializers.DeviationSerializer
    )
    @action(detail=True, methods=["post"])
    def approve(self, request: Request, pk: str | None = None) -> Response:
        deviation = services.deviation_approve(deviation=self.get_object(), actor=request.user)
        return self._respond(deviation)
