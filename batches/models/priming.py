from django.db import models
from django.db.models import Q

from batches import choices
from lims import constraints as c
from lims.audit import tracked
from lims.models import LabOwnedModel


@tracked
class PrimingCondition(LabOwnedModel):
    """A named, reusable priming (preconditioning) recipe. "No priming" is a condition too."""

    name = models.CharField(max_length=80, help_text="e.g. 'IFN-γ 25 ng/mL 48 h', 'Hypoxia 1 % O₂ 24 h'.")
    kind = models.CharField(max_length=20, choices=choices.PrimingKind.choices)
    o2_percent = models.FloatField(null=True, blank=True, help_text="O₂ during hypoxic priming, %.")
    duration_h = models.FloatField(null=True, blank=True, help_text="Duration of priming, hours.")
    device = models.CharField(max_length=30, choices=choices.HypoxiaDevice.choices, blank=True)
    three_d_system = models.CharField(
        max_length=200, blank=True, help_text="3D priming: spheroid size / scaffold / bioreactor."
    )
    washout = models.BooleanField(null=True, blank=True, help_text="Priming agents washed out before conditioning.")
    washes = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Number of washes.")
    delay_to_conditioning_h = models.FloatField(
        null=True, blank=True, help_text="Time from end of priming to start of conditioning, hours."
    )
    details = models.TextField(
        blank=True, help_text="What the fields do not hold: an 'other' kind or device, the recipe in words."
    )
    protocol_version = models.ForeignKey(
        "protocols.ProtocolVersion", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )

    class Meta(LabOwnedModel.Meta):
        triggers = [*LabOwnedModel.Meta.triggers, c.never_deleted()]
        ordering = ["name"]
        constraints = [
            c.unique_code_per_lab("primingcondition", "name"),
            c.in_choices("primingcondition", "kind", choices.PrimingKind),
            c.in_choices("primingcondition", "device", choices.HypoxiaDevice, blank=True),
            *c.percent("primingcondition", "o2_percent"),
            *c.positive("primingcondition", "duration_h"),
            *c.non_negative("primingcondition", "delay_to_conditioning_h"),
        ]

    def __str__(self) -> str:
        return self.name


@tracked
class PrimingAgent(LabOwnedModel):
    priming = models.ForeignKey(PrimingCondition, on_delete=models.CASCADE, related_name="agents")
    agent = models.CharField(max_length=30, choices=choices.PrimingAgentName.choices)
    agent_details = models.CharField(max_length=120, blank=True, help_text="The agent, when 'other'.")
    concentration = models.FloatField(null=True, blank=True, help_text="Concentration, in the unit beside it.")
    concentration_unit = models.CharField(max_length=10, choices=choices.ConcentrationUnit.choices, blank=True)
    exposure = models.FloatField(null=True, blank=True, help_text="Exposure time, in the unit beside it.")
    exposure_unit = models.CharField(max_length=5, choices=choices.TimeUnit.choices, blank=True)
    supplier = models.CharField(max_length=120, blank=True)

    class Meta(LabOwnedModel.Meta):
        ordering = ["priming", "agent"]
        constraints = [
            models.UniqueConstraint(fields=["priming", "agent"], name="primingagent_once_per_condition"),
            c.in_choices("primingagent", "agent", choices.PrimingAgentName),
            c.in_choices("primingagent", "concentration_unit", choices.ConcentrationUnit, blank=True),
            c.in_choices("primingagent", "exposure_unit", choices.TimeUnit, blank=True),
            *c.positive("primingagent", "concentration", "exposure"),
            models.CheckConstraint(
                condition=~Q(agent="deferoxamine") | Q(concentration_unit="") | Q(concentration_unit__in=["µM", "mM"]),
                name="primingagent_deferoxamine_molar",
            ),
        ]

    def __str__(self) -> str:
        name = self.agent_details or self.get_agent_display()
        if self.concentration is None:
            return name
        return f"{name} {self.concentration:g} {self.concentration_unit}".rstrip()

    @property
    def exposure_h(self) -> float | None:
        """The exposure in hours; None unless both the time and its unit are recorded."""
        if self.exposure is None or not self.exposure_unit:
            return None
        return self.exposure / 60 if self.exposure_unit == choices.TimeUnit.MIN else self.exposure
