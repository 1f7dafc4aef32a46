"""Check-constraint builders for what can never be true, enforced by PostgreSQL itself."""

import pgtrigger
from django.db import models
from django.db.models import Q


def _name(model: str, field: str, rule: str) -> str:
    return f"{model}_{field}_{rule}"


def percent(model: str, *fields: str) -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": 0, f"{field}__lte": 100}),
            name=_name(model, field, "0_100"),
        )
        for field in fields
    ]


def non_negative(model: str, *fields: str) -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": 0}),
            name=_name(model, field, "non_negative"),
        )
        for field in fields
    ]


def positive(model: str, *fields: str) -> list[models.CheckConstraint]:
    return [
        models.CheckConstraint(
            condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gt": 0}),
            name=_name(model, field, "positive"),
        )
        for field in fields
    ]


def between(model: str, field: str, low: float, high: float) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{field}__isnull": True}) | Q(**{f"{field}__gte": low, f"{field}__lte": high}),
        name=_name(model, field, "range"),
    )


def in_choices(model: str, field: str, choices: type[models.TextChoices], *, blank: bool = False):
    allowed = Q(**{f"{field}__in": choices.values})
    if blank:
        allowed |= Q(**{field: ""})
    return models.CheckConstraint(condition=allowed, name=_name(model, field, "valid"))


def not_before(model: str, later: str, earlier: str) -> models.CheckConstraint:
    return models.CheckConstraint(
        condition=Q(**{f"{later}__isnull": True})
        | Q(**{f"{earlier}__isnull": True})
        | Q(**{f"{later}__gte": models.F(earlier)}),
        name=_name(model, later, f"not_before_{earlier}"),
    )


NEVER_DELETED = "never_deleted"


def never_deleted() -> pgtrigger.Protect:
    """Lab records are voided or retired, never deleted: the database refuses a DELETE of the row."""
    return pgtrigger.Protect(name=NEVER_DELETED, operation=pgtrigger.Delete)


def unique_code_per_lab(model: str, field: str = "code") -> models.UniqueConstraint:
    return models.UniqueConstraint(fields=["lab", field], name=f"{model}_{field}_unique_per_lab")
