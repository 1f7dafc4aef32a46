"""Which labs a request may see: the labs the user is a member of, as a subquery (no extra round trip)."""

from django.db.models import QuerySet

from lims.models import Membership


def member_lab_ids(user) -> QuerySet:
    """Ids of the user's labs, as a subquery to filter on; empty for anonymous users."""
    if user is None or not user.is_authenticated:
        return Membership.objects.none().values("lab_id")
    return Membership.objects.filter(user_id=user.pk).values("lab_id")


def scope_to_user_labs(queryset: QuerySet, user, lab_field: str = "lab") -> QuerySet:
    return queryset.filter(**{f"{lab_field}_id__in": member_lab_ids(user)})
