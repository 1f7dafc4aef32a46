"""Password sign-in with lockout: the only authentication backend (settings.AUTHENTICATION_BACKENDS).

Browser, admin and API-token sign-ins all go through django.contrib.auth.authenticate(), hence here.
"""

from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from lims.services.sign_in import sign_in_attempt_record, sign_in_locked_until, user_for_username
from lims.sign_in import SignInChannel, SignInOutcome


class LockoutModelBackend(ModelBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is None:
            username = kwargs.get(self._username_field())
        if username is None or password is None:
            return None
        account = user_for_username(username)
        if sign_in_locked_until(user=account) is not None:
            sign_in_attempt_record(
                username=username,
                user=account,
                outcome=SignInOutcome.LOCKED_OUT,
                channel=SignInChannel.PASSWORD,
                request=request,
            )
            # PermissionDenied stops authenticate() from trying other backends and signals the failure.
            raise PermissionDenied("This account is locked after repeated failed sign-ins.")
        user = super().authenticate(request, username=username, password=password, **kwargs)
        sign_in_attempt_record(
            username=username,
            user=account,
            outcome=SignInOutcome.SUCCEEDED if user is not None else SignInOutcome.FAILED,
            channel=SignInChannel.PASSWORD,
            request=request,
        )
        return user

    @staticmethod
    def _username_field() -> str:
        from django.contrib.auth import get_user_model

        return get_user_model().USERNAME_FIELD
