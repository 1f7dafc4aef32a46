"""Posting a form through a service: errors land on the named field, nothing half-written, inline validation."""

from collections.abc import Callable

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db import models
from django.http import HttpResponse, JsonResponse
from django.shortcuts import redirect, render

from batches.labels import field_label
from batches.services.records import Conflict, validate_record
from lims.web import can_write, require_write


def attach_errors(form, error: ValidationError) -> None:
    if not hasattr(error, "error_dict"):
        for message in error.messages:
            form.add_error(None, message)
        return
    for name, field_messages in error.message_dict.items():
        target = name if name in form.fields else None
        for message in field_messages:
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


def edit_page(
    request,
    form,
    *,
    instance: models.Model,
    write: Callable[[dict, int], models.Model],
    saved: Callable[[models.Model], tuple[str, str]],
    context: dict,
    writable: bool | None = None,
    locked_note: str = "",
) -> HttpResponse:
    """The page of one existing row: on POST, inline validation or a save through `write(data, version)`, then
    `saved(row)` gives the message and the address to go to; otherwise the form, read-only where the user may not
    write (`writable` defaults to the user's role in the row's lab; a lock says why in `locked_note`)."""
    writable = can_write(request.user, instance.lab_id) if writable is None else writable
    if request.method == "POST":
        require_write(request.user, instance.lab_id)
        if not writable:
            messages.error(request, locked_note)
            return redirect(request.path)
        if request.POST.get("_validate"):
            validate_only(form)
            return validation_response(form)
        version = posted_version(request)
        row = save_through_service(form, lambda data: write(data, version))
        if row is not None:
            message, address = saved(row)
            messages.success(request, message)
            return redirect(address)
    if not writable:
        for field in form.fields.values():
            field.disabled = True
    context = {"form": form, "version": instance.version, "writable": writable, **context}
    return render(request, "batches/record_form.html", context)
