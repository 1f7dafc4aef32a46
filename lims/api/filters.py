"""Filter building blocks: typed, bounded query parameters, so no query string reaches the database unchecked."""

import re

from django import forms
from django.db import models
from django_filters import rest_framework as filters
from django_filters.filterset import FILTER_FOR_DBFIELD_DEFAULTS
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field

BIGINT_MAX = 2**63 - 1
INT_MIN, INT_MAX = -(2**31), 2**31 - 1


@extend_schema_field(OpenApiTypes.INT)
class IdFilter(filters.NumberFilter):
    """A row id; ids of other labs simply match nothing."""

    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", 1)
        kwargs.setdefault("max_value", BIGINT_MAX)
        super().__init__(*args, **kwargs)

    def get_max_validator(self):
        return None


@extend_schema_field(OpenApiTypes.INT)
class IntFilter(filters.NumberFilter):
    field_class = forms.IntegerField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", INT_MIN)
        kwargs.setdefault("max_value", INT_MAX)
        super().__init__(*args, **kwargs)

    def get_max_validator(self):
        return None


@extend_schema_field(OpenApiTypes.DOUBLE)
class FloatFilter(filters.NumberFilter):
    field_class = forms.FloatField

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("min_value", -1e300)
        kwargs.setdefault("max_value", 1e300)
        super().__init__(*args, **kwargs)

    def get_max_validator(self):
        return None


ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)


class IsoDateField(forms.DateField):
    """A day written as the schema says (`2025-03-01`), not any of the locale formats Django also reads."""

    def to_python(self, value):
        if isinstance(value, str) and value and not ISO_DATE.fullmatch(value):
            raise forms.ValidationError("Write the day as YYYY-MM-DD.", code="invalid")
        return super().to_python(value)


class IsoDateFilter(filters.DateFilter):
    field_class = IsoDateField


def date_filters(field: str, *, label: str) -> tuple[filters.DateFilter, filters.DateFilter]:
    """`<name>_after` / `<name>_before` (inclusive days) for a date or a timestamp field."""
    is_timestamp_lookup = "date__" if field.endswith("_at") else ""
    return (
        IsoDateFilter(field_name=field, lookup_expr=f"{is_timestamp_lookup}gte", label=f"{label} on or after"),
        IsoDateFilter(field_name=field, lookup_expr=f"{is_timestamp_lookup}lte", label=f"{label} on or before"),
    )


BOOLEAN_VALUES = {"true", "false"}


class StrictFilterForm(forms.Form):
    """A query parameter that is present must hold a value of its type: an empty `?status=` or a
    `?pooled=768` is a mistake to report (400 naming it), not a filter to drop silently."""

    def clean(self):
        cleaned = super().clean()
        for name, field in self.fields.items():
            is_text = isinstance(field, forms.CharField) and not isinstance(field, forms.ChoiceField)
            if name not in self.data or is_text:
                continue
            values = self.data.getlist(name) if hasattr(self.data, "getlist") else [self.data[name]]
            if any(value == "" for value in values):
                self.add_error(name, "Give a value, or leave the parameter out.")
            elif isinstance(field, forms.NullBooleanField) and any(v.lower() not in BOOLEAN_VALUES for v in values):
                self.add_error(name, "Expected true or false.")
        return cleaned


class LabFilterSet(filters.FilterSet):
    """FilterSet whose generated filters are typed and bounded: ids for foreign keys, ints, floats."""

    FILTER_DEFAULTS = {
        **FILTER_FOR_DBFIELD_DEFAULTS,
        models.ForeignKey: {"filter_class": IdFilter},
        models.OneToOneField: {"filter_class": IdFilter},
        models.AutoField: {"filter_class": IdFilter},
        models.BigAutoField: {"filter_class": IdFilter},
        models.IntegerField: {"filter_class": IntFilter},
        models.SmallIntegerField: {"filter_class": IntFilter},
        models.PositiveIntegerField: {"filter_class": IntFilter},
        models.PositiveSmallIntegerField: {"filter_class": IntFilter},
        models.BigIntegerField: {"filter_class": IntFilter, "extra": lambda f: {"min_value": -BIGINT_MAX}},
        models.PositiveBigIntegerField: {"filter_class": IntFilter, "extra": lambda f: {"max_value": BIGINT_MAX}},
        models.FloatField: {"filter_class": FloatFilter},
        models.DateField: {"filter_class": IsoDateFilter},
    }

    created_after, created_before = date_filters("created_at", label="Created")

    def get_form_class(self):
        fields = {name: filter_.field for name, filter_ in self.filters.items()}
        return type(f"{type(self).__name__}Form", (StrictFilterForm,), fields)


class LabFilterBackend(filters.DjangoFilterBackend):
    """django-filter, skipped when the request names none of the resource's filters (most list calls):
    building a FilterSet deep-copies every declared filter."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not set(request.query_params).intersection(filterset_class.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)
