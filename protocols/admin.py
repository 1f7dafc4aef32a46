from django import forms
from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError

from lims.admin_base import LabOwnedInline, LabScopedAdmin
from protocols import models as pm
from protocols.services import deviation_approve, deviation_justify


def _is_published(version: pm.ProtocolVersion | None) -> bool:
    return version is not None and version.pk is not None and version.status != pm.VersionStatus.DRAFT


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
    """Versions are listed here and edited on their own page, where a published one is read-only."""

    model = pm.ProtocolVersion
    fields = ("number", "status", "change_summary", "approved_by", "approved_at")
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ProtocolParameterInline(LabOwnedInline):
    model = pm.ProtocolParameter
    fields = ("name", "value_type", "unit", "default", "min_value", "max_value", "choices")

    # `obj` is the version the parameters belong to: a published version's parameters are frozen.
    def has_add_permission(self, request, obj=None):
        return not _is_published(obj) and super().has_add_permission(request, obj)

    def has_change_permission(self, request, obj=None):
        return not _is_published(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _is_published(obj) and super().has_delete_permission(request, obj)


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

    # An effective or retired version opens read-only; a POST to it is refused (403) before any save.
    # Publishing is a signed act (password re-entry) and is done through the API, not from here.
    def has_change_permission(self, request, obj=None):
        return not _is_published(obj) and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return not _is_published(obj) and super().has_delete_permission(request, obj)

    def save_model(self, request, obj, form, change):
        if change and _is_published(pm.ProtocolVersion.objects.filter(pk=obj.pk).first()):
            raise PermissionDenied("A published protocol version cannot be edited; create a new draft.")
        super().save_model(request, obj, form, change)


class DeviationForm(forms.ModelForm):
    class Meta:
        model = pm.Deviation
        fields = ("justification",)

    def clean_justification(self):
        text = (self.cleaned_data.get("justification") or "").strip()
        if not text:
            raise forms.ValidationError("Say why the value departed from the SOP.")
        return text


@admin.register(pm.Deviation)
class DeviationAdmin(LabScopedAdmin):
    """Deviations are raised by the deviation check, never typed in; here they are justified and approved."""

    form = DeviationForm

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
    readonly_fields = tuple(name for name in fields if name != "justification")
    actions = ["approve_selected"]

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.status != pm.DeviationStatus.OPEN:
            return False
        return super().has_change_permission(request, obj)

    def save_model(self, request, obj, form, change):
        deviation_justify(deviation=obj, actor=request.user, justification=form.cleaned_data["justification"])

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
