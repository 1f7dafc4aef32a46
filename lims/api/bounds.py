"""The numeric bounds of a model field, read from the rules the database enforces (check constraints on
that field alone, and the ±NUMBER_LIMIT every float column keeps) and from the field's own validators, so
the API validates and documents the same range.

`Bounds` feeds both the serializer field (DRF validators, so a bad value is a 400 naming the field before
anything reaches the database) and the OpenAPI schema (minimum / maximum / exclusiveMinimum)."""

from dataclasses import dataclass
from functools import cache
from typing import Any

from django.core import validators
from django.db import models
from django.db.models import Q

from lims.constraints import NUMBER_LIMIT
from lims.plausibility import NUMBER_MESSAGE
from lims.write_rules import explain_constraint

BOUND_LOOKUPS = {"gte", "gt", "lte", "lt"}


@dataclass(frozen=True)
class Bounds:
    minimum: float | None = None
    maximum: float | None = None
    exclusive_minimum: bool = False
    exclusive_maximum: bool = False
    message: str | None = None

    def tighten(self, other: "Bounds") -> "Bounds":
        minimum, exclusive_minimum = self.minimum, self.exclusive_minimum
        if other.minimum is not None and (
            minimum is None or other.minimum > minimum or (other.minimum == minimum and other.exclusive_minimum)
        ):
            minimum, exclusive_minimum = other.minimum, other.exclusive_minimum
        maximum, exclusive_maximum = self.maximum, self.exclusive_maximum
        if other.maximum is not None and (
            maximum is None or other.maximum < maximum or (other.maximum == maximum and other.exclusive_maximum)
        ):
            maximum, exclusive_maximum = other.maximum, other.exclusive_maximum
        return Bounds(minimum, maximum, exclusive_minimum, exclusive_maximum, other.message or self.message)


def _leaves(condition: Q) -> list[tuple[str, Any]]:
    found = []
    for child in condition.children:
        found.extend(_leaves(child) if isinstance(child, Q) else [child])
    return found


def _constraint_bounds(model: type[models.Model], constraint: models.CheckConstraint, field_name: str) -> Bounds | None:
    """Bounds when every leaf of the constraint is a comparison of this field with a number (or its isnull)."""
    condition = constraint.condition
    if not isinstance(condition, Q) or condition.negated:
        return None
    bounds = Bounds()
    for key, value in _leaves(condition):
        name, _, lookup = key.partition("__")
        if name != field_name:
            return None
        if lookup == "isnull":
            continue
        if lookup not in BOUND_LOOKUPS or isinstance(value, bool) or not isinstance(value, int | float):
            return None
        if lookup in {"gte", "gt"}:
            bounds = bounds.tighten(Bounds(minimum=value, exclusive_minimum=lookup == "gt"))
        else:
            bounds = bounds.tighten(Bounds(maximum=value, exclusive_maximum=lookup == "lt"))
    if bounds.minimum is None and bounds.maximum is None:
        return None
    explained = explain_constraint(model, constraint.name)
    return Bounds(
        bounds.minimum,
        bounds.maximum,
        bounds.exclusive_minimum,
        bounds.exclusive_maximum,
        explained[1] if explained else None,
    )


@cache
def model_field_bounds(model: type[models.Model], field_name: str) -> Bounds | None:
    """The range the database and the model field accept for `field_name`, or None when unbounded."""
    try:
        field = model._meta.get_field(field_name)
    except Exception:
        return None
    if not isinstance(field, models.IntegerField | models.FloatField | models.DecimalField):
        return None
    # Every float column holds a finite number within ±NUMBER_LIMIT (lims.constraints.FiniteNumbers).
    bounds = (
        Bounds(-NUMBER_LIMIT, NUMBER_LIMIT, message=NUMBER_MESSAGE)
        if isinstance(field, models.FloatField)
        else Bounds()
    )
    for validator in field.validators:
        limit = getattr(validator, "limit_value", None)
        if callable(limit) or isinstance(limit, bool) or not isinstance(limit, int | float):
            continue
        if isinstance(validator, validators.MinValueValidator):
            bounds = bounds.tighten(Bounds(minimum=limit))
        elif isinstance(validator, validators.MaxValueValidator):
            bounds = bounds.tighten(Bounds(maximum=limit))
    for constraint in model._meta.constraints:
        if isinstance(constraint, models.CheckConstraint):
            found = _constraint_bounds(model, constraint, field_name)
            if found is not None:
                bounds = bounds.tighten(found)
    if bounds.minimum is None and bounds.maximum is None:
        return None
    return bounds


class ExclusiveMinValueValidator(validators.MinValueValidator):
    """Greater than the limit (the database's `> 0`), not equal to it."""

    def compare(self, a, b) -> bool:
        return a <= b


class ExclusiveMaxValueValidator(validators.MaxValueValidator):
    def compare(self, a, b) -> bool:
        return a >= b


def _default_message(bounds: Bounds) -> str:
    low = None if bounds.minimum is None else f"{bounds.minimum:g}"
    high = None if bounds.maximum is None else f"{bounds.maximum:g}"
    if low is not None and high is not None:
        return f"Must be between {low} and {high}."
    if low is not None:
        return f"Must be greater than {low}." if bounds.exclusive_minimum else f"Must be at least {low}."
    return f"Must be less than {high}." if bounds.exclusive_maximum else f"Must be at most {high}."


def apply_bounds(field, bounds: Bounds) -> None:
    """Give a DRF number field the bounds: its validators, and min_value / max_value for the schema."""
    message = bounds.message or _default_message(bounds)
    if bounds.minimum is not None and (field.min_value is None or bounds.minimum >= field.min_value):
        field.min_value = bounds.minimum
        field.exclusive_minimum = bounds.exclusive_minimum
        kind = ExclusiveMinValueValidator if bounds.exclusive_minimum else validators.MinValueValidator
        field.validators.append(kind(bounds.minimum, message=message))
    if bounds.maximum is not None and (field.max_value is None or bounds.maximum <= field.max_value):
        field.max_value = bounds.maximum
        field.exclusive_maximum = bounds.exclusive_maximum
        kind = ExclusiveMaxValueValidator if bounds.exclusive_maximum else validators.MaxValueValidator
        field.validators.append(kind(bounds.maximum, message=message))


@cache
def model_field_pattern(model: type[models.Model], field_name: str) -> tuple[str, str] | None:
    """The regular expression a check constraint holds a non-blank text field to, with the constraint's message
    (whether blank is allowed is the field's own `blank`, which the schema states as an alternative)."""
    for constraint in model._meta.constraints:
        if not isinstance(constraint, models.CheckConstraint) or not isinstance(constraint.condition, Q):
            continue
        leaves = _leaves(constraint.condition)
        if not leaves or any(key.partition("__")[0] != field_name for key, _ in leaves):
            continue
        regexes = [value for key, value in leaves if key.endswith("__regex")]
        blank = any(key == field_name and value == "" for key, value in leaves)
        if len(regexes) != 1 or len(leaves) != len(regexes) + blank:
            continue
        inner = regexes[0].removeprefix("^").removesuffix("$")
        explained = explain_constraint(model, constraint.name)
        message = explained[1] if explained else "Not in the expected form."
        return f"^(?:{inner})$", message
    return None
