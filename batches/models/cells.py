import pgtrigger
from django.db import models
from django.db.models import Q

from batches import choices, computations
from batches.models import dates
from lims import constraints as c
from lims.audit import tracked
from lims.models import LabOwnedModel


@tracked
class Donor(LabOwnedModel):
    code = models.CharField(max_length=40, help_text="Donor code, unique in the lab (no personal identifiers).")
    species = models.CharField(max_length=20, choices=choices.Species.choices, blank=True)
    species_details = models.CharField(max_length=120, blank=True, help_text="The species, when 'other'.")
    tissue_source = models.CharField(max_length=40, choices=choices.TissueSource.choices, blank=True)
    tissue_source_details = models.CharField(max_length=200, blank=True, help_text="The tissue, when 'other'.")
    anatomical_site = models.CharField(
        max_length=120, blank=True, help_text="e.g. iliac crest, abdominal subcutaneous fat, third molar."
    )
    sex = models.CharField(
        max_length=10, choices=choices.Sex.choices, blank=True, help_text="Empty: not recorded; 'Not known': unknown."
    )
    age_years = models.FloatField(null=True, blank=True, help_text="Age at donation, years (weeks/52 for animals).")
    health_status = models.CharField(
        max_length=10,
        choices=choices.HealthStatus.choices,
        blank=True,
        help_text="Empty: not recorded; 'Not known': unknown.",
    )
    health_details = models.CharField(max_length=200, blank=True, help_text="Condition, when not healthy.")
    pooled = models.BooleanField(null=True, blank=True, help_text="Cells from several donors pooled.")
    n_donors = models.PositiveIntegerField(null=True, blank=True, help_text="Number of donors (≥ 2 when pooled).")
    supplier = models.CharField(max_length=120, blank=True, help_text="When the cells were bought.")
    catalogue_number = models.CharField(max_length=60, blank=True)
    lot = models.CharField(max_length=60, blank=True)
    ethics_approval_ref = models.CharField(max_length=120, blank=True, help_text="Ethics committee approval reference.")
    consent_obtained = models.BooleanField(null=True, blank=True, help_text="Informed consent obtained (human donors).")
    genetically_modified = models.BooleanField(
        null=True, blank=True, help_text="Genetically modified or immortalised cells."
    )
    modification_details = models.TextField(blank=True, help_text="Construct, vector, immortalisation method.")

    class Meta(LabOwnedModel.Meta):
        triggers = [*LabOwnedModel.Meta.triggers, c.never_deleted()]
        ordering = ["code"]
        constraints = [
            c.unique_code_per_lab("donor"),
            c.in_choices("donor", "species", choices.Species, blank=True),
            c.in_choices("donor", "tissue_source", choices.TissueSource, blank=True),
            c.in_choices("donor", "sex", choices.Sex, blank=True),
            c.in_choices("donor", "health_status", choices.HealthStatus, blank=True),
            c.between("donor", "age_years", 0, 120),
            models.CheckConstraint(
                condition=Q(pooled__isnull=True)
                | Q(n_donors__isnull=True)
                | Q(pooled=False, n_donors=1)
                | Q(pooled=True, n_donors__gte=2),
                name="donor_pooled_means_several_donors",
            ),
        ]

    def __str__(self) -> str:
        return self.code

    @property
    def tissue_group(self) -> str | None:
        """Perinatal, adult or alternative; None when the tissue is not recorded or is "other"."""
        return choices.TISSUE_GROUP.get(self.tissue_source)

    @property
    def is_human_primary(self) -> bool:
        return self.species == choices.Species.HUMAN and not self.supplier


@tracked
class CellLine(LabOwnedModel):
    donor = models.ForeignKey(Donor, on_delete=models.PROTECT, related_name="cell_lines")
    code = models.CharField(max_length=40)
    isolation_method = models.CharField(max_length=20, choices=choices.IsolationMethod.choices, blank=True)
    isolation_enzyme = models.CharField(max_length=30, choices=choices.Enzyme.choices, blank=True)
    isolation_enzyme_mg_per_ml = models.FloatField(null=True, blank=True, help_text="Enzyme concentration, mg/mL.")
    isolation_digestion_min = models.FloatField(null=True, blank=True, help_text="Digestion time, minutes.")
    isolation_details = models.TextField(
        blank=True, help_text="Anything the fields above do not hold (an 'other' method or enzyme)."
    )
    isolated_on = models.DateField(null=True, blank=True)
    basal_medium = models.CharField(max_length=30, choices=choices.Medium.choices, blank=True)
    basal_medium_details = models.CharField(max_length=120, blank=True, help_text="Product name and supplier.")
    antibiotics = models.CharField(max_length=20, choices=choices.Antibiotics.choices, blank=True)
    antibiotics_details = models.CharField(max_length=120, blank=True, help_text="The antibiotics, when 'other'.")
    supplement = models.CharField(max_length=20, choices=choices.Supplement.choices, blank=True)
    supplement_details = models.CharField(
        max_length=200, blank=True, help_text="The supplement, when 'other' (product, supplier)."
    )
    supplement_percent = models.FloatField(null=True, blank=True, help_text="Supplement, % v/v.")
    supplement_lot = models.CharField(max_length=60, blank=True)
    heparin_u_per_ml = models.FloatField(null=True, blank=True, help_text="Heparin, U/mL (with hPL).")
    culture_format = models.CharField(max_length=20, choices=choices.CultureFormat.choices, blank=True)
    culture_format_details = models.TextField(
        blank=True, help_text="3D system (spheroid size, scaffold, bioreactor), or the format when 'other'."
    )
    plastic_adherent = models.BooleanField(null=True, blank=True, help_text="Adheres to tissue-culture plastic.")
    protocol_version = models.ForeignKey(
        "protocols.ProtocolVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Isolation SOP version followed.",
    )

    class Meta(LabOwnedModel.Meta):
        triggers = [*LabOwnedModel.Meta.triggers, c.never_deleted()]
        ordering = ["code"]
        constraints = [
            c.unique_code_per_lab("cellline"),
            c.in_choices("cellline", "isolation_method", choices.IsolationMethod, blank=True),
            c.in_choices("cellline", "isolation_enzyme", choices.Enzyme, blank=True),
            c.in_choices("cellline", "basal_medium", choices.Medium, blank=True),
            c.in_choices("cellline", "antibiotics", choices.Antibiotics, blank=True),
            c.in_choices("cellline", "supplement", choices.Supplement, blank=True),
            c.in_choices("cellline", "culture_format", choices.CultureFormat, blank=True),
            *c.percent("cellline", "supplement_percent"),
            *c.non_negative("cellline", "heparin_u_per_ml"),
            *c.positive("cellline", "isolation_enzyme_mg_per_ml", "isolation_digestion_min"),
        ]

    def __str__(self) -> str:
        return self.code


@tracked
class Immunophenotype(LabOwnedModel):
    cell_line = models.ForeignKey(CellLine, on_delete=models.CASCADE, related_name="immunophenotypes")
    marker = models.CharField(max_length=10, choices=choices.Marker.choices)
    marker_details = models.CharField(max_length=60, blank=True, help_text="The marker, when 'other'.")
    percent_positive = models.FloatField(null=True, blank=True, help_text="% of cells positive.")
    passage_number = models.PositiveIntegerField(
        null=True, blank=True, help_text="Passage at which the cells were tested."
    )
    measured_on = models.DateField(null=True, blank=True)
    primed_with_ifng = models.BooleanField(
        default=False, help_text="Measured on IFN-γ-primed cells (HLA-DR rises; flagged, not judged)."
    )

    class Meta(LabOwnedModel.Meta):
        ordering = ["cell_line", "marker"]
        constraints = [
            c.in_choices("immunophenotype", "marker", choices.Marker),
            *c.percent("immunophenotype", "percent_positive"),
        ]

    def __str__(self) -> str:
        marker = self.marker_details or self.marker
        if self.percent_positive is None:
            return f"{marker} (not recorded)"
        return f"{marker} {self.percent_positive:g} %"


@tracked
class Differentiation(LabOwnedModel):
    cell_line = models.ForeignKey(CellLine, on_delete=models.CASCADE, related_name="differentiations")
    lineage = models.CharField(max_length=20, choices=choices.Lineage.choices)
    result = models.CharField(max_length=10, choices=choices.DifferentiationResult.choices, blank=True)
    method = models.CharField(max_length=30, choices=choices.DifferentiationMethod.choices, blank=True)
    method_details = models.CharField(max_length=120, blank=True, help_text="The method, when 'other'.")
    passage_number = models.PositiveIntegerField(null=True, blank=True)
    assessed_on = models.DateField(null=True, blank=True)

    class Meta(LabOwnedModel.Meta):
        ordering = ["cell_line", "lineage"]
        constraints = [
            c.in_choices("differentiation", "lineage", choices.Lineage),
            c.in_choices("differentiation", "result", choices.DifferentiationResult, blank=True),
            c.in_choices("differentiation", "method", choices.DifferentiationMethod, blank=True),
        ]

    def __str__(self) -> str:
        return f"{self.get_lineage_display()}: {self.get_result_display() or 'not recorded'}"


@tracked
class Passage(LabOwnedModel):
    cell_line = models.ForeignKey(CellLine, on_delete=models.PROTECT, related_name="passages")
    parent = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="children",
        help_text="The passage these cells came from.",
    )
    number = models.PositiveIntegerField(help_text="Passage number (P0 = primary culture).")
    started_on = models.DateField(null=True, blank=True, help_text="Day the cells were seeded.")
    harvested_on = models.DateField(null=True, blank=True, help_text="Day the cells were harvested.")
    vessel = models.CharField(max_length=20, choices=choices.Vessel.choices, blank=True)
    vessel_details = models.CharField(max_length=120, blank=True, help_text="The vessel, when 'other'.")
    area_cm2 = models.FloatField(null=True, blank=True, help_text="Total growth area, cm².")
    cells_seeded = models.PositiveBigIntegerField(null=True, blank=True, help_text="Viable cells seeded.")
    cells_harvested = models.PositiveBigIntegerField(null=True, blank=True, help_text="Viable cells harvested.")
    viability_percent = models.FloatField(null=True, blank=True, help_text="Viability at harvest, %.")
    confluence_percent = models.FloatField(null=True, blank=True, help_text="Confluence at harvest, %.")
    temperature_c = models.FloatField(null=True, blank=True, help_text="Incubator temperature, °C.")
    co2_percent = models.FloatField(null=True, blank=True, help_text="Incubator CO₂, %.")
    o2_percent = models.FloatField(null=True, blank=True, help_text="Incubator O₂, % (21 = atmospheric).")
    mycoplasma_result = models.CharField(
        max_length=12,
        choices=choices.TestResult.choices,
        blank=True,
        help_text="Empty: not recorded; 'Not tested': the lab knows no test was done.",
    )
    protocol_version = models.ForeignKey(
        "protocols.ProtocolVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Expansion SOP version followed.",
    )

    class Meta(LabOwnedModel.Meta):
        ordering = ["cell_line", "number"]
        constraints = [
            models.UniqueConstraint(fields=["cell_line", "number"], name="passage_number_unique_per_cell_line"),
            c.in_choices("passage", "vessel", choices.Vessel, blank=True),
            c.in_choices("passage", "mycoplasma_result", choices.TestResult, blank=True),
            *c.percent("passage", "viability_percent", "confluence_percent", "co2_percent", "o2_percent"),
            *c.positive("passage", "area_cm2", "cells_seeded"),
            c.between("passage", "temperature_c", 20, 42),
            c.not_before("passage", "harvested_on", "started_on"),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | ~Q(parent=models.F("id")), name="passage_parent_not_self"
            ),
        ]
        triggers = [
            *LabOwnedModel.Meta.triggers,
            c.never_deleted(),
            pgtrigger.Trigger(
                name="parent_in_same_cell_line",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update,
                condition=pgtrigger.Q(new__parent__isnull=False),
                func="""
                    IF NOT EXISTS (
                        SELECT 1 FROM batches_passage p
                        WHERE p.id = NEW.parent_id AND p.cell_line_id = NEW.cell_line_id AND p.number < NEW.number
                    ) THEN
                        RAISE EXCEPTION USING
                            ERRCODE = 'check_violation',
                            CONSTRAINT = 'passage_parent_in_same_cell_line',
                            MESSAGE = 'the parent passage must belong to the same cell line and have a lower number';
                    END IF;
                    RETURN NEW;
                """,
            ),
            dates.passage_seeded_before_collection(),
        ]

    def __str__(self) -> str:
        return f"{self.cell_line.code} P{self.number}"

    @property
    def seeding_density_per_cm2(self) -> float | None:
        return computations.seeding_density_per_cm2(self.cells_seeded, self.area_cm2)

    @property
    def population_doublings(self) -> float | None:
        return computations.population_doublings(self.cells_seeded, self.cells_harvested)

    @property
    def doubling_time_h(self) -> float | None:
        return computations.doubling_time_h(
            computations.hours_between(self.started_on, self.harvested_on), self.cells_seeded, self.cells_harvested
        )

    def chain(self) -> list["Passage"]:
        """This passage and its ancestors, oldest first (one query per generation; chains are short)."""
        chain = [self]
        seen = {self.pk}
        current = self
        while current.parent_id is not None and current.parent_id not in seen:
            current = current.parent
            seen.add(current.pk)
            chain.append(current)
        return list(reversed(chain))

    @property
    def cumulative_population_doublings(self) -> float | None:
        return computations.cumulative_population_doublings(p.population_doublings for p in self.chain())
