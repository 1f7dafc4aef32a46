"""Who may do what in a lab, by Membership role."""

from django.core.exceptions import PermissionDenied

from lims.models import Lab, Membership, Role

WRITE_ROLES = {Role.TECHNICIAN, Role.REVIEWER, Role.LAB_ADMIN}
REVIEW_ROLES = {Role.REVIEWER}
# Justifying a deviation is the bench's and the PI's account of what happened; the lab admin does not write it.
JUSTIFY_ROLES = {Role.TECHNICIAN, Role.REVIEWER}
READ_ROLES = {Role.TECHNICIAN, Role.REVIEWER, Role.AUDITOR, Role.LAB_ADMIN}


def user_role(user, lab: Lab | int) -> str | None:
    lab_id = lab if isinstance(lab, int) else lab.pk
    if user is None or not user.is_authenticated:
        return None
    return Membership.objects.filter(user=user, lab_id=lab_id).values_list("role", flat=True).first()


def require_role(user, lab: Lab | int, roles: set[str], action: str) -> str:
    role = user_role(user, lab)
    if role not in roles:
        allowed = ", ".join(sorted(str(r) for r in roles))
        raise PermissionDenied(f"{action} needs one of these roles in the lab: {allowed}.")
    return role
