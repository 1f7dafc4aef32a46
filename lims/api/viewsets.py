"""Base ViewSets: every queryset scoped to the user's labs, writes through services, history for all."""

from typing import Any

from django.db import models
from drf_spectacular.utils import extend_schema
from pghistory.models import Events
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.filters import OrderingFilter
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.response import Response

from lims.api.filters import LabFilterBackend
from lims.api.pagination import LabPagination
from lims.api.parsers import SafeJSONParser
from lims.api.permissions import LabRolePermission
from lims.api.renderers import SafeJSONRenderer
from lims.api.scoping import request_lab_ids, scope_to_labs
from lims.api.serializers import HistoryEventSerializer, update_serializer_for
from lims.models import Lab
from lims.roles import WRITE_ROLES
from lims.services.records import record_create, record_update


class LabScopedReadOnlyViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """List and retrieve the rows of the user's labs; another lab's row is not found (404)."""

    permission_classes = [LabRolePermission]
    pagination_class = LabPagination
    renderer_classes = [SafeJSONRenderer]
    parser_classes = [SafeJSONParser]
    filter_backends = [LabFilterBackend, OrderingFilter]
    write_roles: set[str] = WRITE_ROLES
    action_roles: dict[str, set[str] | None] = {}
    lab_field = "lab"

    def roles_for_action(self) -> set[str] | None:
        """Roles allowed to run the current action; None when any member may (reads)."""
        if self.action in self.action_roles:
            return self.action_roles[self.action]
        if self.request.method in SAFE_METHODS:
            return None
        return self.write_roles

    def get_queryset(self) -> models.QuerySet:
        return scope_to_labs(super().get_queryset(), request_lab_ids(self.request), self.lab_field)

    @extend_schema(
        summary="Audit trail of the record",
        description="Every insert, update and delete of this row, oldest first, with who did it and why.",
        responses=HistoryEventSerializer(many=True),
        filters=False,
    )
    @action(detail=True, methods=["get"], pagination_class=None, filter_backends=[])
    def history(self, request: Request, pk: str | None = None) -> Response:
        instance = self.get_object()
        events = Events.objects.tracks(instance).order_by("pgh_created_at", "pgh_id")
        return Response(HistoryEventSerializer(events, many=True).data)


class LabOwnedViewSet(LabScopedReadOnlyViewSet):
    """Create and update through services; a record is never deleted through the API.

    Subclasses name their services with `create_record` / `update_record` when the generic
    ones (lims.services.records) are not enough; the update's `reason` is passed on explicitly.
    """

    http_method_names = ["get", "post", "put", "patch", "head", "options"]

    def get_serializer_class(self):
        if self.action in {"update", "partial_update"}:
            return update_serializer_for(self.serializer_class)
        return self.serializer_class

    def create_record(self, *, lab: Lab, data: dict[str, Any]) -> models.Model:
        return record_create(model=self.get_queryset().model, lab=lab, actor=self.request.user, data=data)

    def update_record(
        self, *, instance: models.Model, data: dict[str, Any], version: int, reason: str | None = None
    ) -> models.Model:
        return record_update(instance=instance, actor=self.request.user, data=data, version=version, reason=reason)

    def respond_with(self, instance: models.Model, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=instance.pk)
        serializer = self.serializer_class(fresh, context=self.get_serializer_context())
        return Response(serializer.data, status=status_code)

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        lab = data.pop("lab")
        instance = self.create_record(lab=lab, data=data)
        return self.respond_with(instance, status.HTTP_201_CREATED)

    def update(self, request: Request, *args, **kwargs) -> Response:
        instance = self.get_object()
        serializer = self.get_serializer(instance, data=request.data, partial=kwargs.pop("partial", False))
        serializer.is_valid(raise_exception=True)
        data = dict(serializer.validated_data)
        version = data.pop("version")
        reason = data.pop("reason", "").strip() or None
        instance = self.update_record(instance=instance, data=data, version=version, reason=reason)
        return self.respond_with(instance)

    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        return self.update(request, *args, partial=True, **kwargs)
