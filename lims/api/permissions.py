"""Authorisation by Membership role in the lab that owns the record.

Reading needs membership only (querysets are scoped to the user's labs, so another lab's rows are
simply not found). Writing needs one of the roles the view names for the action, in the record's lab.
The services check the role again for the lab they write to: the view's check is the early answer,
the service's the binding one.
"""

from rest_framework.permissions import BasePermission

from lims.models import Membership
from lims.roles import user_role


class LabRolePermission(BasePermission):
    message = "Your role in this lab does not allow this."

    def has_permission(self, request, view) -> bool:
        user = request.user
        if not (user and user.is_authenticated):
            return False
        roles = view.roles_for_action()
        if roles is None:
            return True
        if view.kwargs.get(getattr(view, "lookup_url_kwarg", None) or view.lookup_field) is not None:
            # A detail route: the object's lab decides, after another lab's object has answered 404.
            return True
        return Membership.objects.filter(user=user, role__in=roles).exists()

    def has_object_permission(self, request, view, obj) -> bool:
        roles = view.roles_for_action()
        if roles is None:
            return True
        return user_role(request.user, obj.lab_id) in roles
