"""Lab records in the admin: read-only pages for lab administrators, scoped to their labs (lims.admin_base).

Records are created and changed in the app and the API; the admin's actions call the services.
"""

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils.html import format_html

from batches import models as m
from batches.services.checklist import batch_check_queue
from batches.shipments import admin as shipments_admin  # noqa: F401  (registers the shipments' pages)
from lims.admin_base import LabOwnedInline, LabScopedAdmin, LimsAdmin


class ImmunophenotypeInline(LabOwnedInline):
    model = m.Immunophenotype
    fields = ("marker", "percent_positive", "passage_number", "measured_on", "primed_with_ifng")


class DifferentiationInline(LabOwnedInline):
    model = m.Differentiation
    fields = ("lineage", "result", "method", "passage_number", "assessed_on")


class PassageInline(LabOwnedInline):
    model = m.Passage
    fk_name = "cell_line"
    fields = (
        "number",
        "parent",
        "started_on",
        "harvested_on",
        "vessel",
        "area_cm2",
        "cells_seeded",
        "cells_harvested",
        "viability_percent",
        "confluence_percent",
        "mycoplasma_result",
    )


class PrimingAgentInline(LabOwnedInline):
    model = m.PrimingAgent
    fields = ("agent", "concentration", "concentration_unit", "exposure", "exposure_unit", "supplier")


class ProcessingStepInline(LabOwnedInline):
    model = m.ProcessingStep
    fields = (
        "order",
        "kind",
        "g_force",
        "duration_min",
        "temperature_c",
        "rotor",
        "k_factor",
        "pore_size_um",
        "mwco_kda",
        "concentration_factor",
        "final_volume_ml",
        "protocol_version",
    )


class QCResultInline(LabOwnedInline):
    model = m.QCResult
    fk_name = "batch"
    fields = (
        "assay",
        "analyte",
        "sample",
        "method",
        "value",
        "unit",
        "result_text",
        "performed_on",
        "performed_by",
        "outcome",
        "status",
    )
    readonly_fields = ("outcome", "status")


class AliquotInline(LabOwnedInline):
    model = m.Aliquot
    fields = ("code", "volume_ul", "container", "buffer", "state", "temperature_c", "location", "position", "status")


class AdministrationInline(LabOwnedInline):
    model = m.Administration
    fields = ("batch", "group", "dose_value", "dose_unit", "route", "site", "volume_ul", "n_doses", "vehicle")


class OutcomeMeasureInline(LabOwnedInline):
    model = m.OutcomeMeasure
    fields = ("test", "unit", "time_points", "baseline", "is_primary")


@admin.register(m.Donor)
class DonorAdmin(LabScopedAdmin):
    list_display = ("code", "species", "tissue_source", "sex", "age_years", "pooled", "n_donors", "lab")
    list_filter = ("lab", "species", "tissue_source", "sex", "pooled", "genetically_modified")
    search_fields = ("code", "anatomical_site", "supplier", "lot")


@admin.register(m.CellLine)
class CellLineAdmin(LabScopedAdmin):
    list_display = ("code", "donor", "isolation_method", "supplement", "culture_format", "plastic_adherent", "lab")
    list_filter = ("lab", "isolation_method", "supplement", "culture_format", "donor__tissue_source")
    search_fields = ("code", "donor__code")
    list_select_related = ("donor", "lab")
    inlines = [ImmunophenotypeInline, DifferentiationInline, PassageInline]


@admin.register(m.Passage)
class PassageAdmin(LabScopedAdmin):
    list_display = (
        "__str__",
        "started_on",
        "harvested_on",
        "cells_seeded",
        "cells_harvested",
        "doublings",
        "cumulative_doublings",
        "viability_percent",
        "mycoplasma_result",
    )
    list_filter = ("lab", "mycoplasma_result", "vessel", "cell_line")
    search_fields = ("cell_line__code",)
    list_select_related = ("cell_line", "lab")
    readonly_fields = (
        *LabScopedAdmin.readonly_fields,
        "seeding_density",
        "doublings",
        "cumulative_doublings",
        "doubling_time",
    )

    @admin.display(description="Seeding density (cells/cm²)")
    def seeding_density(self, obj):
        value = obj.seeding_density_per_cm2
        return "—" if value is None else f"{value:,.0f}"

    @admin.display(description="PD")
    def doublings(self, obj):
        value = obj.population_doublings
        return "—" if value is None else f"{value:.2f}"

    @admin.display(description="Cumulative PD")
    def cumulative_doublings(self, obj):
        value = obj.cumulative_population_doublings
        return "—" if value is None else f"{value:.2f}"

    @admin.display(description="Doubling time (h)")
    def doubling_time(self, obj):
        value = obj.doubling_time_h
        return "—" if value is None else f"{value:.1f}"


@admin.register(m.PrimingCondition)
class PrimingConditionAdmin(LabScopedAdmin):
    list_display = ("name", "kind", "o2_percent", "duration_h", "washout", "lab")
    list_filter = ("lab", "kind")
    search_fields = ("name",)
    inlines = [PrimingAgentInline]


@admin.register(m.SecretomeBatch)
class SecretomeBatchAdmin(LabScopedAdmin):
    list_display = (
        "code",
        "product_type",
        "intended_use",
        "status_badge",
        "passage",
        "priming",
        "collected_at",
        "final_volume_ml",
        "operator",
    )
    list_filter = (
        "lab",
        "status",
        "product_type",
        "intended_use",
        "priming__kind",
        "passage__cell_line__donor__tissue_source",
    )
    search_fields = ("code", "passage__cell_line__code", "passage__cell_line__donor__code")
    date_hierarchy = "collected_at"
    list_select_related = ("passage__cell_line", "priming", "operator", "lab")
    readonly_fields = (*LabScopedAdmin.readonly_fields, "status")
    inlines = [ProcessingStepInline, QCResultInline, AliquotInline]
    actions = ["recheck_selected"]

    @admin.action(description="Re-check the selected batches against the checklist")
    def recheck_selected(self, request, queryset):
        try:
            queued = batch_check_queue(batch_ids=queryset.values_list("pk", flat=True), actor=request.user)
        except (PermissionDenied, ValidationError) as exc:
            self.message_user(request, " ".join(getattr(exc, "messages", [str(exc)])), messages.ERROR)
            return
        self.message_user(request, f"{len(queued)} batch check(s) queued.", messages.SUCCESS)

    @admin.display(description="Status", ordering="status")
    def status_badge(self, obj):
        colours = {
            "draft": "#666",
            "submitted": "#b07d00",
            "released": "#17803d",
            "rejected": "#b3261e",
            "retired": "#444",
        }
        return format_html('<b style="color:{}">{}</b>', colours.get(obj.status, "#000"), obj.get_status_display())


@admin.register(m.BatchEvent)
class BatchEventAdmin(LimsAdmin):
    list_display = ("batch", "kind", "actor", "at")
    list_filter = ("kind",)
    search_fields = ("batch__code",)


@admin.register(m.ProcessingStep)
class ProcessingStepAdmin(LabScopedAdmin):
    list_display = ("batch", "order", "kind", "g_force", "duration_min", "temperature_c", "pore_size_um", "mwco_kda")
    list_filter = ("lab", "kind")
    search_fields = ("batch__code",)


@admin.register(m.StorageLocation)
class StorageLocationAdmin(LabScopedAdmin):
    list_display = ("__str__", "kind", "temperature_c", "rows", "columns")
    list_filter = ("lab", "kind")
    search_fields = ("name",)


@admin.register(m.Aliquot)
class AliquotAdmin(LabScopedAdmin):
    list_display = (
        "code",
        "batch",
        "volume_ul",
        "state",
        "temperature_c",
        "location",
        "position",
        "freeze_thaw_count",
        "status",
    )
    list_filter = ("lab", "state", "status", "container")
    search_fields = ("code", "batch__code")
    list_select_related = ("batch", "location")


@admin.register(m.AliquotEvent)
class AliquotEventAdmin(LabScopedAdmin):
    list_display = ("aliquot", "kind", "at", "volume_ul", "actor")
    list_filter = ("lab", "kind")
    search_fields = ("aliquot__code",)


@admin.register(m.QCSpecification)
class QCSpecificationAdmin(LabScopedAdmin):
    list_display = (
        "assay",
        "analyte",
        "product_type",
        "min_value",
        "warn_min",
        "warn_max",
        "max_value",
        "unit",
        "expected_text",
        "spec_version",
        "effective_from",
    )
    list_filter = ("lab", "assay", "product_type")
    search_fields = ("analyte",)


@admin.register(m.QCResult)
class QCResultAdmin(LabScopedAdmin):
    list_display = (
        "batch",
        "assay",
        "analyte",
        "value",
        "unit",
        "result_text",
        "outcome",
        "status",
        "performed_on",
        "performed_by",
        "verified_by",
    )
    list_filter = ("lab", "assay", "outcome", "status", "method")
    search_fields = ("batch__code", "analyte")
    list_select_related = ("batch", "performed_by", "verified_by")
    readonly_fields = (*LabScopedAdmin.readonly_fields, "outcome", "status", "verified_by", "verified_at")


@admin.register(m.Study)
class StudyAdmin(LabScopedAdmin):
    list_display = ("title", "pain_model", "species", "strain", "n_per_group", "lab")
    list_filter = ("lab", "pain_model", "species")
    search_fields = ("title", "strain")
    inlines = [AdministrationInline, OutcomeMeasureInline]


@admin.register(m.Administration)
class AdministrationAdmin(LabScopedAdmin):
    list_display = ("study", "batch", "group", "dose_value", "dose_unit", "route", "volume_ul", "n_doses")
    list_filter = ("lab", "route", "dose_unit")
    search_fields = ("study__title", "batch__code", "group")


@admin.register(m.OutcomeMeasure)
class OutcomeMeasureAdmin(LabScopedAdmin):
    list_display = ("study", "test", "unit", "is_primary")
    list_filter = ("lab", "test")


@admin.register(m.ChecklistReport)
class ChecklistReportAdmin(LimsAdmin):
    list_display = ("__str__", "batch", "study", "score", "checklist_version", "created_at")
    list_filter = ("checklist_version",)
    search_fields = ("batch__code", "study__title", "fingerprint")
    readonly_fields = [f.name for f in m.ChecklistReport._meta.fields]
