"""Sign-in security: record every password check, lock an account after repeated failures.

An account is locked while it has LOGIN_FAILURE_LIMIT or more failed password checks within the
last LOGIN_LOCKOUT_MINUTES that came after its last successful check or unlock. Attempts refused
because of the lock are recorded but do not extend it, so the lock ends LOGIN_LOCKOUT_MINUTES
after the failure that set it.
"""

import datetime as dt

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.db import DEFAULT_DB_ALIAS, connection, connections
from django.db.models import Max
from django.utils import timezone

from lims.roles import user_role
from lims.sign_in import SignInAttempt, SignInChannel, SignInOutcome

_COLUMNS = ("at", "username", "user_id", "outcome", "channel", "ip_address", "user_agent", "recorded_by_id")


def _client(request) -> tuple[str | None, str]:
    if request is None:
        return None, ""
    ip = request.META.get("REMOTE_ADDR") or None
    return ip, (request.META.get("HTTP_USER_AGENT") or "")[:300]


def _insert_on_own_connection(values: dict) -> None:
    """Commit the row now, whatever happens to the transaction in progress."""
    own = connections.create_connection(DEFAULT_DB_ALIAS)
    try:
        with own.cursor() as cursor:
            cursor.execute(
                f"INSERT INTO {SignInAttempt._meta.db_table} ({', '.join(_COLUMNS)}) "
                f"VALUES ({', '.join(['%s'] * len(_COLUMNS))})",
                [values[column] for column in _COLUMNS],
            )
    finally:
        own.close()


def sign_in_attempt_record(*, username: str, user, outcome: str, channel: str, request=None, recorded_by=None) -> None:
    """Record one password check. A failure is committed even if the caller's transaction rolls back."""
    ip, agent = _client(request)
    values = {
        "at": timezone.now(),
        "username": (username or "")[:150],
        "user_id": getattr(user, "pk", None),
        "outcome": outcome,
        "channel": channel,
        "ip_address": ip,
        "user_agent": agent,
        "recorded_by_id": getattr(recorded_by, "pk", None),
    }
    if outcome != SignInOutcome.SUCCEEDED and connection.in_atomic_block:
        _insert_on_own_connection(values)
    else:
        SignInAttempt.objects.create(**values)


def _counted_failures(user):
    """Failed checks inside the lockout window that came after the last success or unlock."""
    window = dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)
    attempts = SignInAttempt.objects.filter(user_id=user.pk)
    last_reset = attempts.filter(outcome__in=[SignInOutcome.SUCCEEDED, SignInOutcome.UNLOCKED]).aggregate(at=Max("at"))[
        "at"
    ]
    failures = attempts.filter(outcome=SignInOutcome.FAILED, at__gt=timezone.now() - window)
    if last_reset is not None:
        failures = failures.filter(at__gt=last_reset)
    return failures


def sign_in_failure_count(*, user) -> int:
    return _counted_failures(user).count()


def sign_in_locked_until(*, user) -> dt.datetime | None:
    """When the account's lock ends, or None when it is not locked."""
    if user is None or user.pk is None:
        return None
    limit = settings.LOGIN_FAILURE_LIMIT
    recent = list(_counted_failures(user).order_by("-at").values_list("at", flat=True)[:limit])
    if len(recent) < limit:
        return None
    return recent[limit - 1] + dt.timedelta(minutes=settings.LOGIN_LOCKOUT_MINUTES)


def sign_in_unlock(*, user, actor) -> None:
    """A lab administrator of one of the user's labs (or a superuser) lifts a lock."""
    if not actor.is_superuser:
        labs = user.memberships.values_list("lab_id", flat=True)
        if not any(user_role(actor, lab_id) == "lab_admin" for lab_id in labs):
            raise PermissionDenied("Unlocking an account needs the lab_admin role in one of the user's labs.")
    sign_in_attempt_record(
        username=user.get_username(),
        user=user,
        outcome=SignInOutcome.UNLOCKED,
        channel=SignInChannel.ADMIN,
        recorded_by=actor,
    )


def user_for_username(username: str | None):
    if not username:
        return None
    model = get_user_model()
    try:
        return model._default_manager.get_by_natural_key(username)
    except model.DoesNotExist:
        return None
