"""Posting a form through a service: errors land on the named field, nothing half-written, inline validation."""

from collections.abc import Callable

from django.core.exceptions import ValidationError
from django.db import models
from django.http import JsonResponse

from batches.labels import field_label
from batches.services.records import Conflict, validate_record


def attach_errors(form, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for name, messages in error.message_dict.items():
        target = name if name in form.fields else None
        for message in messages:
            if target is None and name != "__all__":
                message = f"{field_label(getattr(getattr(form, '_meta', None), 'model', None), name)}: {message}"
            form.add_error(target, message)


def validate_only(form, instance_factory: Callable[[dict], models.Model] | None = None):
    """Inline validation while typing: errors for the fields already filled in, nothing saved."""
    form.is_valid()
    if instance_factory is not None and not form.errors:
        try:
            validate_record(instance_factory(form.cleaned_data))
        except ValidationError as error:
            attach_errors(form, error)
    for name in list(form.errors):
        if name != "__all__" and not form.data.get(form.add_prefix(name)):
            del form.errors[name]
    return form


def validation_response(form) -> JsonResponse:
    """The inline-validation answer: every message per field name ("__all__" for the whole form)."""
    return JsonResponse({"errors": {name: [str(m) for m in messages] for name, messages in form.errors.items()}})


def save_through_service(form, write: Callable[[dict], models.Model]):
    """Run the service with the form's data; return the saved record, or None with the errors on the form."""
    if not form.is_valid():
        return None
    try:
        return write(form.service_data())
    except ValidationError as error:
        attach_errors(form, error)
    except Conflict as conflict:
        form.add_error(None, str(conflict))
    return None


def posted_version(request) -> int:
    try:
        return int(request.POST.get("_version", ""))
    except ValueError:
        return -1
