"""One error vocabulary for the whole API.

* 400 `{"field": ["message"]}` for every validation failure, nested fields flattened to dotted keys
  (`agents.0.concentration`), problems with no field under `non_field_errors`;
* 401 / 403 / 404 / 405 / 429 `{"detail": "message"}`;
* 409 `{"detail": "message", "current_version": n}` for a stale version or a record that may no longer change.
"""

from collections.abc import Mapping
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS, ObjectDoesNotExist
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import DataError, IntegrityError
from rest_framework import exceptions, status
from rest_framework.response import Response
from rest_framework.serializers import as_serializer_error
from rest_framework.settings import api_settings
from rest_framework.views import exception_handler, set_rollback

from lims.services.records import Blocked, Conflict

NON_FIELD = api_settings.NON_FIELD_ERRORS_KEY


def flatten_errors(detail: Any, prefix: str = "") -> dict[str, list[str]]:
    """{"agents": [{"dose": ["bad"]}]} -> {"agents.0.dose": ["bad"]}: every value a list of strings."""
    flat: dict[str, list[str]] = {}

    def add(key: str, messages: list[str]) -> None:
        flat.setdefault(key or NON_FIELD, []).extend(messages)

    if isinstance(detail, Mapping):
        for key, value in detail.items():
            name = NON_FIELD if key == NON_FIELD_ERRORS else str(key)
            for sub_key, messages in flatten_errors(value, f"{prefix}.{name}" if prefix else name).items():
                add(sub_key, messages)
    elif isinstance(detail, list | tuple):
        if all(not isinstance(item, Mapping | list | tuple) for item in detail):
            add(prefix, [str(item) for item in detail])
        else:
            for index, item in enumerate(detail):
                if item:
                    for sub_key, messages in flatten_errors(
                        item, f"{prefix}.{index}" if prefix else str(index)
                    ).items():
                        add(sub_key, messages)
    else:
        add(prefix, [str(detail)])
    return flat


def api_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, Blocked):
        set_rollback()
        return Response({"status": exc.blockers, "blockers": exc.blockers}, status=status.HTTP_400_BAD_REQUEST)
    if isinstance(exc, Conflict):
        set_rollback()
        return Response(
            {"detail": exc.message, "current_version": exc.current_version}, status=status.HTTP_409_CONFLICT
        )
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(as_serializer_error(exc))
    elif isinstance(exc, ObjectDoesNotExist):
        exc = exceptions.NotFound()
    elif isinstance(exc, IntegrityError):
        set_rollback()
        return Response(
            {"detail": "The change clashes with another record that was written at the same time; try again."},
            status=status.HTTP_409_CONFLICT,
        )
    elif isinstance(exc, DataError):
        exc = exceptions.ValidationError({NON_FIELD: ["A value is out of the range the database can store."]})
    elif isinstance(exc, exceptions.ParseError):
        exc = exceptions.ValidationError({NON_FIELD: [str(exc.detail)]})

    response = exception_handler(exc, context)
    if response is not None and isinstance(exc, exceptions.ValidationError):
        response.data = flatten_errors(response.data)
    return response
