"""Who belongs to a lab: people join by accepting an invitation; lab administrators change roles and remove.

Every change to a lab's memberships first locks the lab's row, so two administrators acting at once
are serialised: the second sees what the first committed (two lab admins demoting each other leave
exactly one).
"""

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from lims.audit import audit_context
from lims.models import Invitation, InvitationStatus, Lab, Membership, Role
from lims.roles import require_role
from lims.services.records import save_record, validate_record

ADMIN_ROLES = {Role.LAB_ADMIN}


def _lock_lab(lab_id: int) -> Lab:
    return Lab.objects.select_for_update().get(pk=lab_id)


def _refuse_losing_last_admin(membership: Membership) -> None:
    if membership.role != Role.LAB_ADMIN:
        return
    others = Membership.objects.filter(lab_id=membership.lab_id, role=Role.LAB_ADMIN).exclude(pk=membership.pk)
    if not others.exists():
        raise ValidationError({"role": [f"{membership.user} is the last lab administrator of {membership.lab}."]})


def membership_add(*, lab: Lab, user, role: str, actor) -> Membership:
    """Make `user` a member of `lab` (called when an invitation is accepted, and by commands)."""
    with transaction.atomic(), audit_context(actor=actor, reason=f"Add {user} as {role}"):
        _lock_lab(lab.pk)
        membership = Membership(lab=lab, user=user, role=role)
        validate_record(membership, exclude={"created_at"})
        save_record(membership)
    return membership


def membership_change_role(*, membership: Membership, role: str, actor) -> Membership:
    require_role(actor, membership.lab_id, ADMIN_ROLES, "Changing a member's role")
    if role not in Role.values:
        raise ValidationError({"role": [f"Choose one of: {', '.join(Role.values)}."]})
    with transaction.atomic(), audit_context(actor=actor, reason=f"Make {membership.user} {role}"):
        _lock_lab(membership.lab_id)
        # The actor's own role is read again under the lock: they may have just been demoted.
        require_role(actor, membership.lab_id, ADMIN_ROLES, "Changing a member's role")
        locked = Membership.objects.select_for_update().select_related("lab", "user").get(pk=membership.pk)
        if locked.role == role:
            return locked
        _refuse_losing_last_admin(locked)
        locked.role = role
        validate_record(locked, exclude={"created_at"})
        save_record(locked, update_fields=["role"])
    return locked


def membership_remove(*, membership: Membership, actor) -> None:
    require_role(actor, membership.lab_id, ADMIN_ROLES, "Removing a member")
    with transaction.atomic(), audit_context(actor=actor, reason=f"Remove {membership.user}"):
        _lock_lab(membership.lab_id)
        require_role(actor, membership.lab_id, ADMIN_ROLES, "Removing a member")
        locked = Membership.objects.select_for_update().select_related("lab", "user").get(pk=membership.pk)
        _refuse_losing_last_admin(locked)
        locked.delete()


def _clean_invitee(invitee: str) -> str:
    text = (invitee or "").strip()
    if not text:
        raise ValidationError({"invitee": ["Give the person's e-mail address or user name."]})
    if len(text) > 254:
        raise ValidationError({"invitee": ["At most 254 characters."]})
    if any(not char.isprintable() or char.isspace() for char in text):
        raise ValidationError({"invitee": ["An e-mail address or user name has no spaces or control characters."]})
    return text


def invitation_create(*, lab: Lab, invitee: str, role: str, actor) -> Invitation:
    """A lab administrator invites a person by e-mail or user name; nobody is looked up."""
    require_role(actor, lab, ADMIN_ROLES, "Inviting a member")
    if role not in Role.values:
        raise ValidationError({"role": [f"Choose one of: {', '.join(Role.values)}."]})
    invitee = _clean_invitee(invitee)
    with transaction.atomic(), audit_context(actor=actor, reason=f"Invite {invitee} as {role}"):
        _lock_lab(lab.pk)
        # Only the lab's own members are looked at: an administrator may see who is already in their lab.
        members = Membership.objects.filter(lab=lab).filter(
            Q(user__username__iexact=invitee) | Q(user__email__iexact=invitee)
        )
        if members.exists():
            raise ValidationError({"invitee": [f"{invitee} is already a member of {lab}."]})
        pending = Invitation.objects.filter(lab=lab, invitee__iexact=invitee, status=InvitationStatus.PENDING)
        if pending.exists():
            raise ValidationError({"invitee": [f"{invitee} already has a pending invitation to {lab}."]})
        invitation = Invitation(lab=lab, invitee=invitee, role=role, created_by=actor)
        validate_record(invitation, exclude={"created_at", "updated_at"})
        save_record(invitation)
    return invitation


def _answer(invitation: Invitation, *, actor, status: str, reason: str) -> Invitation:
    with transaction.atomic(), audit_context(actor=actor, reason=reason):
        _lock_lab(invitation.lab_id)
        locked = Invitation.objects.select_for_update().select_related("lab").get(pk=invitation.pk)
        if locked.status != InvitationStatus.PENDING:
            raise ValidationError({"status": [f"This invitation is already {locked.status}."]})
        if status == InvitationStatus.ACCEPTED:
            if Membership.objects.filter(lab_id=locked.lab_id, user=actor).exists():
                raise ValidationError({"invitee": [f"You already belong to {locked.lab}."]})
            membership = Membership(lab_id=locked.lab_id, user=actor, role=locked.role)
            validate_record(membership, exclude={"created_at"})
            save_record(membership)
        locked.status = status
        locked.answered_at = timezone.now()
        locked.answered_by = actor
        save_record(locked, update_fields=["status", "answered_at", "answered_by", "updated_at"])
    return locked


def _require_invitee(invitation: Invitation, actor) -> None:
    if not invitation.is_for(actor):
        raise PermissionDenied("This invitation is addressed to someone else.")


def invitation_accept(*, invitation: Invitation, actor) -> Invitation:
    """The invited person joins the lab in the role they were invited to."""
    _require_invitee(invitation, actor)
    return _answer(invitation, actor=actor, status=InvitationStatus.ACCEPTED, reason="Accept an invitation")


def invitation_decline(*, invitation: Invitation, actor) -> Invitation:
    _require_invitee(invitation, actor)
    return _answer(invitation, actor=actor, status=InvitationStatus.DECLINED, reason="Decline an invitation")


def invitation_revoke(*, invitation: Invitation, actor) -> Invitation:
    require_role(actor, invitation.lab_id, ADMIN_ROLES, "Revoking an invitation")
    return _answer(invitation, actor=actor, status=InvitationStatus.REVOKED, reason="Revoke an invitation")


def invitations_for(user):
    """Pending invitations addressed to the user (by user name or e-mail)."""
    names = Q(invitee__iexact=user.get_username())
    if user.email:
        names |= Q(invitee__iexact=user.email.strip())
    return Invitation.objects.filter(names, status=InvitationStatus.PENDING).select_related("lab")
