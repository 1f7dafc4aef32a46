"""Server-rendered forms: the model's fields, scoped choices, and the unit shown beside every number."""

import re

from django import forms
from django.core.exceptions import NON_FIELD_ERRORS, ValidationError
from django.db import models
from django.db.models import Q
from django.utils.html import format_html, format_html_join

from batches import models as m
from batches.choices import GroupRole
from batches.fields import (
    ADMINISTRATION_FIELDS,
    AGENT_FIELDS,
    ALIQUOT_FIELDS,
    BATCH_PRODUCTION_FIELDS,
    BATCH_START_FIELDS,
    CELL_LINE_FIELDS,
    DIFFERENTIATION_FIELDS,
    DONOR_FIELDS,
    IMMUNOPHENOTYPE_FIELDS,
    OUTCOME_FIELDS,
    PASSAGE_FIELDS,
    PRIMING_FIELDS,
    PROCESSING_FIELDS,
    QC_FIELDS,
    STUDY_FIELDS,
)
from batches.labels import field_label, field_unit
from batches.services.aliquots import parse_positions
from batches.services.records import explain_constraint
from lims.web import scoped
from protocols.models import VersionStatus

UNIT_SUFFIXES = (
    (r"_percent$", "%"),
    (r"^percent_", "%"),
    (r"_ml$", "mL"),
    (r"_ul$", "µL"),
    (r"_c$", "°C"),
    (r"_h$", "h"),
    (r"_min$", "min"),
    (r"_um$", "µm"),
    (r"_kda$", "kDa"),
    (r"_cm2$", "cm²"),
    (r"_years$", "years"),
    (r"_u_per_ml$", "U/mL"),
    (r"_mg_per_ml$", "mg/mL"),
    (r"_mm$", "mM"),
    (r"^g_force$", "× g"),
    (r"_g$", "g"),
    (r"_g_(min|max)$", "g"),
    (r"_weeks_(min|max)$", "weeks"),
    (r"^concentration_factor$", "×"),
    (r"^cells_|_cells$|^cells_at_start$", "cells"),
)


def unit_for(field_name: str) -> str:
    for pattern, unit in UNIT_SUFFIXES:
        if re.search(pattern, field_name):
            return unit
    return ""


NOT_RECORDED = "Not recorded"


def _say_empty_is_not_recorded(field: forms.Field) -> None:
    """An optional list offers "Not recorded" as its empty choice (distinct from a "Not known" value)."""
    if isinstance(field, forms.NullBooleanField):
        field.widget.choices = (("unknown", NOT_RECORDED), ("true", "Yes"), ("false", "No"))
    elif isinstance(field, forms.ModelChoiceField):
        field.empty_label = NOT_RECORDED
    elif isinstance(field, forms.ChoiceField):
        field.choices = [("", NOT_RECORDED), *((value, label) for value, label in field.choices if value != "")]


class LabScopedForm(forms.ModelForm):
    """Foreign keys offer only the user's labs' rows; numbers carry min/max from what the database allows."""

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        model_fields = {f.name for f in self._meta.model._meta.get_fields()}
        for name, field in self.fields.items():
            if name in model_fields:
                field.label = field_label(self._meta.model, name)
            if isinstance(field, forms.ModelChoiceField) and user is not None:
                related = field.queryset.model
                if any(f.name == "lab" for f in related._meta.get_fields()):
                    field.queryset = scoped(field.queryset, user)
            field.unit = field_unit(self._meta.model, name) if name in model_fields else unit_for(name)
            if not field.required:
                _say_empty_is_not_recorded(field)
            if name.endswith("_percent") or name.startswith("percent_"):
                field.widget.attrs.update({"min": 0, "max": 100, "step": "any"})
            elif isinstance(field, forms.FloatField):
                field.widget.attrs.setdefault("step", "any")
            if isinstance(field.widget, forms.DateInput):
                field.widget.input_type = "date"
                field.widget.format = "%Y-%m-%d"
            if isinstance(field.widget, forms.DateTimeInput):
                field.widget.input_type = "datetime-local"
                field.widget.format = "%Y-%m-%dT%H:%M"

        if "protocol_version" in self.fields:
            self._offer_effective_sops(self.fields["protocol_version"])

    def _offer_effective_sops(self, field: forms.ModelChoiceField) -> None:
        """Only effective versions of the SOPs for this kind of record, by code, version and title.

        The version a saved record already pins stays on offer (it may have been retired since).
        """
        categories = SOP_CATEGORIES.get(self._meta.model._meta.model_name)
        current = getattr(self.instance, "protocol_version_id", None)
        wanted = Q(status=VersionStatus.EFFECTIVE)
        if categories:
            wanted &= Q(protocol__category__in=categories)
        if current:
            wanted |= Q(pk=current)
        field.queryset = field.queryset.filter(wanted).select_related("protocol").order_by("protocol__code", "number")
        field.label_from_instance = sop_choice_label

    def _post_clean(self):
        super()._post_clean()
        self._constraint_errors_on_their_fields()

    def _constraint_errors_on_their_fields(self) -> None:
        """Django reports a violated check constraint for the whole form; say it on the field, in words."""
        general = self._errors.get(NON_FIELD_ERRORS) if self._errors else None
        if not general:
            return
        model = self._meta.model
        by_message = {str(c.get_violation_error_message()): c.name for c in model._meta.constraints}
        kept = []
        for message in list(general):
            explained = explain_constraint(model, by_message[message]) if message in by_message else None
            if explained and explained[0] in self.fields:
                self._errors.setdefault(explained[0], self.error_class()).append(explained[1])
                self.cleaned_data.pop(explained[0], None)
            else:
                kept.append(message)
        if kept:
            self._errors[NON_FIELD_ERRORS] = self.error_class(kept, error_class="nonfield")
        else:
            del self._errors[NON_FIELD_ERRORS]

    def service_data(self) -> dict:
        """Only the fields the form shows, as the service expects them."""
        return {name: self.cleaned_data[name] for name in self.fields if name in self.cleaned_data}


SOP_CATEGORIES = {
    "cellline": ("isolation", "expansion"),
    "passage": ("expansion",),
    "primingcondition": ("priming",),
    "secretomebatch": ("conditioning",),
    "processingstep": ("processing",),
    "aliquot": ("storage",),
    "qcresult": ("qc",),
    "administration": ("administration",),
}


def sop_choice_label(version) -> str:
    retired = "" if version.status == VersionStatus.EFFECTIVE else f" ({version.get_status_display().lower()})"
    return f"{version.protocol.code} v{version.number} — {version.protocol.title}{retired}"


def form_for(model: type[models.Model], fields: list[str]) -> type[LabScopedForm]:
    meta = type("Meta", (), {"model": model, "fields": fields})
    return type(f"{model.__name__}Form", (LabScopedForm,), {"Meta": meta})


DonorForm = form_for(m.Donor, DONOR_FIELDS)
CellLineForm = form_for(m.CellLine, CELL_LINE_FIELDS)
PassageForm = form_for(m.Passage, PASSAGE_FIELDS)
PrimingForm = form_for(m.PrimingCondition, PRIMING_FIELDS)
BatchStartForm = form_for(m.SecretomeBatch, BATCH_START_FIELDS)
BatchProductionForm = form_for(m.SecretomeBatch, BATCH_PRODUCTION_FIELDS)
ProcessingStepForm = form_for(m.ProcessingStep, PROCESSING_FIELDS)
AliquotForm = form_for(m.Aliquot, ALIQUOT_FIELDS)
QCResultForm = form_for(m.QCResult, QC_FIELDS)
ImmunophenotypeForm = form_for(m.Immunophenotype, IMMUNOPHENOTYPE_FIELDS)
DifferentiationForm = form_for(m.Differentiation, DIFFERENTIATION_FIELDS)
PrimingAgentForm = form_for(m.PrimingAgent, AGENT_FIELDS)


class SignatureForm(forms.Form):
    """Re-enter the password and say what the signature means (21 CFR 11.50)."""

    password = forms.CharField(widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))
    meaning = forms.ChoiceField(choices=[])
    justification = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(self, *args, meanings: list[tuple[str, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["meaning"].choices = meanings


class AliquotSeriesForm(form_for(m.Aliquot, [name for name in ALIQUOT_FIELDS if name != "position"])):
    """One form for N tubes of a batch: what they share, how many, and their positions (picked on the box map)."""

    count = forms.IntegerField(
        label="Number of tubes",
        min_value=1,
        max_value=200,
        initial=1,
        required=False,
        help_text="The first tube takes the code above, the next ones the following numbers.",
    )
    positions = forms.CharField(
        label="Positions in the box",
        required=False,
        help_text="Click free positions on the box map, or type them (e.g. A1, A2, A3): one per tube, in order.",
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["count"].unit = "tubes"
        self.fields["positions"].unit = ""
        self.fields["positions"].widget.attrs.update({"data-box-positions": "1", "autocomplete": "off"})
        self.fields["count"].widget.attrs["data-box-count"] = "1"
        if "location" in self.fields:
            self.fields["location"].widget.attrs["data-box-select"] = "1"
        self.order_fields(["code", "count", "location", "positions"])

    def clean_count(self) -> int:
        return self.cleaned_data.get("count") or 1

    def clean_positions(self) -> list[str]:
        positions = parse_positions(self.cleaned_data.get("positions") or "")
        bad = [p for p in positions if not re.fullmatch(r"[A-Z][0-9]{1,2}", p)]
        if bad:
            raise forms.ValidationError(
                f"Not a box position: {', '.join(bad)} (write a row letter and a column, e.g. B4)."
            )
        return positions

    def clean(self):
        cleaned = super().clean()
        positions = cleaned.get("positions") or []
        if positions and not cleaned.get("location"):
            self.add_error("location", "Choose the box the positions are in.")
        return cleaned

    def service_data(self) -> dict:
        return {name: value for name, value in super().service_data().items() if name not in ("count", "positions")}


def _day_list(raw: str, *, field_label: str) -> list[int] | None:
    """ "-1, 7, 11" (commas, spaces or semicolons) as whole days; empty means not recorded."""
    text = (raw or "").replace("−", "-").replace(";", ",").strip()
    if not text:
        return None
    days = []
    for part in (p for chunk in text.split(",") for p in chunk.split()):
        try:
            days.append(int(part))
        except ValueError:
            raise forms.ValidationError(f"{field_label}: “{part}” is not a whole number of days.") from None
    return days


class DayListField(forms.CharField):
    """A list of days relative to model induction, typed as "-1, 7, 11"."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("required", False)
        super().__init__(*args, **kwargs)

    def prepare_value(self, value):
        if isinstance(value, list | tuple):
            return ", ".join(str(v) for v in value)
        return value

    def to_python(self, value):
        return _day_list(super().to_python(value), field_label=str(self.label or "Days"))


StudyForm = form_for(m.Study, [name for name in STUDY_FIELDS if name != "groups"])


class StudyGroupForm(forms.Form):
    name = forms.CharField(max_length=80, label="Group name")
    role = forms.ChoiceField(choices=GroupRole.choices, label="Role in the study")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.unit = ""

    def service_data(self) -> dict:
        return dict(self.cleaned_data)


SUGGESTED_CODES = 300


class CodeInput(forms.TextInput):
    """A text box for a record's code with the newest codes as suggestions (a datalist): the page never lists
    every record of a large lab, and any code of the lab may be typed."""

    def __init__(self, attrs=None):
        super().__init__(attrs)
        self.suggestions = None  # a queryset of the lab's rows, read only when the box is drawn

    def render(self, name, value, attrs=None, renderer=None):
        attrs = dict(attrs or {})
        list_id = f"{attrs.get('id', name)}-codes"
        box = super().render(name, value, {**attrs, "list": list_id, "autocomplete": "off"}, renderer)
        newest = self.suggestions.order_by("-created_at", "-pk").values_list("code", flat=True)[:SUGGESTED_CODES]
        options = format_html_join("", '<option value="{}">', ((code,) for code in newest))
        return format_html('{}<datalist id="{}">{}</datalist>', box, list_id, options)


class ByCodeChoiceField(forms.ModelChoiceField):
    """A record of the lab chosen by its code (a record id is taken too, as clients of the form may send it)."""

    widget = CodeInput

    def __init__(self, queryset, *, noun: str, **kwargs):
        super().__init__(queryset, **kwargs)
        self.noun = noun
        self.widget.suggestions = queryset

    def prepare_value(self, value):
        return value.code if isinstance(value, models.Model) else value

    def to_python(self, value):
        if value in self.empty_values:
            return None
        text = str(value).strip()
        found = list(self.queryset.filter(code=text)[:2])
        if not found and text.isdigit():
            found = list(self.queryset.filter(pk=int(text)))
        if len(found) != 1:
            raise ValidationError(f"No {self.noun} with the code “{text}” in this lab.", code="invalid_choice")
        return found[0]


def _by_code(form, name: str, queryset, help_text: str) -> None:
    """Replaces the form's drop-down of every `name` in the lab by a code box with suggestions."""
    old = form.fields[name]
    field = ByCodeChoiceField(queryset, noun=name, required=old.required, label=old.label, help_text=help_text)
    field.unit = getattr(old, "unit", "")
    form.fields[name] = field


class AdministrationForm(form_for(m.Administration, ["batch", "aliquot", *ADMINISTRATION_FIELDS])):
    """The study's groups as a list; an irregular schedule typed as days, e.g. "-1, 7, 11"."""

    def __init__(self, *args, study=None, **kwargs):
        super().__init__(*args, **kwargs)
        for name, help_text in (
            ("batch", f"Type or pick its code (the {SUGGESTED_CODES} newest are suggested)."),
            ("aliquot", "The aliquot the dose came from, if it was recorded: type or pick its code."),
        ):
            queryset = self.fields[name].queryset
            if study is not None:
                queryset = queryset.filter(lab_id=study.lab_id)  # the study's lab: the batch given is its own
            _by_code(self, name, queryset, help_text)
        names = [g.get("name") for g in (study.groups or []) if isinstance(g, dict)] if study else []
        self.fields["group"] = forms.ChoiceField(choices=[(n, n) for n in names], label="Group")
        self.fields["group"].unit = ""
        schedule = DayListField(
            label="Dosing days (irregular schedule)",
            help_text="Days relative to model induction, e.g. -1, 7, 11; they set the number of doses and the "
            "first day. Leave empty for a regular schedule.",
        )
        schedule.unit = "days"
        self.fields["schedule_days"] = schedule
        order = ["batch", "aliquot", "group", *[n for n in ADMINISTRATION_FIELDS if n != "group"]]
        self.fields = {name: self.fields[name] for name in order if name in self.fields}


class OutcomeMeasureForm(form_for(m.OutcomeMeasure, OUTCOME_FIELDS)):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        points = DayListField(label="Time points", help_text="Days after induction, e.g. 0, 7, 14, 21.")
        points.unit = "days"
        self.fields["time_points"] = points

    def clean_time_points(self):
        return self.cleaned_data.get("time_points") or []
