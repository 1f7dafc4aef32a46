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


APPEND_ONLY = "append_only"


def append_only() -> pgtrigger.Protect:
    """Lifecycle logs only grow: the database refuses an UPDATE or DELETE of a written event."""
    return pgtrigger.Protect(name=APPEND_ONLY, operation=pgtrigger.Update | pgtrigger.Delete)


def final_once(*, name: str, final: tuple[str, ...], way_out: tuple[str, str]) -> pgtrigger.Trigger:
    """A record in a `final` status never changes, except the one step of its correction path.

    `way_out` is (from_status, to_status), e.g. released → retired: that step may change the status
    (and the bookkeeping `updated_at`/`version`), nothing else in the row.
    """
    source, target = way_out
    unchanged = (
        "(to_jsonb(NEW) - ARRAY['status', 'updated_at', 'version']) "
        "= (to_jsonb(OLD) - ARRAY['status', 'updated_at', 'version'])"
    )
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=pgtrigger.Update,
        condition=pgtrigger.Q(old__status__in=list(final)),
        func=(
            f"IF OLD.status = '{source}' AND NEW.status = '{target}' AND {unchanged} THEN RETURN NEW; END IF; "
            "RAISE EXCEPTION '% row % is %: it cannot be changed; it is corrected by a new record', "
            "TG_TABLE_NAME, OLD.id, OLD.status USING ERRCODE = 'check_violation';"
        ),
    )


SAME_LAB = "same_lab"


def _lab_column(model) -> str | None:
    """The column holding the row's lab, if the model is lab-owned (works on migration-state models too)."""
    for field in model._meta.concrete_fields:
        if field.name == "lab" and field.is_relation and field.related_model._meta.label_lower == "lims.lab":
            return field.column
    return None


class SameLab(pgtrigger.Trigger):
    """Every foreign key of a lab-owned row points at a row of the same lab, and a row's lab never changes.

    The function is generated from the model's foreign keys when the trigger is compiled, so a new
    foreign key shows up in `makemigrations`. `exempt` names links that cross labs on purpose (a shipment's
    receipt points at the sender's shipment); `crossing_when` names links that may cross labs only while another
    foreign key of the row is set ({"batch": "received_aliquot"}: a partner's batch, given as a received aliquot).
    """

    def __init__(
        self, *, name: str = SAME_LAB, exempt: tuple[str, ...] = (), crossing_when: dict[str, str] | None = None
    ):
        self.exempt = tuple(exempt)
        self.crossing_when = dict(crossing_when or {})
        super().__init__(name=name, when=pgtrigger.Before, operation=pgtrigger.Insert | pgtrigger.Update)

    def lab_links(self, model) -> list[tuple[str, str, str, str]]:
        """(column, target table, target key column, target lab column) for each checked foreign key."""
        links = []
        for field in model._meta.concrete_fields:
            if not field.is_relation or not field.many_to_one or field.name in ("lab", *self.exempt):
                continue
            target_lab = _lab_column(field.related_model)
            if target_lab is None:
                continue
            target = field.target_field
            links.append((field.column, field.related_model._meta.db_table, target.column, target_lab))
        return links

    def _unless(self, model, field_name: str) -> str:
        """The SQL condition under which the link may cross labs ('' when it never may)."""
        other = self.crossing_when.get(field_name)
        if other is None:
            return ""
        return f' AND NEW."{model._meta.get_field(other).column}" IS NULL'

    def get_func(self, model) -> str:
        lab = _lab_column(model)
        parts = [
            f"IF TG_OP = 'UPDATE' AND NEW.{lab} IS DISTINCT FROM OLD.{lab} THEN "
            "RAISE EXCEPTION '% row %: its lab cannot change', TG_TABLE_NAME, OLD.id "
            "USING ERRCODE = 'check_violation'; END IF;"
        ]
        by_column = {field.column: field.name for field in model._meta.concrete_fields}
        for column, table, key, target_lab in self.lab_links(model):
            unless = self._unless(model, by_column[column])
            parts.append(
                f'IF NEW."{column}" IS NOT NULL{unless} AND NOT EXISTS (SELECT 1 FROM "{table}" '
                f'WHERE "{key}" = NEW."{column}" AND "{target_lab}" IS NOT DISTINCT FROM NEW."{lab}") THEN '
                f"RAISE EXCEPTION '%.{column} = % points at a row of another lab', TG_TABLE_NAME, NEW.\"{column}\" "
                "USING ERRCODE = 'check_violation'; END IF;"
            )
        parts.append("RETURN NEW;")
        return " ".join(parts)


NUMBER_LIMIT = 1e15  # no quantity a lab records comes near it; beyond it sums and products in exports overflow


class FiniteNumbers(pgtrigger.Trigger):
    """Every floating-point column of the row is a finite number within ±NUMBER_LIMIT (NaN and infinity are refused).

    No lower bound on the magnitude: a range (|x| <= limit) is what the API schema can state as minimum/maximum,
    and the exports guard their own quotients (an overflowing computed value renders as no value).

    Generated from the model's float fields when compiled, so a new field is covered by `makemigrations`.
    """

    def __init__(self, *, name: str = "finite_numbers"):
        super().__init__(name=name, when=pgtrigger.Before, operation=pgtrigger.Insert | pgtrigger.Update)

    def get_func(self, model) -> str:
        parts = [
            f'IF NEW."{field.column}" IS NOT NULL AND NOT abs(NEW."{field.column}") <= {NUMBER_LIMIT:.0f} THEN '
            f"RAISE EXCEPTION '%.{field.column} = % is not a finite number within "
            f"±{NUMBER_LIMIT:g}', TG_TABLE_NAME, NEW.\"{field.column}\" USING ERRCODE = 'check_violation'; END IF;"
            for field in model._meta.concrete_fields
            if field.get_internal_type() == "FloatField"
        ]
        parts.append("RETURN NEW;")
        return " ".join(parts)
