"""SOPs and deviations in the admin: read-only for the lab's administrators (lims.admin_base).

Versions are drafted, published (a signature) and retired in the app and the API, deviations are
justified there; the approve action calls the deviation service, which applies the roles (a reviewer
who is not the justifier).
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from lims.admin_base import LabOwnedInline, LabScopedAdmin
from protocols import models as pm
from protocols.services import deviation_approve


def _report(modeladmin, request, done: int, verb: str, errors: list[str]) -> None:
    if done:
        modeladmin.message_user(request, f"{done} {verb}.", messages.SUCCESS)
    for error in errors:
        modeladmin.message_user(request, error, messages.ERROR)


def _error_text(exc: Exception) -> str:
    if isinstance(exc, ValidationError):
        return " ".join(exc.messages)
    return str(exc)


class ProtocolVersionInline(LabOwnedInline):
    model = pm.ProtocolVersion
    fields = ("number", "status", "change_summary", "approved_by", "approved_at")
    readonly_fields = fields


class ProtocolParameterInline(LabOwnedInline):
    model = pm.ProtocolParameter
    fields = ("name", "value_type", "unit", "default", "min_value", "max_value", "choices")


@admin.register(pm.Protocol)
class ProtocolAdmin(LabScopedAdmin):
    list_display = ("code", "title", "category", "lab")
    list_filter = ("lab", "category")
    search_fields = ("code", "title")
    inlines = [ProtocolVersionInline]


@admin.register(pm.ProtocolVersion)
class ProtocolVersionAdmin(LabScopedAdmin):
    list_display = ("protocol", "number", "status", "approved_by", "approved_at")
    list_filter = ("lab", "status", "protocol__category")
    search_fields = ("protocol__code", "protocol__title")
    readonly_fields = (*LabScopedAdmin.readonly_fields, "status", "approved_by", "approved_at")
    inlines = [ProtocolParameterInline]


@admin.register(pm.Deviation)
class DeviationAdmin(LabScopedAdmin):
    """Deviations are raised by the deviation check, never typed in."""

    list_display = ("batch", "record_label", "parameter", "expected", "actual", "status", "approved_by")
    list_filter = ("lab", "status")
    search_fields = ("batch__code", "parameter")
    fields = (
        "batch",
        "protocol_version",
        "record_type",
        "record_id",
        "record_label",
        "parameter",
        "expected",
        "actual",
        "justification",
        "status",
        "approved_by",
        "approved_at",
        "closed_at",
        *LabScopedAdmin.readonly_fields,
    )
    readonly_fields = fields
    actions = ["approve_selected"]

    @admin.action(description="Approve the selected justified deviations (reviewer)")
    def approve_selected(self, request, queryset):
        done, errors = 0, []
        for deviation in queryset.select_related("batch"):
            try:
                deviation_approve(deviation=deviation, actor=request.user)
                done += 1
            except (ValidationError, PermissionDenied) as exc:
                errors.append(f"{deviation.batch.code} {deviation.parameter}: {_error_text(exc)}")
        _report(self, request, done, "deviation(s) approved", errors)
