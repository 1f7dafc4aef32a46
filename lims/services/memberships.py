"""Who belongs to a lab: lab administrators change roles and remove members (people join by invitation).

Every change to a lab's memberships first locks the lab's row, so two administrators acting at once
are serialised: the second sees what the first committed (two lab admins demoting each other leave
exactly one).
"""

from django.core.exceptions import ValidationError
from django.db import transaction

from batches.services.records import save_record, validate_record
from lims.audit import audit_context
from lims.models import Lab, Membership, Role
from lims.roles import require_role

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
