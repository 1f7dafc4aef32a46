"""Generated from the checklist files: blanking any one thing an item asks for makes the item missing.

For every requirement of every item — each field of a row requirement and each alternative of an
`any_of` included — the kitchen-sink record is first made to satisfy the item through that
requirement (its trigger made true, the other alternatives taken away, empty values filled in),
then that one thing is blanked: a field set empty, a row column emptied in every matching row, the
rows of a row requirement removed, the inputs of a computation emptied. The item must then be
`missing`, or `not_applicable` when the blanked field is what the item's trigger reads. An item that
could never report `missing` fails here. Advisory requirements only warn, so blanking them must leave
the item satisfied with a recommendation.

A second test checks the records themselves: every field a checklist reads can be left empty in the
database (only identity and links are required) and none has a default that records a value.
"""

import datetime as dt
from dataclasses import dataclass

import pytest
from django.db import models

from batches import models as m
from batches.checklist import available_versions, load_checklist
from batches.checklist.context import Context, column_value, is_present, row_matches
from batches.checklist.definition import Condition, Item, Requirement, RowCondition, RowField
from batches.checklist.engine import evaluate_item
from tests.batches.checklist.solver import COMPUTED_INPUTS, MODELS, _break_row, make_true, strip

COLLECTION_MODELS = {
    "passages": m.Passage,
    "immunophenotypes": m.Immunophenotype,
    "differentiations": m.Differentiation,
    "priming_agents": m.PrimingAgent,
    "processing_steps": m.ProcessingStep,
    "qc_results": m.QCResult,
    "aliquots": m.Aliquot,
    "aliquot_uses": m.AliquotEvent,
    "administrations": m.Administration,
    "outcome_measures": m.OutcomeMeasure,
}


@dataclass(frozen=True)
class Blank:
    """One thing to blank: a requirement, or one field of a row requirement, with the any_of it sits in."""

    item: Item | None
    requirement: Requirement
    row_field: RowField | None
    choice: tuple[Requirement, int] | None  # (the any_of, the index of the alternative holding the requirement)

    @property
    def case_id(self) -> str:
        what = self.requirement.path or self.requirement.collection or self.requirement.computation
        if self.row_field is not None:
            what += f".{self.row_field.name}"
        if self.choice is not None:
            what += f" (alternative {self.choice[1] + 1})"
        return f"{self.item.item_id}: {what}"


def _blanks(item: Item) -> list[Blank]:
    found: list[Blank] = []

    def walk(requirement: Requirement, choice):
        if requirement.kind == "any_of":
            for index, alternative in enumerate(requirement.alternatives):
                for inner in alternative:
                    walk(inner, (requirement, index))
            return
        if requirement.none:
            return  # "no row may match" asks for nothing to be recorded
        if requirement.kind == "rows" and requirement.fields:
            found.extend(Blank(item, requirement, row_field, choice) for row_field in requirement.fields)
        else:
            found.append(Blank(item, requirement, None, choice))

    for requirement in item.requirements:
        walk(requirement, None)
    return found


CASES = [
    pytest.param(version, blank, id=f"{version} {blank.case_id}")
    for version in available_versions()
    for item in load_checklist(version).items
    for blank in _blanks(item)
]


# --- filling in what an item asks for ---------------------------------------------------------------------


def _plausible(field: models.Field, absent: tuple = ()):
    if field.choices:
        return next(value for value, _label in field.choices if value not in absent and value not in ("", "other"))
    if isinstance(field, models.BooleanField):
        return True
    if isinstance(field, models.DateTimeField):
        return dt.datetime(2025, 3, 1, 9, 0, tzinfo=dt.UTC)
    if isinstance(field, models.DateField):
        return dt.date(2025, 3, 1)
    if isinstance(field, models.ForeignKey):
        return 1
    if isinstance(field, models.IntegerField | models.FloatField):
        return 3
    if isinstance(field, models.JSONField):
        return [0, 7, 14]
    return "recorded"


def _model_field(model: type[models.Model], name: str) -> models.Field:
    return model._meta.get_field(name)


def _satisfy_row_condition(condition: RowCondition, row: dict) -> None:
    if condition.op == "column":
        if condition.operator == "equals":
            row[condition.column] = condition.argument
        elif condition.operator in ("in", "in_ci"):
            row[condition.column] = condition.argument[0]
        elif condition.operator in ("gt", "gte"):
            row[condition.column] = condition.argument + 1
    elif condition.op == "all":
        for child in condition.children:
            _satisfy_row_condition(child, row)
    elif condition.op == "any":
        _satisfy_row_condition(condition.children[0], row)


def _fill_rows(requirement: Requirement, context: Context, *, focus: RowField | None) -> None:
    rows = [row for row in context.rows(requirement.collection) if row_matches(requirement.where, row)]
    assert rows, f"the kitchen sink has no {requirement.collection} matching {requirement.label!r}"
    model = COLLECTION_MODELS.get(requirement.collection)
    if focus is not None and focus.when is not None:
        for row in rows:  # every row asks for the focused field, so blanking it leaves no complete row
            _satisfy_row_condition(focus.when, row)
    for row in rows:
        for row_field in requirement.fields:
            if row_field.when is not None and not row_matches(row_field.when, row):
                continue
            if not is_present(column_value(row, row_field.name)):
                row[row_field.name] = _plausible(_model_field(model, row_field.name)) if model else "recorded"


def _fill(requirement: Requirement, context: Context, *, focus: Blank | None = None) -> None:
    """Make the requirement hold (when its trigger holds), choosing the focused alternative of an any_of."""
    if not context.holds(requirement.when) or requirement.none:
        return
    if requirement.kind == "field":
        source, column = requirement.path.split(".", 1)
        value = context.resolve(requirement.path)
        if requirement.rule is not None:
            make_true(Condition(op="field", path=requirement.path, operator=requirement.rule[0],
                                argument=requirement.rule[1]), context)  # fmt: skip
        elif not is_present(value, requirement.absent):
            row = context.sources[source]
            key = column if column in row else f"{column}_id"
            row[key] = _plausible(_model_field(MODELS[source], column), requirement.absent)
    elif requirement.kind == "rows":
        _fill_rows(requirement, context, focus=focus.row_field if focus and focus.requirement is requirement else None)
    elif requirement.kind == "any_of":
        chosen = 0
        if focus is not None and focus.choice is not None and focus.choice[0] is requirement:
            chosen = focus.choice[1]
            for index, alternative in enumerate(requirement.alternatives):
                if index != chosen:
                    for inner in alternative:
                        _take_away(inner, context)
        for inner in requirement.alternatives[chosen]:
            make_true(inner.when, context)
            _fill(inner, context, focus=focus)


def _take_away(requirement: Requirement, context: Context) -> None:
    """Make a requirement fail while keeping its rows (other requirements may need them): empty their fields."""
    if requirement.kind == "rows" and requirement.fields:
        for row_field in requirement.fields:
            _blank(Blank(item=None, requirement=requirement, row_field=row_field, choice=None), context)
    elif requirement.kind == "any_of":
        for alternative in requirement.alternatives:
            for inner in alternative:
                _take_away(inner, context)
    else:
        _blank(Blank(item=None, requirement=requirement, row_field=None, choice=None), context)


def _blank(blank: Blank, context: Context) -> None:
    requirement = blank.requirement
    if requirement.kind == "rows" and blank.row_field is not None:
        for row in context.rows(requirement.collection):
            if row_matches(requirement.where, row):
                current = column_value(row, blank.row_field.name)
                row[blank.row_field.name] = (
                    "" if isinstance(current, str) else [] if isinstance(current, list) else None
                )
    elif requirement.kind == "compute":
        COMPUTED_INPUTS[requirement.computation](context.inputs)
    elif requirement.kind == "rows" and requirement.where is not None and not requirement.groups:
        # Rows kept (other requirements read them), but none matches any more: e.g. no outcome is primary.
        for row in context.rows(requirement.collection):
            if row_matches(requirement.where, row):
                _break_row(requirement.where, row)
    else:
        strip(requirement, context)


def _reads(condition: Condition, path: str) -> bool:
    if condition.op == "field":
        return condition.path == path
    return any(_reads(child, path) for child in condition.children)


def _context(version: str, item: Item, sink_batch, sink_study) -> Context:
    scope = next(c.scope for c in load_checklist(version).categories if c.category_id == item.category)
    if scope == "batch":
        return Context(sink_batch)
    administration = sink_study.collections["administrations"][0]
    return Context(sink_study, administration if item.per == "administration" else None)


@pytest.mark.parametrize(("version", "blank"), CASES)
def test_blanking_what_an_item_asks_for_makes_it_missing(version, blank, sink_batch, sink_study):
    item = blank.item
    context = _context(version, item, sink_batch, sink_study)
    enclosing = blank.choice[0] if blank.choice else blank.requirement
    for _round in range(2):  # filling one thing in can switch another trigger; a second round settles it
        assert make_true(item.when, context), "the item's trigger cannot be made to hold"
        assert make_true(enclosing.when, context), "the requirement's trigger cannot be made to hold"
        assert make_true(blank.requirement.when, context), "the requirement's trigger cannot be made to hold"
        for requirement in item.requirements:
            _fill(requirement, context, focus=blank if requirement is enclosing else None)
    before = evaluate_item(item, context)
    assert before.status == "satisfied", f"cannot reach a satisfied item first: {before.message}"

    _blank(blank, context)
    after = evaluate_item(item, context)

    if blank.requirement.advisory:
        assert after.status == "satisfied", after.message
        assert "Recommended:" in after.message or "Check:" in after.message
    elif after.status == "not_applicable":
        assert _reads(item.when, blank.requirement.path), "only the item's own trigger may make it not applicable"
    else:
        assert after.status == "missing", after.message
        assert "Missing:" in after.message
        assert after.field, "a missing item names the field to fill"


def test_every_item_has_something_to_blank():
    for version in available_versions():
        for item in load_checklist(version).items:
            assert [b for b in _blanks(item) if not b.requirement.advisory], item.item_id


# --- the records: what a checklist reads may be left empty ----------------------------------------------------

# Identity and links: what the record is and what it hangs from; these stay required.
IDENTITY = {
    (m.Donor, "code"),
    (m.Passage, "number"),
    (m.SecretomeBatch, "product_type"),
    (m.SecretomeBatch, "passage"),
    (m.PrimingCondition, "kind"),
    (m.QCResult, "assay"),
    (m.Immunophenotype, "marker"),
    (m.Differentiation, "lineage"),
    (m.ProcessingStep, "kind"),
    (m.OutcomeMeasure, "test"),
    (m.PrimingAgent, "agent"),
    (m.AliquotEvent, "at"),
}


def _read_fields(version: str) -> set[tuple[type[models.Model], str]]:
    read: set[tuple[type[models.Model], str]] = set()

    def walk(requirement: Requirement):
        if requirement.kind == "field":
            source, column = requirement.path.split(".", 1)
            read.add((MODELS[source], column))
        elif requirement.kind == "rows" and requirement.collection in COLLECTION_MODELS:
            model = COLLECTION_MODELS[requirement.collection]
            read.update((model, f.name) for f in requirement.fields)
        for alternative in requirement.alternatives:
            for inner in alternative:
                walk(inner)

    for item in load_checklist(version).items:
        for requirement in item.requirements:
            walk(requirement)
    return read


@pytest.mark.parametrize("version", available_versions())
def test_every_field_a_checklist_reads_may_be_left_empty_and_has_no_invented_default(version):
    not_optional, invented = [], []
    for model, name in sorted(_read_fields(version), key=lambda pair: (pair[0].__name__, pair[1])):
        field = model._meta.get_field(name)
        if (model, name) in IDENTITY:
            continue
        if not (field.null or field.blank):
            not_optional.append(f"{model.__name__}.{name}")
        default = field.get_default() if field.has_default() else None
        if default not in (None, "", [], {}):
            invented.append(f"{model.__name__}.{name} = {default!r}")
    assert not_optional == []
    assert invented == []
