"""The checklist file: every item of CHECKLIST.md, a grammar that explains its mistakes, and the score formula."""

import copy
import re

import pytest
import yaml

from batches.checklist import ChecklistFileError, available_versions, load_checklist
from batches.checklist.context import Context
from batches.checklist.definition import checklist_path, parse_checklist
from batches.checklist.engine import evaluate_batch_inputs, evaluate_item, score
from batches.checklist.results import ItemResult

# CHECKLIST.md, version 1: category -> item ids, in its order.
CHECKLIST_MD = {
    "cell_source": [
        "cs_tissue_source",
        "cs_species",
        "cs_donor",
        "cs_donor_characteristics",
        "cs_ethics_consent",
        "cs_modification",
    ],
    "isolation_expansion": [
        "ie_isolation_method",
        "ie_plastic_adherence",
        "ie_phenotype_positive",
        "ie_phenotype_negative",
        "ie_trilineage",
        "ie_basal_medium",
        "ie_supplement",
        "ie_passage_number",
        "ie_population_doublings",
        "ie_seeding_density",
        "ie_culture_format",
        "ie_incubator",
    ],
    "secretome_production": [
        "sp_product_type",
        "sp_confluence_start",
        "sp_cells_at_start",
        "sp_conditioning_medium",
        "sp_conditioning_volume",
        "sp_conditioning_time",
        "sp_conditioning_o2",
        "sp_priming_type",
        "sp_priming_cytokine",
        "sp_priming_hypoxia",
        "sp_priming_dfo",
        "sp_harvest_viability",
        "sp_preclearing",
        "sp_concentration",
        "sp_ev_separation",
        "sp_mock_control",
        "sp_lyophilisation",
    ],
    "storage": ["st_state", "st_temperature", "st_duration", "st_freeze_thaw", "st_buffer_container"],
    "quality_control": ["qc_sterility", "qc_endotoxin", "qc_mycoplasma", "qc_total_protein", "qc_potency"],
    "characterisation": [
        "ch_particle_conc",
        "ch_size_distribution",
        "ch_purity_ratio",
        "ch_ev_positive_markers",
        "ch_negative_markers",
        "ch_single_ev_imaging",
        "ch_soluble_profile",
        "ch_ev_depletion_check",
        "ch_data_deposition",
    ],
    "dose_administration": ["da_dose", "da_route", "da_volume", "da_vehicle_controls", "da_schedule", "da_animals"],
    "outcomes": [
        "oa_pain_model",
        "oa_outcome_measures",
        "oa_design_sample_size",
        "oa_inclusion_exclusion",
        "oa_randomisation_blinding",
        "oa_statistics",
        "oa_molecular_adverse",
    ],
}
RECOMMENDED = {
    "ie_population_doublings",
    "sp_mock_control",
    "st_buffer_container",
    "ch_data_deposition",
    "oa_molecular_adverse",
}
V1 = "secretome-minimal-v1"


def _raw(version: str = V1) -> dict:
    return yaml.safe_load(checklist_path(version).read_text(encoding="utf-8"))


def test_version_1_holds_every_item_of_checklist_md_in_its_category():
    checklist = load_checklist(V1)
    by_category = {
        c.category_id: [i.item_id for i in checklist.items if i.category == c.category_id] for c in checklist.categories
    }
    assert by_category == CHECKLIST_MD
    assert {i.item_id for i in checklist.items if i.level == "Rec"} == RECOMMENDED
    assert [g.number for g in checklist.gates] == [1, 2, 3, 4, 5]


def test_every_shipped_file_loads_and_carries_its_version():
    for version in available_versions():
        checklist = load_checklist(version)
        assert checklist.version == version and len(checklist.digest) == 64


@pytest.mark.parametrize(
    ("edit", "named"),
    [
        (lambda d: d["items"][0].update(category="nowhere"), "item cs_tissue_source"),
        (lambda d: d["items"][4].pop("when"), "item cs_ethics_consent: a conditional (C) item needs its trigger"),
        (lambda d: d["items"][1]["require"][0].update(field="martian.species"), "item cs_species require[0]"),
        (lambda d: d["items"][1].update(level="Mandatory"), "item cs_species: level must be one of"),
        (lambda d: d["items"][1].pop("message"), "item cs_species: needs the message"),
        (lambda d: d["items"][2].update(id="cs_tissue_source"), "is used twice"),
        (lambda d: d["items"][14]["require"][0].update(compute="astrology"), "compute 'astrology'"),
        (lambda d: d["items"][0]["require"][0].update(rule={"about": 3}), "a rule is one operator"),
        (
            lambda d: [r.update(advisory=True) for r in d["items"][0]["require"]],
            "at least one requirement that always applies",
        ),
        (lambda d: d["items"][0].update(when={"use": "nonexistent"}), "no named condition 'nonexistent'"),
        (lambda d: d["items"][0].update(when={"rows": "unicorns"}), "rows 'unicorns'"),
    ],
)
def test_a_broken_checklist_file_is_refused_with_the_place_named(edit, named):
    data = _raw()
    edit(data)
    with pytest.raises(ChecklistFileError, match=re.escape(named)):
        parse_checklist(data, where="test.yaml")


def test_an_item_of_an_existing_kind_is_added_by_editing_the_file_only(sink_batch):
    data = _raw()
    data["version"] = "secretome-minimal-test"
    data["items"].append(
        {
            "id": "sp_conditioning_vessel_o2_probe",
            "category": "secretome_production",
            "level": "C",
            "when": {"field": "batch.product_type", "equals": "EV"},
            "label": "final volume",
            "require": [{"field": "batch.final_volume_ml", "label": "final volume (mL)", "rule": {"gt": 0}}],
            "message": "Record the final product volume.",
        }
    )
    checklist = parse_checklist(data)
    item = checklist.item("sp_conditioning_vessel_o2_probe")
    assert evaluate_item(item, Context(sink_batch)).status == "satisfied"
    sink_batch.sources["batch"]["final_volume_ml"] = None
    result = evaluate_item(item, Context(sink_batch))
    assert result.status == "missing" and result.field == "final_volume_ml"
    evaluation = evaluate_batch_inputs(checklist, sink_batch)
    assert evaluation.version == "secretome-minimal-test"
    assert evaluation.item("sp_conditioning_vessel_o2_probe").status == "missing"


def _result(level: str, status: str, category: str = "cell_source") -> ItemResult:
    return ItemResult(item_id="x", category=category, level=level, status=status, message="", field="", label="x")


def test_the_score_weighs_required_and_triggered_items_twice_and_leaves_out_what_does_not_apply():
    weights = load_checklist(V1).weights
    results = [
        _result("R", "satisfied"),
        _result("C", "missing"),
        _result("Rec", "satisfied"),
        _result("Rec", "invalid"),
        _result("C", "not_applicable"),
    ]
    # (2 + 0 + 1 + 0) / (2 + 2 + 1 + 1)
    assert score(results, weights) == 50.0
    assert score([_result("C", "not_applicable")], weights) == 100.0


def test_the_evaluation_reports_a_score_per_category_and_the_fingerprint_of_its_inputs(sink_batch):
    checklist = load_checklist(V1)
    first = evaluate_batch_inputs(checklist, sink_batch)
    assert set(first.score_by_category) == {c for c in CHECKLIST_MD if not c.startswith(("dose", "outcomes"))}
    changed = copy.deepcopy(sink_batch)
    changed.sources["donor"]["age_years"] = 35.5
    assert evaluate_batch_inputs(checklist, changed).fingerprint != first.fingerprint
    assert evaluate_batch_inputs(checklist, copy.deepcopy(sink_batch)).fingerprint == first.fingerprint
