"""Token authentication (django-rest-knox) that turns any malformed header into a 401, never a 500."""

import re

from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from rest_framework import exceptions

# Knox tokens are hexadecimal, optionally behind a configured prefix; nothing else can be valid.
_TOKEN = re.compile(rb"[A-Za-z0-9_\-]{1,200}")


class TokenAuthentication(KnoxTokenAuthentication):
    def authenticate_credentials(self, token: bytes):
        if not _TOKEN.fullmatch(token):
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        return super().authenticate_credentials(token)
