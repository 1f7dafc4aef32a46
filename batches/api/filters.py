"""Filters a lab uses: status, product type, donor, tissue source, priming kind, dates, score, QC."""

from django.db.models import Exists
from django_filters import rest_framework as filters

from batches import choices
from batches.models import (
    Administration,
    Aliquot,
    CellLine,
    ChecklistReport,
    Differentiation,
    Donor,
    Immunophenotype,
    OutcomeMeasure,
    Passage,
    PrimingCondition,
    ProcessingStep,
    QCResult,
    QCSpecification,
    SecretomeBatch,
    StorageLocation,
    Study,
)
from batches.selectors.qc import out_of_spec_results
from lims.api.filters import FloatFilter, IdFilter, IsoDateFilter, LabFilterSet, date_filters


class DonorFilter(LabFilterSet):
    code = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Donor
        fields = ("code", "species", "tissue_source", "sex", "health_status", "pooled", "genetically_modified")


class CellLineFilter(LabFilterSet):
    code = filters.CharFilter(lookup_expr="icontains")
    tissue_source = filters.ChoiceFilter(field_name="donor__tissue_source", choices=choices.TissueSource.choices)
    species = filters.ChoiceFilter(field_name="donor__species", choices=choices.Species.choices)

    class Meta:
        model = CellLine
        fields = ("code", "donor", "isolation_method", "supplement", "culture_format", "protocol_version")


class ImmunophenotypeFilter(LabFilterSet):
    class Meta:
        model = Immunophenotype
        fields = ("cell_line", "marker", "primed_with_ifng")


class DifferentiationFilter(LabFilterSet):
    class Meta:
        model = Differentiation
        fields = ("cell_line", "lineage", "result")


class PassageFilter(LabFilterSet):
    donor = IdFilter(field_name="cell_line__donor")
    tissue_source = filters.ChoiceFilter(
        field_name="cell_line__donor__tissue_source", choices=choices.TissueSource.choices
    )
    started_after, started_before = date_filters("started_on", label="Seeded")

    class Meta:
        model = Passage
        fields = ("cell_line", "parent", "number", "vessel", "mycoplasma_result", "protocol_version")


class PrimingConditionFilter(LabFilterSet):
    name = filters.CharFilter(lookup_expr="icontains")
    agent = filters.ChoiceFilter(field_name="agents__agent", choices=choices.PrimingAgentName.choices, distinct=True)

    class Meta:
        model = PrimingCondition
        fields = ("name", "kind", "device", "protocol_version")


class BatchFilter(LabFilterSet):
    code = filters.CharFilter(lookup_expr="icontains")
    status = filters.MultipleChoiceFilter(choices=choices.BatchStatus.choices)
    product_type = filters.MultipleChoiceFilter(choices=choices.ProductType.choices)
    cell_line = IdFilter(field_name="passage__cell_line")
    donor = IdFilter(field_name="passage__cell_line__donor")
    tissue_source = filters.ChoiceFilter(
        field_name="passage__cell_line__donor__tissue_source", choices=choices.TissueSource.choices
    )
    priming_kind = filters.ChoiceFilter(field_name="priming__kind", choices=choices.PrimingKind.choices)
    collected_after, collected_before = date_filters("collected_at", label="Collected")
    checklist_score_below = FloatFilter(
        field_name="checklist_score",
        lookup_expr="lt",
        min_value=0,
        max_value=1000,
        label="Latest checklist score below this value (batches never checked are left out)",
    )
    qc_out_of_spec = filters.BooleanFilter(
        method="filter_qc_out_of_spec",
        label="Has (true) or has no (false) QC result outside its specification",
    )

    class Meta:
        model = SecretomeBatch
        fields = (
            "code",
            "status",
            "product_type",
            "intended_use",
            "passage",
            "priming",
            "protocol_version",
            "operator",
            "mock_control",
        )

    def filter_qc_out_of_spec(self, queryset, name: str, value: bool):
        # A plain EXISTS, not the list's row-by-row flag: here PostgreSQL may join it with the results.
        if value is None:
            return queryset
        failed = Exists(out_of_spec_results())
        return queryset.filter(failed if value else ~failed)


class ProcessingStepFilter(LabFilterSet):
    class Meta:
        model = ProcessingStep
        fields = ("batch", "kind", "protocol_version")


class StorageLocationFilter(LabFilterSet):
    name = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = StorageLocation
        fields = ("name", "kind", "parent")


class AliquotFilter(LabFilterSet):
    code = filters.CharFilter(lookup_expr="icontains")
    status = filters.MultipleChoiceFilter(choices=choices.AliquotStatus.choices)
    stored_after, stored_before = date_filters("stored_at", label="Stored")

    class Meta:
        model = Aliquot
        fields = ("code", "batch", "status", "state", "container", "location")


class QCSpecificationFilter(LabFilterSet):
    effective_on = IsoDateFilter(field_name="effective_from", lookup_expr="lte", label="In force on this day")

    class Meta:
        model = QCSpecification
        fields = ("assay", "analyte", "product_type")


class QCResultFilter(LabFilterSet):
    status = filters.MultipleChoiceFilter(choices=choices.QCStatus.choices)
    outcome = filters.MultipleChoiceFilter(choices=choices.QCOutcome.choices)
    out_of_spec = filters.BooleanFilter(method="filter_out_of_spec", label="Failed its specification (true)")
    product_type = filters.ChoiceFilter(field_name="batch__product_type", choices=choices.ProductType.choices)
    performed_after, performed_before = date_filters("performed_on", label="Performed")

    class Meta:
        model = QCResult
        fields = ("batch", "assay", "analyte", "method", "sample", "status", "outcome", "performed_by", "specification")

    def filter_out_of_spec(self, queryset, name: str, value: bool):
        if value is None:
            return queryset
        failed = {"outcome": choices.QCOutcome.FAIL}
        return queryset.filter(**failed) if value else queryset.exclude(**failed)


class StudyFilter(LabFilterSet):
    title = filters.CharFilter(lookup_expr="icontains")

    class Meta:
        model = Study
        fields = ("title", "pain_model", "species", "sex")


class AdministrationFilter(LabFilterSet):
    class Meta:
        model = Administration
        fields = ("study", "batch", "aliquot", "group", "dose_unit", "route")


class OutcomeMeasureFilter(LabFilterSet):
    class Meta:
        model = OutcomeMeasure
        fields = ("study", "test", "is_primary")


class ChecklistReportFilter(LabFilterSet):
    score_below = FloatFilter(field_name="score", lookup_expr="lt", min_value=0, max_value=1000)

    class Meta:
        model = ChecklistReport
        fields = ("batch", "study", "checklist_version")
