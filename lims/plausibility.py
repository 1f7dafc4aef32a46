"""Plausibility: what may be stored but cannot be right, checked before every write, with field messages.

The database refuses what can never be true (lims.constraints); plausibility adds the rules that need
other rows or per-kind tables (an assay's methods and units, dates along the lineage, a box's grid).
Apps register their rules per model; every write path (`validate_record`) asks `plausibility_errors`.
Generic rules apply to every lab record: printable codes, bounded text, finite plausible numbers.
"""

import math
import re
from collections import defaultdict
from collections.abc import Callable

from django.db import models

from lims.constraints import NUMBER_LIMIT

Rule = Callable[[models.Model], dict[str, list[str]]]

_RULES: dict[type[models.Model], list[Rule]] = defaultdict(list)

PRINTABLE_CODE = re.compile(r"^[A-Za-z0-9\-_./]+$")
CODE_MESSAGE = "Use letters, digits and - _ . / only (it is printed on labels)."
TEXT_LIMIT = 4000
NUMBER_MESSAGE = f"Must be a finite number from {-NUMBER_LIMIT:g} to {NUMBER_LIMIT:g}."


def register(model: type[models.Model]) -> Callable[[Rule], Rule]:
    """Decorator: `rule(instance)` returns {field: [messages]} for what is implausible in the row."""

    def add(rule: Rule) -> Rule:
        _RULES[model].append(rule)
        return rule

    return add


def _generic(instance: models.Model) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    for field in instance._meta.concrete_fields:
        value = getattr(instance, field.attname, None)
        if value is None:
            continue
        if field.name == "code" and isinstance(value, str) and value and not PRINTABLE_CODE.fullmatch(value):
            errors.setdefault(field.name, []).append(CODE_MESSAGE)
        elif isinstance(field, models.TextField) and isinstance(value, str) and len(value) > TEXT_LIMIT:
            errors.setdefault(field.name, []).append(
                f"At most {TEXT_LIMIT} characters (this has {len(value)}); attach longer documents as raw data."
            )
        elif (
            isinstance(field, models.FloatField)
            and isinstance(value, float | int)
            and not (math.isfinite(value) and abs(value) <= NUMBER_LIMIT)
        ):
            errors.setdefault(field.name, []).append(NUMBER_MESSAGE)
    return errors


def plausibility_errors(instance: models.Model) -> dict[str, list[str]]:
    """Every implausible value of the row, by field (empty when all is plausible)."""
    errors = _generic(instance)
    for model in type(instance).__mro__:
        for rule in _RULES.get(model, ()):
            for key, messages in rule(instance).items():
                errors.setdefault(key, []).extend(m for m in messages if m not in errors.get(key, []))
    return errors
