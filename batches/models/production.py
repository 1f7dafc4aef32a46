from django.conf import settings
from django.db import models
from django.db.models import Q

from batches import choices, computations
from batches.models import dates
from batches.models.counts import status_count_triggers
from lims import constraints as c
from lims.audit import tracked
from lims.models import LabOwnedModel


@tracked
class SecretomeBatch(LabOwnedModel):
    code = models.CharField(max_length=40, help_text="Batch code, unique in the lab; printed on labels.")
    passage = models.ForeignKey(
        "batches.Passage", on_delete=models.PROTECT, related_name="batches", help_text="The producing cells."
    )
    priming = models.ForeignKey(
        "batches.PrimingCondition",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="batches",
        help_text="Priming condition; choose 'No priming' rather than leaving it empty.",
    )
    protocol_version = models.ForeignKey(
        "protocols.ProtocolVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Conditioning SOP version followed.",
    )
    product_type = models.CharField(max_length=4, choices=choices.ProductType.choices)
    intended_use = models.CharField(max_length=10, choices=choices.IntendedUse.choices, blank=True)
    confluence_start_percent = models.FloatField(
        null=True, blank=True, help_text="Confluence when conditioning started, %."
    )
    cells_at_start = models.PositiveBigIntegerField(null=True, blank=True, help_text="Cells at start of conditioning.")
    conditioning_medium = models.CharField(max_length=30, choices=choices.Medium.choices, blank=True)
    conditioning_medium_details = models.CharField(max_length=200, blank=True, help_text="Name and additives.")
    serum_free = models.BooleanField(null=True, blank=True, help_text="Conditioning medium is serum-free.")
    serum_percent = models.FloatField(null=True, blank=True, help_text="Serum in conditioning medium, % v/v.")
    ev_depletion_method = models.CharField(max_length=30, choices=choices.EVDepletionMethod.choices, blank=True)
    ev_depletion_details = models.CharField(
        max_length=200, blank=True, help_text="The EV-depletion method, when 'other' (product, protocol)."
    )
    conditioning_volume_ml = models.FloatField(null=True, blank=True, help_text="Conditioning medium volume, mL.")
    conditioning_time_h = models.FloatField(null=True, blank=True, help_text="Conditioning time, hours.")
    conditioning_o2_percent = models.FloatField(null=True, blank=True, help_text="O₂ during conditioning, %.")
    harvest_viability_percent = models.FloatField(null=True, blank=True, help_text="Cell viability at harvest, %.")
    harvest_viable_cells = models.PositiveBigIntegerField(null=True, blank=True, help_text="Viable cells at harvest.")
    collected_at = models.DateTimeField(null=True, blank=True, help_text="When the conditioned medium was collected.")
    final_volume_ml = models.FloatField(null=True, blank=True, help_text="Final product volume, mL.")
    used_fresh = models.BooleanField(
        null=True, blank=True, help_text="Used fresh, within hours, never frozen or stored."
    )
    mock_control = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="mock_for",
        help_text="Unconditioned medium processed identically (its batch).",
    )
    ev_track_id = models.CharField(max_length=40, blank=True, help_text="EV-TRACK ID.")
    data_repository_ids = models.CharField(
        max_length=300, blank=True, help_text="Raw-data repository accessions (PRIDE, Zenodo…), comma-separated."
    )
    status = models.CharField(max_length=10, choices=choices.BatchStatus.choices, default=choices.BatchStatus.DRAFT)
    operator = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    corrects = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="corrections",
        help_text="The released batch this one corrects (that one is then retired).",
    )
    correction_reason = models.TextField(blank=True, editable=False, help_text="Why the earlier batch was corrected.")

    class Meta(LabOwnedModel.Meta):
        triggers = [
            *LabOwnedModel.Meta.triggers,
            c.never_deleted(),
            c.final_once(name="released_is_final", final=("released", "retired"), way_out=("released", "retired")),
            dates.batch_collected_in_order(),
            *status_count_triggers(),
        ]
        ordering = ["-created_at"]
        verbose_name = "secretome batch"
        verbose_name_plural = "secretome batches"
        indexes = [
            models.Index(fields=["lab", "status"]),
            models.Index(fields=["lab", "-created_at"]),
            # A lab's batches in production order (QC trends walk it backwards to their latest results).
            models.Index(fields=["lab", "collected_at", "code"], name="secretomebatch_lab_collected"),
        ]
        constraints = [
            c.unique_code_per_lab("secretomebatch"),
            c.in_choices("secretomebatch", "product_type", choices.ProductType),
            c.in_choices("secretomebatch", "intended_use", choices.IntendedUse, blank=True),
            c.in_choices("secretomebatch", "status", choices.BatchStatus),
            c.in_choices("secretomebatch", "conditioning_medium", choices.Medium, blank=True),
            c.in_choices("secretomebatch", "ev_depletion_method", choices.EVDepletionMethod, blank=True),
            *c.percent(
                "secretomebatch",
                "confluence_start_percent",
                "serum_percent",
                "conditioning_o2_percent",
                "harvest_viability_percent",
            ),
            *c.positive("secretomebatch", "conditioning_volume_ml", "conditioning_time_h", "final_volume_ml"),
            models.CheckConstraint(
                condition=~Q(serum_free=True) | Q(serum_percent__isnull=True) | Q(serum_percent=0),
                name="secretomebatch_serum_free_has_no_serum",
            ),
            models.CheckConstraint(
                condition=Q(mock_control__isnull=True) | ~Q(mock_control=models.F("id")),
                name="secretomebatch_mock_control_not_self",
            ),
            models.CheckConstraint(
                condition=Q(corrects__isnull=True) | ~Q(correction_reason=""),
                name="secretomebatch_correction_has_reason",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def cell_equivalents_per_ml(self) -> float | None:
        return computations.cell_equivalents_per_ml(self.cells_at_start, self.final_volume_ml)

    @property
    def ml_per_million_cells(self) -> float | None:
        return computations.ml_per_million_cells(self.conditioning_volume_ml, self.cells_at_start)


class BatchEventKind(models.TextChoices):
    CREATED = "created", "Created"
    SUBMITTED = "submitted", "Submitted for review"
    RETURNED = "returned", "Returned for changes"
    RELEASED = "released", "Released"
    REJECTED = "rejected", "Rejected"
    RETIRED = "retired", "Retired"
    CHECKED = "checked", "Checklist run"
    CORRECTED = "corrected", "Corrected"


@tracked
class BatchEvent(models.Model):
    """What happened to a batch, in lab terms (the row history says what changed in every row)."""

    lab = models.ForeignKey("lims.Lab", on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(SecretomeBatch, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=20, choices=BatchEventKind.choices)
    data = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["batch", "at"]
        # (lab, at): a lab's newest events (the dashboard's activity) without reading the lab's whole log.
        indexes = [models.Index(fields=["batch", "at"]), models.Index(fields=["lab", "-at"])]
        triggers = [c.append_only(), c.SameLab()]

    def __str__(self) -> str:
        return f"{self.batch} {self.kind} {self.at:%Y-%m-%d %H:%M}"


@tracked
class ProcessingStep(LabOwnedModel):
    batch = models.ForeignKey(SecretomeBatch, on_delete=models.CASCADE, related_name="processing_steps")
    order = models.PositiveSmallIntegerField(help_text="1 = first step after collection.")
    kind = models.CharField(max_length=20, choices=choices.ProcessingKind.choices)
    g_force = models.FloatField(null=True, blank=True, help_text="Relative centrifugal force, × g.")
    duration_min = models.FloatField(null=True, blank=True, help_text="Duration, minutes.")
    temperature_c = models.FloatField(null=True, blank=True, help_text="Temperature, °C.")
    rotor = models.CharField(max_length=60, blank=True, help_text="Rotor model (ultracentrifugation).")
    k_factor = models.FloatField(null=True, blank=True, help_text="Rotor k-factor (clearing factor).")
    pore_size_um = models.FloatField(null=True, blank=True, help_text="Filter pore size, µm.")
    mwco_kda = models.FloatField(null=True, blank=True, help_text="Molecular-weight cut-off, kDa.")
    concentration_factor = models.FloatField(null=True, blank=True, help_text="Fold concentration (× ).")
    final_volume_ml = models.FloatField(null=True, blank=True, help_text="Volume after this step, mL.")
    lyoprotectant = models.CharField(max_length=20, choices=choices.Lyoprotectant.choices, blank=True)
    lyoprotectant_mm = models.FloatField(null=True, blank=True, help_text="Lyoprotectant concentration, mM.")
    lyophilisation_cycle = models.CharField(
        max_length=200, blank=True, help_text="Freezing, primary and secondary drying (°C, h, mbar)."
    )
    residual_moisture_percent = models.FloatField(null=True, blank=True, help_text="Residual moisture, % w/w.")
    reconstitution = models.CharField(
        max_length=10, choices=choices.ReconstitutionVehicle.choices, blank=True, help_text="Reconstitution vehicle."
    )
    reconstitution_volume_ml = models.FloatField(null=True, blank=True, help_text="Reconstitution volume, mL.")
    details = models.TextField(
        blank=True,
        help_text="Device, column, kit and lot — what the fields do not hold "
        "(an 'other' kind, lyoprotectant or vehicle).",
    )
    protocol_version = models.ForeignKey(
        "protocols.ProtocolVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(LabOwnedModel.Meta):
        ordering = ["batch", "order"]
        constraints = [
            models.UniqueConstraint(fields=["batch", "order"], name="processingstep_order_unique_per_batch"),
            c.in_choices("processingstep", "kind", choices.ProcessingKind),
            c.in_choices("processingstep", "lyoprotectant", choices.Lyoprotectant, blank=True),
            c.in_choices("processingstep", "reconstitution", choices.ReconstitutionVehicle, blank=True),
            models.CheckConstraint(condition=Q(order__gte=1), name="processingstep_order_from_1"),
            *c.positive(
                "processingstep",
                "g_force",
                "duration_min",
                "k_factor",
                "pore_size_um",
                "mwco_kda",
                "final_volume_ml",
                "reconstitution_volume_ml",
                "lyoprotectant_mm",
            ),
            models.CheckConstraint(
                condition=Q(concentration_factor__isnull=True) | Q(concentration_factor__gte=1),
                name="processingstep_concentration_factor_at_least_1",
            ),
            c.between("processingstep", "temperature_c", -196, 100),
            *c.percent("processingstep", "residual_moisture_percent"),
        ]

    def __str__(self) -> str:
        return f"{self.batch.code} #{self.order} {self.get_kind_display()}"
