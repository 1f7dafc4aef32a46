"""Serializers for the batches app: every writable field listed explicitly, foreign keys as ids."""

from typing import Any

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from batches import choices
from batches import fields as recorded
from batches.computations import cumulative_population_doublings
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
    PrimingAgent,
    PrimingCondition,
    ProcessingStep,
    QCResult,
    QCSpecification,
    SecretomeBatch,
    StorageLocation,
    Study,
)
from batches.models.studies import schedule_days_problem
from lims.api.serializers import LabOwnedSerializer, StrictModelSerializer, StrictSerializer

COMMON = ("id", "lab", "created_at", "created_by", "updated_at", "version")
AUDIT_READ_ONLY = ("created_at", "created_by", "updated_at")


def _computed(help_text: str) -> serializers.FloatField:
    return serializers.FloatField(read_only=True, allow_null=True, help_text=help_text)


class DonorSerializer(LabOwnedSerializer):
    tissue_group = serializers.ChoiceField(
        choices=choices.TissueGroup.choices,
        read_only=True,
        allow_null=True,
        help_text="Perinatal, adult or alternative source; null when the tissue is not recorded or is 'other'.",
    )

    class Meta(LabOwnedSerializer.Meta):
        model = Donor
        fields = (*COMMON, *recorded.DONOR_FIELDS, "tissue_group")


class ImmunophenotypeSerializer(LabOwnedSerializer):
    class Meta(LabOwnedSerializer.Meta):
        model = Immunophenotype
        fields = (*COMMON, "cell_line", *recorded.IMMUNOPHENOTYPE_FIELDS)


class DifferentiationSerializer(LabOwnedSerializer):
    class Meta(LabOwnedSerializer.Meta):
        model = Differentiation
        fields = (*COMMON, "cell_line", *recorded.DIFFERENTIATION_FIELDS)


class CellLineSerializer(LabOwnedSerializer):
    immunophenotypes = ImmunophenotypeSerializer(
        many=True, read_only=True, help_text="Marker measurements (write them at /immunophenotypes/)."
    )
    differentiations = DifferentiationSerializer(
        many=True, read_only=True, help_text="Trilineage results (write them at /differentiations/)."
    )

    class Meta(LabOwnedSerializer.Meta):
        model = CellLine
        fields = (*COMMON, *recorded.CELL_LINE_FIELDS, "immunophenotypes", "differentiations")


class PassageSerializer(LabOwnedSerializer):
    seeding_density_per_cm2 = _computed("Cells seeded per cm² (computed).")
    population_doublings = _computed("log2(cells harvested / cells seeded) (computed).")
    cumulative_population_doublings = serializers.SerializerMethodField(
        help_text="Population doublings summed along the passage chain; null when a passage lacks counts."
    )
    doubling_time_h = _computed("Hours per doubling during this passage (computed).")

    class Meta(LabOwnedSerializer.Meta):
        model = Passage
        fields = (
            *COMMON,
            *recorded.PASSAGE_FIELDS,
            "seeding_density_per_cm2",
            "population_doublings",
            "cumulative_population_doublings",
            "doubling_time_h",
        )

    @extend_schema_field(serializers.FloatField(allow_null=True))
    def get_cumulative_population_doublings(self, passage: Passage) -> float | None:
        """Uses the passages the view preloaded (`passages_by_id`) so a page costs no query per row."""
        known: dict[int, Passage] | None = self.context.get("passages_by_id")
        if known is None:
            return passage.cumulative_population_doublings
        doublings, seen, current = [], set(), passage
        while current.pk not in seen:
            seen.add(current.pk)
            doublings.append(current.population_doublings)
            if current.parent_id is None:
                break
            parent = known.get(current.parent_id)
            if parent is None:
                return passage.cumulative_population_doublings
            current = parent
        return cumulative_population_doublings(doublings)


class PrimingAgentSerializer(StrictModelSerializer):
    class Meta:
        model = PrimingAgent
        fields = ("id", *recorded.AGENT_FIELDS)
        read_only_fields = ("id",)
        validators: list = []


class PrimingConditionSerializer(LabOwnedSerializer):
    agents = PrimingAgentSerializer(
        many=True,
        required=False,
        help_text="Agents of the priming. On update, a list given replaces the whole list; leave it out to keep it.",
    )

    class Meta(LabOwnedSerializer.Meta):
        model = PrimingCondition
        fields = (*COMMON, *recorded.PRIMING_FIELDS, "agents")


class BatchSerializer(LabOwnedSerializer):
    status = serializers.ChoiceField(
        choices=choices.BatchStatus.choices,
        read_only=True,
        help_text="Changed only by the submit, release and reject actions.",
    )
    cell_equivalents_per_ml = _computed("Cells at start of conditioning per mL of final product (computed).")
    ml_per_million_cells = _computed("Conditioning medium, mL per 10⁶ cells (computed).")
    checklist_score = serializers.FloatField(
        read_only=True,
        allow_null=True,
        help_text="Score of the latest checklist report (0–100); null if never checked.",
    )
    qc_out_of_spec = serializers.BooleanField(
        read_only=True, help_text="A QC result of the batch (not rejected) failed its specification."
    )

    class Meta(LabOwnedSerializer.Meta):
        model = SecretomeBatch
        fields = (
            *COMMON,
            *recorded.BATCH_START_FIELDS,
            *recorded.BATCH_PRODUCTION_FIELDS,
            "status",
            "operator",
            "corrects",
            "correction_reason",
            "cell_equivalents_per_ml",
            "ml_per_million_cells",
            "checklist_score",
            "qc_out_of_spec",
        )
        extra_kwargs = {"operator": {"help_text": "Who made the batch; defaults to you on create."}}


class ProcessingStepSerializer(LabOwnedSerializer):
    class Meta(LabOwnedSerializer.Meta):
        model = ProcessingStep
        fields = (*COMMON, "batch", *recorded.PROCESSING_FIELDS)


class StorageLocationSerializer(LabOwnedSerializer):
    path = serializers.CharField(read_only=True, help_text="Freezer → rack → box.")

    class Meta(LabOwnedSerializer.Meta):
        model = StorageLocation
        fields = (*COMMON, "name", "kind", "parent", "temperature_c", "rows", "columns", "path")


class AliquotSerializer(LabOwnedSerializer):
    class Meta(LabOwnedSerializer.Meta):
        model = Aliquot
        fields = (*COMMON, "batch", *recorded.ALIQUOT_FIELDS, "status")


class QCSpecificationSerializer(LabOwnedSerializer):
    class Meta(LabOwnedSerializer.Meta):
        model = QCSpecification
        fields = (
            *COMMON,
            "assay",
            "analyte",
            "product_type",
            "min_value",
            "max_value",
            "warn_min",
            "warn_max",
            "unit",
            "expected_text",
            "spec_version",
            "effective_from",
        )


class QCResultSerializer(LabOwnedSerializer):
    outcome = serializers.ChoiceField(
        choices=[("", "No specification applies"), *choices.QCOutcome.choices],
        read_only=True,
        help_text="pass / warn / fail against the specification in force on performed_on; blank without one.",
    )

    class Meta(LabOwnedSerializer.Meta):
        model = QCResult
        fields = (
            *COMMON,
            "batch",
            *recorded.QC_FIELDS,
            "performed_by",
            "specification",
            "outcome",
            "acceptance_justification",
            "status",
            "verified_by",
            "verified_at",
            "corrects",
            "correction_reason",
        )
        read_only_fields = (
            *AUDIT_READ_ONLY,
            "specification",
            "acceptance_justification",
            "status",
            "verified_by",
            "verified_at",
        )
        extra_kwargs = {
            "performed_by": {"required": False, "help_text": "Who ran the assay; defaults to you."},
        }


class SignatureSerializer(StrictSerializer):
    password = serializers.CharField(
        max_length=128,
        write_only=True,
        trim_whitespace=False,
        style={"input_type": "password"},
        help_text="Your password: this action is an electronic signature.",
    )


class QCVerifySerializer(SignatureSerializer):
    acceptance_justification = serializers.CharField(
        required=False,
        allow_blank=True,
        max_length=5000,
        help_text="Why an out-of-specification result is accepted (recorded with the verification).",
    )


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=2000, help_text="Why; kept in the audit trail.")


class QCCorrectionSerializer(StrictSerializer):
    """The reason and the corrected values; fields not sent are copied from the verified result."""

    reason = serializers.CharField(max_length=2000, help_text="Why the verified result is corrected; kept with it.")
    sample = serializers.ChoiceField(choices=choices.QCSample.choices, required=False)
    analyte = serializers.CharField(max_length=40, required=False, allow_blank=True)
    method = serializers.ChoiceField(choices=choices.QCMethod.choices, required=False, allow_blank=True)
    instrument = serializers.CharField(max_length=120, required=False, allow_blank=True)
    value = serializers.FloatField(required=False, allow_null=True)
    unit = serializers.ChoiceField(choices=choices.QCUnit.choices, required=False, allow_blank=True)
    result_text = serializers.ChoiceField(choices=choices.ResultText.choices, required=False, allow_blank=True)
    performed_on = serializers.DateField(required=False, allow_null=True)
    raw_data = serializers.CharField(max_length=300, required=False, allow_blank=True)


class SignedReasonSerializer(SignatureSerializer):
    reason = serializers.CharField(max_length=2000, help_text="Why; kept with the signature and in the audit trail.")


class StudyGroupSerializer(StrictSerializer):
    name = serializers.CharField(max_length=80)
    role = serializers.ChoiceField(choices=choices.GroupRole.choices)


class StudySerializer(LabOwnedSerializer):
    groups = StudyGroupSerializer(many=True, required=False, help_text="The groups compared in the study.")

    class Meta(LabOwnedSerializer.Meta):
        model = Study
        fields = (*COMMON, *recorded.STUDY_FIELDS)

    def validate_groups(self, groups: list[dict[str, Any]]) -> list[dict[str, Any]]:
        # A partial update makes nested fields optional, but a group is only ever written whole.
        missing = {
            str(index): {field: ["This field is required."] for field in ("name", "role") if field not in group}
            for index, group in enumerate(groups)
            if not {"name", "role"} <= group.keys()
        }
        if missing:
            raise serializers.ValidationError(missing)
        names = [group["name"] for group in groups]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise serializers.ValidationError(f"Group names must differ: {', '.join(repeated)}.")
        return [dict(group) for group in groups]


class AdministrationSerializer(LabOwnedSerializer):
    class Meta(LabOwnedSerializer.Meta):
        model = Administration
        fields = (*COMMON, "study", "batch", "aliquot", *recorded.ADMINISTRATION_FIELDS)

    schedule_days = serializers.ListField(
        child=serializers.IntegerField(min_value=-36500, max_value=36500),
        allow_null=True,
        allow_empty=True,
        required=False,
        max_length=400,
        help_text="Irregular schedule: dosing days relative to model induction, in order, e.g. [-1, 7, 11]. "
        "When given it sets n_doses and day_after_induction; an empty list means not recorded.",
    )

    def validate_schedule_days(self, days: list[int] | None) -> list[int] | None:
        if not days:
            return None
        problem = schedule_days_problem(list(days))
        if problem:
            raise serializers.ValidationError(problem)
        return list(days)

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """A schedule must agree with n_doses and day_after_induction when they are given too."""
        days = attrs.get("schedule_days", self.instance.schedule_days if self.instance is not None else None)
        if days:
            errors = {}
            if attrs.get("n_doses") is not None and attrs["n_doses"] != len(days):
                errors["n_doses"] = (
                    f"The schedule lists {len(days)} dosing days; n_doses must be {len(days)} or left out."
                )
            if attrs.get("day_after_induction") is not None and attrs["day_after_induction"] != days[0]:
                errors["day_after_induction"] = (
                    f"The schedule starts on day {days[0]}; day_after_induction must be {days[0]} or left out."
                )
            if errors:
                raise serializers.ValidationError(errors)
        return super().validate(attrs)


class OutcomeMeasureSerializer(LabOwnedSerializer):
    time_points = serializers.ListField(
        child=serializers.IntegerField(min_value=-3650, max_value=36500),
        max_length=200,
        required=False,
        help_text="Days after induction, e.g. [0, 7, 14, 21]; empty or left out: not recorded.",
    )

    class Meta(LabOwnedSerializer.Meta):
        model = OutcomeMeasure
        fields = (*COMMON, "study", *recorded.OUTCOME_FIELDS)


class ChecklistReportListSerializer(serializers.ListSerializer):
    def to_representation(self, data):
        from batches.checklist.storage import unpack_reports

        reports = list(data.all() if hasattr(data, "all") else data)
        unpack_reports(reports)  # the explanations of the whole page in one query
        return super().to_representation(reports)


class ChecklistReportSerializer(serializers.ModelSerializer):
    score_by_category = serializers.DictField(child=serializers.FloatField(), read_only=True)
    items = serializers.ListField(child=serializers.DictField(), read_only=True)
    gates = serializers.ListField(child=serializers.DictField(), read_only=True)

    class Meta:
        model = ChecklistReport
        list_serializer_class = ChecklistReportListSerializer
        fields = (
            "id",
            "lab",
            "batch",
            "study",
            "checklist_version",
            "score",
            "score_by_category",
            "items",
            "gates",
            "fingerprint",
            "created_at",
        )
        read_only_fields = fields


class CheckQueuedSerializer(serializers.Serializer):
    batch = serializers.IntegerField(help_text="The batch queued for a checklist run.")
    queued = serializers.BooleanField()


class LineageSerializer(serializers.Serializer):
    """A batch and everything it came from and went to, in one response."""

    donor = DonorSerializer()
    cell_line = CellLineSerializer()
    passages = PassageSerializer(many=True, help_text="The passage chain, oldest first; the last one made the batch.")
    priming = PrimingConditionSerializer(allow_null=True)
    batch = BatchSerializer()
    processing_steps = ProcessingStepSerializer(many=True)
    qc_results = QCResultSerializer(many=True)
    aliquots = AliquotSerializer(many=True)
    administrations = AdministrationSerializer(many=True)
