"""Labs, members and invitations in the admin, for lab administrators (lims.admin_base).

Lab admins see their labs and members; they change roles and remove members with actions that call
the membership services (which keep the last administrator and lock the lab). People join by accepting
an invitation (app and API), never by being picked from the installation's users here.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from lims import admin_base
from lims.admin_base import LimsAdmin
from lims.models import Invitation, Lab, Membership, Role
from lims.services.memberships import invitation_revoke, membership_change_role, membership_remove

admin_base.install(admin.site)


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    fields = ("user", "role", "created_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return admin_base.may_use_admin(request.user)


@admin.register(Lab)
class LabAdmin(LimsAdmin):
    lab_field = "pk"
    list_display = ("name", "slug", "institution", "url", "created_at")
    search_fields = ("name", "slug", "institution")
    inlines = [MembershipInline]


def _apply(modeladmin, request, queryset, change, verb: str) -> None:
    done, errors = 0, []
    for membership in queryset.select_related("user", "lab"):
        try:
            change(membership)
            done += 1
        except (ValidationError, PermissionDenied) as exc:
            errors.append(f"{membership.user} in {membership.lab}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
    if done:
        modeladmin.message_user(request, f"{done} member(s) {verb}.", messages.SUCCESS)
    for error in errors:
        modeladmin.message_user(request, error, messages.ERROR)


def _role_action(role: Role):
    def action(modeladmin, request, queryset):
        _apply(
            modeladmin,
            request,
            queryset,
            lambda membership: membership_change_role(membership=membership, role=role, actor=request.user),
            f"made {role.label.lower()}",
        )

    action.__name__ = f"make_{role.value}"
    return admin.action(description=f"Make the selected members: {role.label}")(action)


@admin.register(Membership)
class MembershipAdmin(LimsAdmin):
    list_display = ("user", "lab", "role", "created_at")
    list_filter = ("role", "lab")
    search_fields = ("user__username", "user__first_name", "user__last_name")
    actions = [*(_role_action(role) for role in Role), "remove_selected"]

    @admin.action(description="Remove the selected members from their lab")
    def remove_selected(self, request, queryset):
        _apply(
            self,
            request,
            queryset,
            lambda membership: membership_remove(membership=membership, actor=request.user),
            "removed",
        )


@admin.register(Invitation)
class InvitationAdmin(LimsAdmin):
    list_display = ("invitee", "lab", "role", "status", "created_at", "answered_at")
    list_filter = ("status", "role", "lab")
    search_fields = ("invitee",)
    readonly_fields = ("lab", "invitee", "role", "status", "created_at", "created_by", "answered_at", "answered_by")
    actions = ["revoke_selected"]

    @admin.action(description="Revoke the selected pending invitations")
    def revoke_selected(self, request, queryset):
        done, errors = 0, []
        for invitation in queryset:
            try:
                invitation_revoke(invitation=invitation, actor=request.user)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                errors.append(f"{invitation.invitee}: {' '.join(getattr(exc, 'messages', [str(exc)]))}")
        if done:
            self.message_user(request, f"{done} invitation(s) revoked.", messages.SUCCESS)
        for error in errors:
            self.message_user(request, error, messages.ERROR)


# Read-only pages for the quality unit: audit trail, signatures, sign-in attempts, chain seals.
from lims import admin_audit  # noqa: E402, F401
