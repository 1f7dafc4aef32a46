"""Whatever the records leave empty, the text is still written: blanks become markers or are left out, never a crash.

The composer is a pure function of the snapshot, so these run on the golden study export without a database.
"""

import copy
import json
import re
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batches import models as m
from batches.exports.document import compose
from batches.exports.renderers import to_markdown

GOLDEN = json.loads((Path(__file__).parent / "golden" / "study.json").read_text(encoding="utf-8"))

# Snapshot rows and the model whose optional fields they copy.
ROWS = {
    "batches": m.SecretomeBatch,
    "cell_lines": m.CellLine,
    "donors": m.Donor,
    "primings": m.PrimingCondition,
}


def _empty_value(model, name: str):
    """What an optional field holds when nothing was recorded, or None when the field is required."""
    try:
        field = model._meta.get_field(name)
    except Exception:
        return None
    if not field.concrete:
        return None
    if field.null:
        return ("null",)
    if field.blank and field.get_internal_type() in {"CharField", "TextField"}:
        return ("",)
    return None


OPTIONAL = sorted(
    (collection, name, empty[0])
    for collection, model in ROWS.items()
    for name in GOLDEN["records"][collection][0]
    if (empty := _empty_value(model, name)) is not None
)
STUDY_OPTIONAL = sorted(
    (name, empty[0])
    for name in GOLDEN["records"]["study"]
    if name not in {"administrations", "outcomes", "groups"} and (empty := _empty_value(m.Study, name)) is not None
)


def _blank(value):
    return None if value == "null" else value


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    cleared=st.sets(st.sampled_from(OPTIONAL)),
    study_cleared=st.sets(st.sampled_from(STUDY_OPTIONAL)),
    drop=st.sets(st.sampled_from(["processing", "aliquots", "qc", "immunophenotype", "differentiation", "passages"])),
)
def test_any_combination_of_unrecorded_fields_still_composes(cleared, study_cleared, drop):
    records = copy.deepcopy(GOLDEN["records"])
    for collection, name, empty in cleared:
        for row in records[collection]:
            row[name] = _blank(empty)
    for name, empty in study_cleared:
        records["study"][name] = _blank(empty)
    for collection in ("batches", "cell_lines"):
        for row in records[collection]:
            for key in drop & set(row):
                row[key] = []
    document = compose(records, GOLDEN["checklist"])
    text = to_markdown(document)
    assert text.startswith("# Methods")
    assert "None" not in text and "[]" not in text
    assert "  " not in text.replace("\n\n", "\n")
    assert not re.search(r"\b(at|in|for|with|of|by) ?[.,;]", text), re.search(
        r".{60}\b(at|in|for|with|of|by) ?[.,;]", text
    )
    headings = [section["id"] for section in document["sections"]]
    assert headings[0] == "cell_source" and headings[-2:] == ["references", "provenance"]


def test_every_flagged_item_is_printed_even_when_its_section_has_nothing_else_to_say():
    records = copy.deepcopy(GOLDEN["records"])
    checklist = copy.deepcopy(GOLDEN["checklist"])
    code = records["batches"][1]["code"]
    checklist["batches"][code]["flagged"].append(
        {"item_id": "zz_unknown", "category": "elsewhere", "level": "R", "status": "missing", "label": "a new item"}
    )
    text = to_markdown(compose(records, checklist))
    assert "[not recorded: a new item (SB-25-001)]" in text
