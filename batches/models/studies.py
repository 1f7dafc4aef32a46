import itertools

from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import F, Func, Q

from batches import choices
from batches.models import dates
from lims import constraints as c
from lims.audit import tracked
from lims.models import LabOwnedModel, lab_owned_triggers


@tracked
class Study(LabOwnedModel):
    title = models.CharField(max_length=300)
    pain_model = models.CharField(max_length=30, choices=choices.PainModel.choices, blank=True)
    pain_model_details = models.CharField(
        max_length=200, blank=True, help_text="The pain model, when 'other' (e.g. TMJ osteoarthritis, MIA)."
    )
    model_induction = models.TextField(
        blank=True, help_text="Induction parameters: agent, dose (mg/kg), route, surgery, day 0."
    )
    species = models.CharField(max_length=20, choices=choices.Species.choices, blank=True)
    species_details = models.CharField(max_length=120, blank=True, help_text="The species, when 'other'.")
    strain = models.CharField(max_length=80, blank=True, help_text="e.g. C57BL/6J, Sprague-Dawley.")
    sex = models.CharField(max_length=10, choices=choices.Sex.choices, blank=True)
    age_weeks_min = models.FloatField(null=True, blank=True, help_text="Age at induction, weeks (lowest).")
    age_weeks_max = models.FloatField(null=True, blank=True, help_text="Age at induction, weeks (highest).")
    weight_g_min = models.FloatField(null=True, blank=True, help_text="Body weight, g (lowest).")
    weight_g_max = models.FloatField(null=True, blank=True, help_text="Body weight, g (highest).")
    supplier = models.CharField(max_length=120, blank=True, help_text="Animal supplier.")
    design = models.TextField(blank=True, help_text="Design: groups compared, timeline.")
    groups = models.JSONField(
        default=list,
        blank=True,
        help_text='Groups as a list of {"name": …, "role": treatment|vehicle|mock|evd|sham|positive_control}.',
    )
    experimental_unit = models.CharField(max_length=10, choices=choices.ExperimentalUnit.choices, blank=True)
    n_per_group = models.PositiveIntegerField(null=True, blank=True)
    sample_size_rationale = models.TextField(blank=True, help_text="How n was chosen (power calculation).")
    randomisation = models.TextField(blank=True, help_text="Randomisation method.")
    blinding = models.TextField(blank=True, help_text="Who was blinded, and to what.")
    inclusion_exclusion = models.TextField(blank=True, help_text="Inclusion and exclusion criteria.")
    exclusions = models.TextField(blank=True, help_text="Animals excluded, with reasons.")
    statistics = models.TextField(blank=True, help_text="Tests used; effect size with CI.")
    tissue_analyses = models.TextField(blank=True, help_text="Molecular / histological analyses.")
    adverse_events = models.TextField(blank=True)
    ethics_ref = models.CharField(max_length=120, blank=True, help_text="Animal ethics / clinical trial approval.")

    class Meta(LabOwnedModel.Meta):
        triggers = [*LabOwnedModel.Meta.triggers, c.never_deleted()]
        ordering = ["-created_at"]
        verbose_name_plural = "studies"
        constraints = [
            c.in_choices("study", "pain_model", choices.PainModel, blank=True),
            c.in_choices("study", "species", choices.Species, blank=True),
            c.in_choices("study", "sex", choices.Sex, blank=True),
            c.in_choices("study", "experimental_unit", choices.ExperimentalUnit, blank=True),
            *c.positive("study", "age_weeks_min", "age_weeks_max", "weight_g_min", "weight_g_max", "n_per_group"),
            c.not_before("study", "age_weeks_max", "age_weeks_min"),
            c.not_before("study", "weight_g_max", "weight_g_min"),
        ]

    def __str__(self) -> str:
        return self.title


class OnSchedule(Func):
    """SQL about the schedule column, `{value}` standing for it as often as needed (its parameters repeated)."""

    def __init__(self, expression, *, sql: str, output_field):
        super().__init__(expression, output_field=output_field)
        self.sql = sql

    def as_sql(self, compiler, connection, **extra_context):
        inner, params = compiler.compile(self.source_expressions[0])
        return self.sql.replace("{value}", f"({inner})"), tuple(params) * self.sql.count("{value}")


# An irregular schedule is a non-empty JSON array of whole numbers (days relative to model induction).
# CASE keeps PostgreSQL from asking an array question of a value that is not an array.
_SCHEDULE_IS_DAY_LIST = OnSchedule(
    F("schedule_days"),
    sql=(
        "CASE WHEN jsonb_typeof({value}) = 'array' THEN jsonb_array_length({value}) >= 1"
        " AND NOT jsonb_path_exists({value}, '$[*] ? (@.type() != \"number\" || @ != @.floor())')"
        " ELSE false END"
    ),
    output_field=models.BooleanField(),
)
_SCHEDULE_LENGTH = OnSchedule(
    F("schedule_days"),
    sql="CASE WHEN jsonb_typeof({value}) = 'array' THEN jsonb_array_length({value}) END",
    output_field=models.IntegerField(),
)
_SCHEDULE_FIRST_DAY = OnSchedule(
    F("schedule_days"),
    sql=(
        "CASE WHEN jsonb_typeof({value}) = 'array' AND jsonb_typeof({value} -> 0) = 'number'"
        " THEN ({value} ->> 0)::numeric END"
    ),
    output_field=models.IntegerField(),
)


@tracked
class Administration(LabOwnedModel):
    study = models.ForeignKey(Study, on_delete=models.PROTECT, related_name="administrations")
    batch = models.ForeignKey("batches.SecretomeBatch", on_delete=models.PROTECT, related_name="administrations")
    aliquot = models.ForeignKey(
        "batches.Aliquot", null=True, blank=True, on_delete=models.PROTECT, related_name="administrations"
    )
    received_aliquot = models.ForeignKey(
        "batches.ReceivedAliquot",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="administrations",
        help_text="The aliquot received from a partner lab that was given (its batch is the producer's).",
    )
    group = models.CharField(max_length=80, help_text="Study group name (as in the study's groups).")
    dose_value = models.FloatField(null=True, blank=True, help_text="Dose per administration, in the unit beside it.")
    dose_unit = models.CharField(max_length=20, choices=choices.DoseUnit.choices, blank=True)
    dose_unit_details = models.CharField(max_length=80, blank=True, help_text="The dose unit, when 'other'.")
    route = models.CharField(max_length=30, choices=choices.Route.choices, blank=True)
    route_details = models.CharField(
        max_length=200, blank=True, help_text="The route, when 'other' (e.g. directly to the injured nerve)."
    )
    site = models.CharField(max_length=120, blank=True, help_text="e.g. left knee, L5 level, right hind paw.")
    volume_ul = models.FloatField(null=True, blank=True, help_text="Injected volume, µL.")
    n_doses = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Number of doses.")
    schedule_days = models.JSONField(
        null=True,
        blank=True,
        help_text="Irregular schedule: the dosing days relative to model induction, e.g. [-1, 7, 11]. "
        "When given it sets the number of doses and the first day.",
    )
    interval = models.FloatField(null=True, blank=True, help_text="Interval between doses, in the unit beside it.")
    interval_unit = models.CharField(max_length=5, choices=choices.IntervalUnit.choices, blank=True)
    administered_on = models.DateField(
        null=True, blank=True, help_text="Day of the first dose (on or after the batch's collection and QC)."
    )
    day_after_induction = models.IntegerField(
        null=True, blank=True, help_text="Day of the first dose relative to model induction (negative = before)."
    )
    preventive = models.BooleanField(
        null=True, blank=True, help_text="Preventive (before symptoms) rather than therapeutic."
    )
    vehicle = models.CharField(max_length=25, choices=choices.Vehicle.choices, blank=True)
    vehicle_details = models.CharField(max_length=200, blank=True, help_text="The vehicle, when 'other'.")
    body_weight_g = models.FloatField(null=True, blank=True, help_text="Body weight at dosing, g (for EU/kg).")

    class Meta(LabOwnedModel.Meta):
        triggers = [
            *lab_owned_triggers(crossing_when={"batch": "received_aliquot"}),
            c.never_deleted(),
            dates.administered_after_collection(),
        ]
        ordering = ["study", "group"]
        constraints = [
            c.in_choices("administration", "dose_unit", choices.DoseUnit, blank=True),
            c.in_choices("administration", "route", choices.Route, blank=True),
            c.in_choices("administration", "interval_unit", choices.IntervalUnit, blank=True),
            c.in_choices("administration", "vehicle", choices.Vehicle, blank=True),
            *c.positive("administration", "dose_value", "volume_ul", "interval", "body_weight_g"),
            models.CheckConstraint(
                condition=Q(n_doses__isnull=True) | Q(n_doses__gte=1), name="administration_n_doses_at_least_1"
            ),
            models.CheckConstraint(
                condition=Q(schedule_days__isnull=True) | Q(_SCHEDULE_IS_DAY_LIST),
                name="administration_schedule_days_valid",
            ),
            models.CheckConstraint(
                condition=Q(schedule_days__isnull=True) | Q(n_doses__isnull=True) | Q(n_doses=_SCHEDULE_LENGTH),
                name="administration_schedule_days_match_n_doses",
            ),
            models.CheckConstraint(
                condition=Q(schedule_days__isnull=True)
                | Q(day_after_induction__isnull=True)
                | Q(day_after_induction=_SCHEDULE_FIRST_DAY),
                name="administration_schedule_days_match_first_day",
            ),
        ]

    def __str__(self) -> str:
        if self.dose_value is None:
            return f"{self.study} / {self.group}"
        return f"{self.study} / {self.group}: {self.dose_value:g} {self.get_dose_unit_display()}".rstrip()

    def clean_fields(self, exclude=None):
        """Field rules, then the schedule's own rule; a valid schedule sets n_doses and the first day."""
        errors: dict[str, list[str]] = {}
        try:
            super().clean_fields(exclude=exclude)
        except ValidationError as exc:
            errors = exc.message_dict
        if "schedule_days" not in errors and not (exclude and "schedule_days" in exclude):
            problem = schedule_days_problem(self.schedule_days)
            if problem:
                errors["schedule_days"] = [problem]
            else:
                self.fill_from_schedule()
        if errors:
            raise ValidationError(errors)

    def save(self, *args, **kwargs):
        if schedule_days_problem(self.schedule_days) is None:
            self.fill_from_schedule()
            update_fields = kwargs.get("update_fields")
            if update_fields is not None and "schedule_days" in update_fields:
                kwargs["update_fields"] = list({*update_fields, "n_doses", "day_after_induction"})
        super().save(*args, **kwargs)

    def fill_from_schedule(self) -> None:
        """An irregular schedule states the number of doses and the first day."""
        if self.schedule_days:
            self.n_doses = len(self.schedule_days)
            self.day_after_induction = self.schedule_days[0]


def schedule_days_problem(days) -> str | None:
    """Why `days` is not a dosing schedule (whole days relative to induction, in order), or None."""
    if days is None:
        return None
    if not isinstance(days, list) or not days:
        return "Give the dosing days as a list of whole days relative to model induction, e.g. [-1, 7, 11]."
    if not all(type(day) is int for day in days):
        return "Every dosing day must be a whole number of days relative to model induction, e.g. [-1, 7, 11]."
    if any(later <= earlier for earlier, later in itertools.pairwise(days)):
        return "List the dosing days in order, each day once, e.g. [-1, 7, 11]."
    if any(abs(day) > 36500 for day in days):
        return "A dosing day lies more than 100 years from model induction."
    return None


@tracked
class OutcomeMeasure(LabOwnedModel):
    study = models.ForeignKey(Study, on_delete=models.CASCADE, related_name="outcome_measures")
    test = models.CharField(max_length=20, choices=choices.OutcomeTest.choices)
    test_details = models.CharField(max_length=200, blank=True, help_text="The test, when 'other'.")
    unit = models.CharField(max_length=10, choices=choices.OutcomeUnit.choices, blank=True)
    time_points = models.JSONField(
        default=list, blank=True, help_text="Days after induction, e.g. [0, 7, 14, 21]; empty: not recorded."
    )
    baseline = models.BooleanField(null=True, blank=True, help_text="Measured at baseline before induction.")
    is_primary = models.BooleanField(default=False)

    class Meta(LabOwnedModel.Meta):
        ordering = ["study", "-is_primary", "test"]
        constraints = [
            c.in_choices("outcomemeasure", "test", choices.OutcomeTest),
            c.in_choices("outcomemeasure", "unit", choices.OutcomeUnit, blank=True),
            models.UniqueConstraint(
                fields=["study"], condition=Q(is_primary=True), name="outcomemeasure_one_primary_per_study"
            ),
        ]

    def __str__(self) -> str:
        name = self.test_details or self.get_test_display()
        return f"{name} ({self.unit})" if self.unit else name
