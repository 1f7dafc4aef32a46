"""Tests generated from the checklist files: every item's satisfied, missing, not-applicable and invalid paths.

Nothing here names an item: a new item in a file is tested by the same code.
"""

import pytest

from batches.checklist import available_versions, load_checklist
from batches.checklist.context import Context
from batches.checklist.engine import evaluate_item
from tests.batches.checklist.solver import make_false, make_true, strip, violate_rule

CASES = [(version, item.item_id) for version in available_versions() for item in load_checklist(version).items]
TRIGGERED = [(v, i) for v, i in CASES if load_checklist(v).item(i).has_trigger]
RULED = [
    (v, i)
    for v, i in CASES
    if any(
        (r.rule is not None or r.valid is not None) and not r.advisory for r in load_checklist(v).item(i).requirements
    )
]


def _context(version: str, item_id: str, sink_batch, sink_study):
    item = load_checklist(version).item(item_id)
    scope = next(c.scope for c in load_checklist(version).categories if c.category_id == item.category)
    if scope == "batch":
        return item, Context(sink_batch)
    administration = sink_study.collections["administrations"][0]
    return item, Context(sink_study, administration if item.per == "administration" else None)


@pytest.mark.parametrize(("version", "item_id"), CASES)
def test_an_item_is_satisfied_when_its_records_are_complete(version, item_id, sink_batch, sink_study):
    item, context = _context(version, item_id, sink_batch, sink_study)
    assert make_true(item.when, context), "the fixture cannot make the trigger hold"
    result = evaluate_item(item, context)
    assert result.status == "satisfied", result.message
    assert result.level in ("R", "C") or item.level == "Rec"


@pytest.mark.parametrize(("version", "item_id"), CASES)
def test_an_item_is_missing_without_its_records_and_names_the_field(version, item_id, sink_batch, sink_study):
    item, context = _context(version, item_id, sink_batch, sink_study)
    first = next(r for r in item.requirements if not r.advisory and r.when.op == "true")
    strip(first, context)
    assert make_true(item.when, context), "taking the records away also removed the trigger"
    result = evaluate_item(item, context)
    assert result.status == "missing"
    assert result.message.startswith(item.message)
    assert "Missing:" in result.message
    assert result.field, "a missing item names the field to fill"


@pytest.mark.parametrize(("version", "item_id"), TRIGGERED)
def test_an_item_with_a_trigger_is_not_applicable_or_downgraded_when_the_trigger_fails(
    version, item_id, sink_batch, sink_study
):
    item, context = _context(version, item_id, sink_batch, sink_study)
    assert make_false(item.when, context), "the trigger could not be made false"
    result = evaluate_item(item, context)
    if item.otherwise is None:
        assert result.status == "not_applicable"
        assert result.message.startswith("Not applicable")
    else:
        assert result.level == item.otherwise
        assert result.status == "satisfied"


@pytest.mark.parametrize(("version", "item_id"), RULED)
def test_an_item_is_invalid_when_a_recorded_value_breaks_its_rule(version, item_id, sink_batch, sink_study):
    item, context = _context(version, item_id, sink_batch, sink_study)
    assert make_true(item.when, context)
    ruled = next(r for r in item.requirements if (r.rule is not None or r.valid is not None) and not r.advisory)
    assert make_true(ruled.when, context)
    assert violate_rule(ruled, context)
    result = evaluate_item(item, context)
    assert result.status == "invalid", result.message
    assert "Invalid:" in result.message
