"""Lab membership: lab administrators invite people, change their role, or remove them; invitees accept.

Nothing here looks a person up across the installation: an invitation names someone by e-mail or user
name, answers with what the administrator typed, and changes nothing for that person until they accept.
"""

from django.db.models import Q
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response

from lims.api.filters import LabFilterSet
from lims.api.pagination import LabPagination
from lims.api.serializers import LabField
from lims.api.viewsets import LabScopedReadOnlyViewSet
from lims.models import Invitation, Lab, Membership
from lims.services.memberships import (
    ADMIN_ROLES,
    invitation_accept,
    invitation_create,
    invitation_decline,
    invitation_revoke,
    invitations_for,
    membership_change_role,
    membership_remove,
)


class MembershipSerializer(serializers.ModelSerializer):
    lab = LabField(required=False, help_text="The lab; may be omitted when you belong to one lab.")
    username = serializers.CharField(source="user.username", read_only=True)
    full_name = serializers.CharField(source="user.get_full_name", read_only=True)

    class Meta:
        model = Membership
        fields = ("id", "lab", "user", "username", "full_name", "role", "created_at")
        read_only_fields = ("user", "created_at")
        validators: list = []


def _only_lab(request: Request, attrs: dict) -> Lab:
    """The lab named in the body, or the one lab the user administers."""
    if attrs.get("lab") is not None:
        return attrs["lab"]
    labs = list(Lab.objects.filter(memberships__user=request.user, memberships__role__in=ADMIN_ROLES)[:2])
    if not labs:  # a role question, not a missing field: nobody is invited by someone who administers no lab
        raise PermissionDenied("You administer no lab, so you cannot invite anyone.")
    if len(labs) != 1:
        raise serializers.ValidationError({"lab": ["Say which lab the person is invited to."]})
    return labs[0]


class InvitationSerializer(serializers.ModelSerializer):
    lab = LabField(required=False, help_text="The lab; may be omitted when you administer one lab.")
    lab_name = serializers.CharField(source="lab.name", read_only=True)
    invitee = serializers.CharField(
        max_length=254, help_text="The person's e-mail address or user name (nobody is looked up)."
    )

    class Meta:
        model = Invitation
        fields = ("id", "lab", "lab_name", "invitee", "role", "status", "created_at", "answered_at")
        read_only_fields = ("status", "created_at", "answered_at")
        validators: list = []

    def validate(self, attrs):
        attrs["lab"] = _only_lab(self.context["request"], attrs)
        return attrs


class MembershipInviteSerializer(InvitationSerializer):
    """`POST /memberships/`: an invitation. A user id is refused: nobody is enrolled without accepting."""

    invitee = serializers.CharField(max_length=254, required=False)
    username = serializers.CharField(max_length=254, required=False, write_only=True)
    email = serializers.CharField(max_length=254, required=False, write_only=True)
    user = serializers.JSONField(required=False, write_only=True)

    class Meta(InvitationSerializer.Meta):
        fields = (*InvitationSerializer.Meta.fields, "username", "email", "user")

    def validate(self, attrs):
        if "user" in attrs:
            raise serializers.ValidationError(
                {"user": ["Members are invited by e-mail or user name ('invitee') and join when they accept."]}
            )
        given = [attrs.pop(name) for name in ("invitee", "username", "email") if attrs.get(name)]
        if len(given) != 1:
            raise serializers.ValidationError({"invitee": ["Give one e-mail address or user name."]})
        attrs["invitee"] = given[0]
        return super().validate(attrs)


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

    @extend_schema(request=MembershipInviteSerializer, responses={201: InvitationSerializer})
    def create(self, request: Request, *args, **kwargs) -> Response:
        """Invite a person to the lab (by e-mail or user name); they become a member when they accept."""
        body = MembershipInviteSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        invitation = invitation_create(actor=request.user, **body.validated_data)
        return Response(
            InvitationSerializer(invitation, context=self.get_serializer_context()).data,
            status=status.HTTP_201_CREATED,
        )

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


class InvitationViewSet(mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet):
    """Invitations to the labs you administer, and the pending ones addressed to you."""

    serializer_class = InvitationSerializer
    pagination_class = LabPagination
    queryset = Invitation.objects.select_related("lab")

    def get_queryset(self):
        user = self.request.user
        administered = Membership.objects.filter(user=user, role__in=ADMIN_ROLES).values("lab_id")
        mine = invitations_for(user).values("pk")
        return (
            Invitation.objects.filter(Q(lab_id__in=administered) | Q(pk__in=mine))
            .select_related("lab")
            .order_by("-created_at", "-id")
        )

    def create(self, request: Request, *args, **kwargs) -> Response:
        """A lab administrator invites a person by e-mail address or user name."""
        body = InvitationSerializer(data=request.data, context=self.get_serializer_context())
        body.is_valid(raise_exception=True)
        invitation = invitation_create(actor=request.user, **body.validated_data)
        return Response(self.get_serializer(invitation).data, status=status.HTTP_201_CREATED)

    def _answer(self, service) -> Response:
        invitation = service(invitation=self.get_object(), actor=self.request.user)
        return Response(self.get_serializer(invitation).data)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def accept(self, request: Request, pk=None) -> Response:
        """The invited person joins the lab in the invited role."""
        return self._answer(invitation_accept)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request: Request, pk=None) -> Response:
        return self._answer(invitation_decline)

    @extend_schema(request=None, responses=InvitationSerializer)
    @action(detail=True, methods=["post"])
    def revoke(self, request: Request, pk=None) -> Response:
        """A lab administrator withdraws a pending invitation."""
        return self._answer(invitation_revoke)
