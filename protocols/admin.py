from django.contrib import admin

from lims.admin_base import LabOwnedInline, LabScopedAdmin
from protocols import models as pm


class ProtocolVersionInline(LabOwnedInline):
    model = pm.ProtocolVersion
    fields = ("number", "status", "change_summary", "approved_by", "approved_at")
    readonly_fields = ("status", "approved_by", "approved_at")


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
    list_display = ("batch", "protocol_version", "parameter", "expected", "actual", "status", "approved_by")
    list_filter = ("lab", "status")
    search_fields = ("batch__code", "parameter")
    readonly_fields = (*LabScopedAdmin.readonly_fields, "approved_by", "approved_at")
