"""A property of the methods text: whatever subset of descriptive fields is left blank, the text reads as prose.

Records are the golden study export's; the checklist verdict flags, as the checklist would, every item whose
field was blanked. The composer is a pure function of both, so no database is needed.
"""

import copy
import json
import re
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from batches import models as m
from batches.checklist import load_checklist
from batches.checklist.context import is_present
from batches.exports.document import compose
from batches.exports.prose.fields import prose_label
from batches.exports.renderers import MARKER, to_docx, to_markdown

GOLDEN = json.loads((Path(__file__).parent / "golden" / "study.json").read_text(encoding="utf-8"))
CHECKLIST = load_checklist(GOLDEN["checklist"]["version"])
ITEM_IDS = sorted(item.item_id for item in CHECKLIST.items)

# Where rows of each model sit in the snapshot: (path of lists from the root, model).
COLLECTIONS = {
    "batches": ("batches", m.SecretomeBatch),
    "processing": ("batches.processing", m.ProcessingStep),
    "aliquots": ("batches.aliquots", m.Aliquot),
    "qc": ("batches.qc", m.QCResult),
    "cell_lines": ("cell_lines", m.CellLine),
    "passages": ("cell_lines.passages", m.Passage),
    "immunophenotype": ("cell_lines.immunophenotype", m.Immunophenotype),
    "differentiation": ("cell_lines.differentiation", m.Differentiation),
    "donors": ("donors", m.Donor),
    "primings": ("primings", m.PrimingCondition),
    "agents": ("primings.agents", m.PrimingAgent),
    "study": ("study", m.Study),
    "administrations": ("study.administrations", m.Administration),
    "outcomes": ("study.outcomes", m.OutcomeMeasure),
}
# The checklist's sources, as snapshot collections.
SOURCE = {
    "batch": "batches",
    "cell_line": "cell_lines",
    "donor": "donors",
    "passage": "passages",
    "priming": "primings",
    "study": "study",
    "administration": "administrations",
}


def rows(snapshot: dict, collection: str) -> list[dict]:
    found = [snapshot]
    for part in COLLECTIONS[collection][0].split("."):
        nxt = []
        for row in found:
            value = row.get(part)
            if isinstance(value, list):
                nxt.extend(value)
            elif isinstance(value, dict):
                nxt.append(value)
        found = nxt
    return found


def _empty(model, name: str):
    """What an optional field holds when nothing was recorded; None when the field is required."""
    try:
        field = model._meta.get_field(name)
    except Exception:
        return None
    if not field.concrete or field.primary_key or field.is_relation:
        return None
    if field.null:
        return ("null",)
    if field.blank and field.get_internal_type() in {"CharField", "TextField"}:
        return ("",)
    if field.blank and field.get_internal_type() == "JSONField":
        return ("[]",)
    return None


def _optional() -> list[tuple[str, str, str]]:
    found = set()
    for collection, (_path, model) in COLLECTIONS.items():
        for row in rows(GOLDEN["records"], collection):
            for name in row:
                empty = _empty(model, name)
                if empty is not None:
                    found.add((collection, name, empty[0]))
    return sorted(found)


OPTIONAL = _optional()
FIELD_NAMES = sorted({name for _c, name, _e in OPTIONAL if "_" in name})
REQUIREMENTS = {
    (SOURCE[r.path.split(".")[0]], r.path.split(".", 1)[1]): (item, r)
    for item in CHECKLIST.items
    for r in item.requirements
    if r.kind == "field" and r.path.split(".")[0] in SOURCE
}


def _blank(value: str):
    return {"null": None, "": "", "[]": []}[value]


def _scope_codes(records: dict, collection: str, row: dict) -> list[str]:
    """The batches (or 'study') a blanked row belongs to, for the verdict's flagged items."""
    if collection in {"study", "administrations", "outcomes"}:
        return ["study"]
    batches = records["batches"]
    if collection == "batches":
        return [row["code"]]
    if collection == "cell_lines":
        return [b["code"] for b in batches if b["cell_line"] == row["code"]]
    if collection == "donors":
        lines = {line["code"] for line in records["cell_lines"] if line["donor"] == row["code"]}
        return [b["code"] for b in batches if b["cell_line"] in lines]
    if collection == "primings":
        return [b["code"] for b in batches if b["priming"] == row["name"]]
    if collection == "passages":
        return [b["code"] for b in batches if b["passage_number"] == row["number"]]
    return []


def _flag(checklist: dict, codes: list[str], item) -> None:
    entry = {
        "item_id": item.item_id,
        "category": item.category,
        "level": "R",
        "status": "missing",
        "label": item.label,
        "field": "",
    }
    for code in codes:
        target = checklist["study"] if code == "study" else checklist["batches"].get(code)
        if target is not None and entry not in target["flagged"]:
            target["flagged"].append(entry)


def _blanked(cleared) -> tuple[dict, dict]:
    records = copy.deepcopy(GOLDEN["records"])
    checklist = copy.deepcopy(GOLDEN["checklist"])
    for collection, name, empty in cleared:
        for row in rows(records, collection):
            if name not in row:
                continue
            codes = _scope_codes(records, collection, row)
            row[name] = _blank(empty)
            found = REQUIREMENTS.get((collection, name))
            if found is not None:
                _flag(checklist, codes, found[0])
    return records, checklist


def _recorded_somewhere_only(records: dict, collection: str, column: str, absent) -> bool:
    """True when every row that holds this field has it recorded (so a marker naming it would be false)."""
    holders = [row for row in rows(records, collection) if column in row]
    return bool(holders) and all(is_present(row[column], absent) for row in holders)


def _assert_reads_as_prose(records: dict, text: str) -> None:
    plain = text.replace("\u00a0", " ")
    assert "None" not in plain
    assert not re.search(r"\bnan\b|\binf\b", plain, re.IGNORECASE)
    assert "e+" not in plain and "e-0" not in plain
    assert "10^" not in plain
    assert not re.search(r"(?<![\d.,])1 (days|weeks|years|doses|cells)\b", plain), re.search(r".{40}\b1 \w+", plain)
    for name in FIELD_NAMES:
        assert name not in plain, name
    for item_id in ITEM_IDS:
        assert item_id not in plain, item_id
    for marker in MARKER.findall(plain):
        content = re.sub(r" \([^()]*\)\]$", "]", marker)[1:-1].split(": ", 1)[1]
        for (collection, column), (_item, requirement) in REQUIREMENTS.items():
            label = re.escape(prose_label(requirement.path, requirement.label))
            if re.search(rf"(?:^|, | and ){label}(?=$|, | and )", content):
                assert not _recorded_somewhere_only(records, collection, column, requirement.absent), (
                    f"{marker} names {collection}.{column}, which is recorded"
                )


@settings(max_examples=80, deadline=None, suppress_health_check=list(HealthCheck))
@given(cleared=st.sets(st.sampled_from(OPTIONAL)))
def test_blank_fields_never_print_none_field_names_item_ids_or_false_markers(cleared):
    records, checklist = _blanked(cleared)
    text = to_markdown(compose(records, checklist))
    assert text.startswith("# Methods")
    _assert_reads_as_prose(records, text)


def test_blanking_every_optional_field_at_once_still_reads_as_prose():
    records, checklist = _blanked(OPTIONAL)
    text = to_markdown(compose(records, checklist))
    _assert_reads_as_prose(records, text)
    assert "[not recorded: " in text


def test_a_marker_names_the_blank_field_not_the_whole_item():
    records, checklist = _blanked([("cell_lines", "supplement_lot", "")])
    text = to_markdown(compose(records, checklist)).replace("\u00a0", " ")
    assert "[not recorded: supplement lot]" in text
    assert "medium supplement, % and lot" not in text


NUMERIC = sorted(
    {
        (collection, name)
        for collection, (_path, model) in COLLECTIONS.items()
        for row in rows(GOLDEN["records"], collection)
        for name, value in row.items()
        if isinstance(value, int | float) and not isinstance(value, bool) and name not in {"number", "order"}
    }
)


@pytest.mark.parametrize("extreme", [1e308, -1e308, 1e-308, -1e-308, 0, 1.7976931348623157e308, 5e-324])
def test_extreme_finite_values_in_every_numeric_field_never_raise(extreme):
    records = copy.deepcopy(GOLDEN["records"])
    for collection, name in NUMERIC:
        for row in rows(records, collection):
            if isinstance(row.get(name), int | float) and not isinstance(row.get(name), bool):
                row[name] = int(extreme) if isinstance(row[name], int) and abs(extreme) >= 1 else extreme
    for batch in records["batches"]:
        for result in batch["qc"]:
            if result["value"] is not None:
                result["value"] = extreme
    document = compose(records, GOLDEN["checklist"])
    text = to_markdown(document)
    assert not re.search(r"\bnan\b|\binf\b|e\+", text, re.IGNORECASE)
    assert to_docx(document)


def test_two_values_of_1e308_in_one_assay_are_summarised_not_overflowed():
    records = copy.deepcopy(GOLDEN["records"])
    protein = [r for b in records["batches"] for r in b["qc"] if r["assay"] == "total_protein"]
    for result in protein:
        result["value"], result["unit"], result["method"] = 1e308, "µg/mL", "bca"
    text = to_markdown(compose(records, GOLDEN["checklist"])).replace("\u00a0", " ")
    assert "1 × 10³⁰⁸ µg/mL" in text


# "Other" choices and the details a lab writes with them: (collection, field, details field, details, printed).
OTHER = [
    ("donors", "tissue_source", "tissue_source_details", "Gingival connective tissue", True),
    ("donors", "species", "species_details", "Goat", False),
    ("cell_lines", "basal_medium", "basal_medium_details", "StemPro MSC SFM", True),
    ("cell_lines", "supplement", "supplement_details", "UltraGRO-Advanced", True),
    ("cell_lines", "antibiotics", "antibiotics_details", "Normocin", True),
    ("cell_lines", "isolation_method", "isolation_details", "Mechanical dissociation", True),
    ("passages", "vessel", "vessel_details", "HYPERFlask", True),
    ("batches", "ev_depletion_method", "ev_depletion_details", "Tangential flow filtration", False),
    ("aliquots", "container", "container_details", "Glass ampoules", True),
    ("aliquots", "buffer", "buffer_details", "HEPES-buffered saline", True),
    ("qc", "method", "method_details", "ExoView R100 kit", True),
    ("qc", "assay", "assay_details", "Lipidomic profile", False),
    ("study", "pain_model", "pain_model_details", "TMJ osteoarthritis (MIA)", True),
    ("administrations", "route", "route_details", "Biomaterial implant at the sciatic nerve", True),
    ("administrations", "vehicle", "vehicle_details", "Hyaluronic acid gel", True),
    ("administrations", "dose_unit", "dose_unit_details", "mg lyophilisate per kg", False),
    ("outcomes", "test", "test_details", "Burrowing behaviour", True),
    ("primings", "device", "details", "A sealed hypoxia bag", False),
    ("differentiation", "method", "method_details", "Von Kossa-like staining", False),
    ("agents", "agent", "agent_details", "IL-1β", False),
]


@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    chosen=st.sets(st.sampled_from(OTHER), min_size=1),
    cleared=st.sets(st.sampled_from(OPTIONAL), max_size=12),
    irregular=st.booleans(),
)
def test_other_choices_read_in_the_words_recorded_with_them(chosen, cleared, irregular):
    records, checklist = _blanked(cleared)
    for collection, field, details_field, details, _printed in chosen:
        for row in rows(records, collection):
            row[field], row[details_field] = "other", details
    if irregular:
        for row in rows(records, "administrations"):
            row.update(schedule_days=[-1, 7, 11], n_doses=3, day_after_induction=-1, interval=None)
    text = to_markdown(compose(records, checklist)).replace("\u00a0", " ")
    _assert_reads_as_prose(records, text)
    assert not re.search(r"\b(?:by|in|with|of) other\b|\(other\)|: other\b", text), re.search(r".{40}\bother\b", text)
    lowered = text.lower()
    for collection, field, _details_field, details, printed in chosen:
        if printed and (collection, field, "") not in {(c, n, "") for c, n, _e in cleared}:
            assert details.lower() in lowered, details
    if irregular:
        assert "on days −1, 7 and 11 relative to model induction" in text
        assert "1 days" not in text
