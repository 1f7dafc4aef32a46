"""Filter building blocks: typed, bounded query parameters, so no query string reaches the database unchecked."""

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


def date_filters(field: str, *, label: str) -> tuple[filters.DateFilter, filters.DateFilter]:
    """`<name>_after` / `<name>_before` (inclusive days) for a date or a timestamp field."""
    is_timestamp_lookup = "date__" if field.endswith("_at") else ""
    return (
        filters.DateFilter(field_name=field, lookup_expr=f"{is_timestamp_lookup}gte", label=f"{label} on or after"),
        filters.DateFilter(field_name=field, lookup_expr=f"{is_timestamp_lookup}lte", label=f"{label} on or before"),
    )


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
    }

    created_after, created_before = date_filters("created_at", label="Created")


class LabFilterBackend(filters.DjangoFilterBackend):
    """django-filter, skipped when the request names none of the resource's filters (most list calls):
    building a FilterSet deep-copies every declared filter."""

    def filter_queryset(self, request, queryset, view):
        filterset_class = self.get_filterset_class(view, queryset)
        if filterset_class is None or not set(request.query_params).intersection(filterset_class.base_filters):
            return queryset
        return super().filter_queryset(request, queryset, view)
