"""Lab membership: lab administrators add people to their lab, change their role, or remove them."""

from django.contrib.auth import get_user_model
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status
from rest_framework.request import Request
from rest_framework.response import Response

from lims.api.filters import LabFilterSet
from lims.api.serializers import LabField
from lims.api.viewsets import LabScopedReadOnlyViewSet
from lims.models import Lab, Membership
from lims.roles import require_role
from lims.services.memberships import ADMIN_ROLES, membership_add, membership_change_role, membership_remove

User = get_user_model()


class MembershipSerializer(serializers.ModelSerializer):
    lab = LabField(required=False, help_text="The lab; may be omitted when you belong to one lab.")
    user = serializers.PrimaryKeyRelatedField(
        queryset=User.objects.filter(is_active=True),
        error_messages={"does_not_exist": "No active user with id {pk_value}."},
    )
    username = serializers.CharField(source="user.username", read_only=True)
    full_name = serializers.CharField(source="user.get_full_name", read_only=True)

    class Meta:
        model = Membership
        fields = ("id", "lab", "user", "username", "full_name", "role", "created_at")
        read_only_fields = ("created_at",)
        validators: list = []

    def validate(self, attrs):
        if self.instance is None and attrs.get("lab") is None:
            labs = list(Lab.objects.filter(memberships__user=self.context["request"].user)[:2])
            if len(labs) != 1:
                raise serializers.ValidationError({"lab": ["Say which lab the member joins."]})
            attrs["lab"] = labs[0]
        return attrs


class MembershipChangeSerializer(serializers.ModelSerializer):
    class Meta:
        model = Membership
        fields = ("role",)


class MembershipFilter(LabFilterSet):
    class Meta:
        model = Membership
        fields = ("lab", "user", "role")


class MembershipViewSet(mixins.DestroyModelMixin, LabScopedReadOnlyViewSet):
    """Who belongs to your labs, in which role. Lab administrators add, change and remove members."""

    queryset = Membership.objects.select_related("user")
    serializer_class = MembershipSerializer
    filterset_class = MembershipFilter
    ordering_fields = ("created_at", "role")
    ordering = ("lab", "user__username", "id")
    write_roles = ADMIN_ROLES
    http_method_names = ["get", "post", "patch", "delete", "head", "options"]

    def _respond(self, membership: Membership, status_code: int = status.HTTP_200_OK) -> Response:
        fresh = self.get_queryset().get(pk=membership.pk)
        return Response(MembershipSerializer(fresh, context=self.get_serializer_context()).data, status=status_code)

    def create(self, request: Request, *args, **kwargs) -> Response:
        body = MembershipSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        require_role(request.user, body.validated_data["lab"], ADMIN_ROLES, "Adding a member")
        membership = membership_add(actor=request.user, **body.validated_data)
        return self._respond(membership, status.HTTP_201_CREATED)

    @extend_schema(request=MembershipChangeSerializer, responses=MembershipSerializer)
    def partial_update(self, request: Request, *args, **kwargs) -> Response:
        membership = self.get_object()
        body = MembershipChangeSerializer(membership, data=request.data)
        body.is_valid(raise_exception=True)
        role = body.validated_data.get("role", membership.role)
        return self._respond(membership_change_role(membership=membership, role=role, actor=request.user))

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        membership_remove(membership=self.get_object(), actor=request.user)
        return Response(status=status.HTTP_204_NO_CONTENT)
