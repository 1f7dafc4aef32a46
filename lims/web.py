"""What every server-rendered page shares: lab scoping and role checks, the same rules as the API."""

from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import QuerySet
from django.http import Http404

from lims.models import Membership, Role
from lims.roles import REVIEW_ROLES, WRITE_ROLES, user_role


def user_lab_ids(user) -> QuerySet:
    return Membership.objects.filter(user_id=user.pk).values("lab_id")


def user_lab_id_list(user) -> list[int]:
    """The user's lab ids as values, read now: filtering on values rather than a subquery lets PostgreSQL walk
    a (lab, …) index in order and stop after a page, instead of reading every row of the labs."""
    return list(user_lab_ids(user).values_list("lab_id", flat=True))


def scoped(queryset: QuerySet, user, lab_field: str = "lab") -> QuerySet:
    return queryset.filter(**{f"{lab_field}_id__in": user_lab_ids(user)})


def get_scoped_or_404(queryset: QuerySet, user, **lookup):
    """Another lab's object answers 404, exactly like a missing one."""
    try:
        return scoped(queryset, user).get(**lookup)
    except queryset.model.DoesNotExist:
        raise Http404(f"No {queryset.model._meta.verbose_name} here.") from None


def default_lab(user):
    """The lab new records go to: the user's only lab, or the first lab where they may write."""
    membership = (
        Membership.objects.filter(user=user, role__in=WRITE_ROLES).select_related("lab").order_by("lab__name").first()
    )
    if membership is None:
        raise PermissionDenied("You are not a member of a lab where you may record.")
    return membership.lab


def writable_labs(user) -> list:
    """The labs where the user may record, by name (a lab picker offers them when there are several)."""
    return [
        membership.lab
        for membership in Membership.objects.filter(user=user, role__in=WRITE_ROLES)
        .select_related("lab")
        .order_by("lab__name")
    ]


def may_create(user) -> bool:
    """Whether the user may record new things in at least one lab."""
    return Membership.objects.filter(user=user, role__in=WRITE_ROLES).exists()


def can_write(user, lab_id: int) -> bool:
    return user_role(user, lab_id) in WRITE_ROLES


def can_review(user, lab_id: int) -> bool:
    return user_role(user, lab_id) in REVIEW_ROLES


def require_write(user, lab_id: int) -> None:
    if not can_write(user, lab_id):
        raise PermissionDenied("Your role in this lab is read-only.")


def member_required(view):
    """Signed in and a member of at least one lab."""

    @login_required
    @wraps(view)
    def wrapper(request, *args, **kwargs):
        if not Membership.objects.filter(user=request.user).exists():
            raise PermissionDenied("You are not a member of any lab.")
        return view(request, *args, **kwargs)

    return wrapper


def role_label(user) -> str:
    roles = set(Membership.objects.filter(user=user).values_list("role", flat=True))
    return ", ".join(sorted(Role(r).label for r in roles))
