from django.conf import settings
from django.db import models
from django.db.models import Q

from batches import choices
from batches.models import dates
from lims import constraints as c
from lims.audit import tracked
from lims.models import LabOwnedModel


@tracked
class QCSpecification(LabOwnedModel):
    """Acceptance limits for one assay (and analyte) on one product type; versioned."""

    assay = models.CharField(max_length=30, choices=choices.Assay.choices)
    analyte = models.CharField(max_length=40, blank=True, help_text="e.g. CD63, IL-10; blank for the whole assay.")
    product_type = models.CharField(
        max_length=4, choices=choices.ProductType.choices, blank=True, help_text="Blank: every product type."
    )
    min_value = models.FloatField(null=True, blank=True, help_text="Fail below this value.")
    max_value = models.FloatField(null=True, blank=True, help_text="Fail above this value.")
    warn_min = models.FloatField(null=True, blank=True, help_text="Warn below this value.")
    warn_max = models.FloatField(null=True, blank=True, help_text="Warn above this value.")
    unit = models.CharField(max_length=20, choices=choices.QCUnit.choices, blank=True)
    expected_text = models.CharField(
        max_length=15,
        choices=choices.ResultText.choices,
        blank=True,
        help_text="For qualitative assays: the passing result (e.g. negative).",
    )
    spec_version = models.PositiveIntegerField(default=1, help_text="Specification version number.")
    effective_from = models.DateField(help_text="Results recorded on or after this day use this version.")

    class Meta(LabOwnedModel.Meta):
        ordering = ["assay", "analyte", "product_type", "-spec_version"]
        verbose_name = "QC specification"
        constraints = [
            models.UniqueConstraint(
                fields=["lab", "assay", "analyte", "product_type", "spec_version"],
                name="qcspecification_version_unique",
            ),
            c.in_choices("qcspecification", "assay", choices.Assay),
            c.in_choices("qcspecification", "product_type", choices.ProductType, blank=True),
            c.in_choices("qcspecification", "unit", choices.QCUnit, blank=True),
            c.in_choices("qcspecification", "expected_text", choices.ResultText, blank=True),
            c.not_before("qcspecification", "max_value", "min_value"),
            c.not_before("qcspecification", "warn_max", "warn_min"),
            c.not_before("qcspecification", "warn_min", "min_value"),
            c.not_before("qcspecification", "max_value", "warn_max"),
            models.CheckConstraint(
                condition=Q(min_value__isnull=False) | Q(max_value__isnull=False) | ~Q(expected_text=""),
                name="qcspecification_has_a_limit",
            ),
        ]

    def __str__(self) -> str:
        label = self.get_assay_display()
        if self.analyte:
            label += f" {self.analyte}"
        return f"{label} ({self.product_type or 'all'}) v{self.spec_version}"


@tracked
class QCResult(LabOwnedModel):
    batch = models.ForeignKey("batches.SecretomeBatch", on_delete=models.PROTECT, related_name="qc_results")
    assay = models.CharField(max_length=30, choices=choices.Assay.choices)
    assay_details = models.CharField(max_length=200, blank=True, help_text="The assay, when 'other'.")
    sample = models.CharField(max_length=10, choices=choices.QCSample.choices, default=choices.QCSample.PRODUCT)
    analyte = models.CharField(max_length=40, blank=True, help_text="e.g. CD63, TSG101, calnexin, IL-10.")
    method = models.CharField(max_length=30, choices=choices.QCMethod.choices, blank=True)
    method_details = models.CharField(max_length=200, blank=True, help_text="The method or kit, when 'other'.")
    instrument = models.CharField(max_length=120, blank=True, help_text="Instrument model and serial / asset number.")
    value = models.FloatField(null=True, blank=True, help_text="Numeric result, in the unit beside it.")
    unit = models.CharField(max_length=20, choices=choices.QCUnit.choices, blank=True)
    result_text = models.CharField(max_length=15, choices=choices.ResultText.choices, blank=True)
    performed_on = models.DateField(null=True, blank=True)
    performed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    specification = models.ForeignKey(
        QCSpecification, null=True, blank=True, on_delete=models.PROTECT, related_name="results"
    )
    outcome = models.CharField(
        max_length=4,
        choices=choices.QCOutcome.choices,
        blank=True,
        editable=False,
        help_text="Computed against the specification in force when recorded.",
    )
    reference_batch = models.ForeignKey(
        "batches.SecretomeBatch",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Reference batch (potency assays).",
    )
    acceptance_justification = models.TextField(
        blank=True, help_text="Why an out-of-specification result is accepted (reviewer)."
    )
    status = models.CharField(max_length=10, choices=choices.QCStatus.choices, default=choices.QCStatus.RECORDED)
    verified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    verified_at = models.DateTimeField(null=True, blank=True)
    raw_data = models.CharField(
        max_length=300, blank=True, help_text="Raw data reference: file path, ELN or repository ID."
    )
    protocol_version = models.ForeignKey(
        "protocols.ProtocolVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    corrects = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="corrections",
        help_text="The verified result this one corrects (that one is then superseded).",
    )
    correction_reason = models.TextField(blank=True, editable=False, help_text="Why the earlier result was corrected.")

    class Meta(LabOwnedModel.Meta):
        triggers = [
            *LabOwnedModel.Meta.triggers,
            c.never_deleted(),
            c.final_once(
                name="verified_is_final", final=("verified", "superseded"), way_out=("verified", "superseded")
            ),
            dates.qc_performed_after_collection(),
        ]
        ordering = ["batch", "assay", "analyte"]
        verbose_name = "QC result"
        indexes = [
            models.Index(fields=["batch", "assay"]),
            models.Index(fields=["lab", "status"]),
            # The batches with a counted out-of-specification result (the batch list's flag): few rows,
            # so the flag costs the same with a million results stored.
            models.Index(
                fields=["batch"],
                name="qcresult_failed_batch",
                condition=Q(outcome=choices.QCOutcome.FAIL) & ~Q(status__in=choices.QC_NOT_COUNTED),
            ),
            # A lab's analytes of an assay, found by skipping through this index (the QC trends page's choices).
            models.Index(fields=["lab", "assay", "analyte"], name="qcresult_lab_assay_analyte"),
            # Results recorded in words (no value): few for a numeric assay, so its "in words" list reads none.
            models.Index(fields=["lab", "assay"], name="qcresult_in_words", condition=Q(value__isnull=True)),
        ]
        constraints = [
            c.in_choices("qcresult", "assay", choices.Assay),
            c.in_choices("qcresult", "sample", choices.QCSample),
            c.in_choices("qcresult", "method", choices.QCMethod, blank=True),
            c.in_choices("qcresult", "unit", choices.QCUnit, blank=True),
            c.in_choices("qcresult", "result_text", choices.ResultText, blank=True),
            c.in_choices("qcresult", "outcome", choices.QCOutcome, blank=True),
            c.in_choices("qcresult", "status", choices.QCStatus),
            models.CheckConstraint(
                condition=~Q(status="verified") | (Q(verified_by__isnull=False) & Q(verified_at__isnull=False)),
                name="qcresult_verified_has_signer",
            ),
            models.CheckConstraint(
                condition=Q(verified_by__isnull=True) | ~Q(verified_by=models.F("performed_by")),
                name="qcresult_not_verified_by_performer",
            ),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                name="qcresult_correction_has_reason",
            ),
        ]

    def __str__(self) -> str:
        label = self.assay_details or self.get_assay_display()
        if self.analyte:
            label += f" {self.analyte}"
        if self.value is not None:
            shown = f"{self.value:g} {self.unit}".rstrip()
        else:
            shown = self.get_result_text_display() or "not recorded"
        return f"{label}: {shown}"
