"""Which labs a request may see: the labs the user is a member of."""

from django.db.models import QuerySet

from lims.models import Membership


def member_lab_ids(user) -> QuerySet:
    """Ids of the user's labs, as a subquery to filter on; empty for anonymous users."""
    if user is None or not user.is_authenticated:
        return Membership.objects.none().values("lab_id")
    return Membership.objects.filter(user_id=user.pk).order_by().values("lab_id")


def request_lab_ids(request) -> list[int]:
    """The user's lab ids, read once per request.

    A list of ids (rather than a subquery) lets PostgreSQL walk the (lab, created_at) indexes in
    order and stop after one page, instead of sorting every row of the lab.
    """
    cached = getattr(request, "_lims_lab_ids", None)
    if cached is None:
        cached = sorted(member_lab_ids(request.user).values_list("lab_id", flat=True))
        request._lims_lab_ids = cached
    return cached


def scope_to_labs(queryset: QuerySet, lab_ids: list[int], lab_field: str = "lab") -> QuerySet:
    return queryset.filter(**{f"{lab_field}_id__in": lab_ids})


def scope_to_user_labs(queryset: QuerySet, user, lab_field: str = "lab") -> QuerySet:
    """The rows of the user's labs (the lab ids as a subquery; used outside ViewSets)."""
    return queryset.filter(**{f"{lab_field}_id__in": member_lab_ids(user)})
