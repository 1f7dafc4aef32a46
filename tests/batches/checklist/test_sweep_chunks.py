"""A sweep chunk judges what its batches read alike once, and stores what they share once, with the same result."""

import copy
import json
import random
import re

import pytest

from batches import models as m
from batches.checklist import active_checklist_version, evaluate_batch, load_checklist, storage
from batches.checklist.engine import Fingerprints, evaluate_batch_inputs, fingerprint
from batches.checklist.inputs import load_batch_inputs
from batches.checklist.memo import ChunkMemo, values_shared
from batches.checklist.results import json_default
from batches.models.checklist import CurrentChecklistReport
from batches.services.checklist import batch_check_many
from tests import factories as f
from tests.batches.checklist.builders import complete_batch

pytestmark = pytest.mark.django_db


def _plain(results) -> list[dict]:
    """Results as a stored report gives them back (JSON values)."""
    return json.loads(json.dumps([r.as_dict() for r in results], default=json_default))


def _text(results) -> str:
    return json.dumps([r.as_dict() for r in results], default=json_default)


def _variants(sink) -> list:
    """Batches that share the kitchen-sink batch's rows (the same objects, as the loader shares them)."""
    variants = [sink]
    for code, changes in (
        ("SB-TWIN-1", {}),
        ("SB-TWIN-2", {"conditioning_volume_ml": None}),  # absent: its message names this batch
        ("SB-TWIN-3", {"conditioning_volume_ml": None}),
        ("SB-TWIN-4", {"conditioning_time_h": 48}),  # 48 and 48.0 are told apart
        ("SB-TWIN-5", {"conditioning_time_h": 48.0}),
        ("SB-TWIN-6", {"serum_free": 1}),  # so are 1 and True
        ("SB-TWIN-7", {"serum_free": True}),
    ):
        twin = copy.copy(sink)
        twin.sources = {**sink.sources, "batch": {**sink.sources["batch"], "code": code, **changes}}
        twin.subject_id = sink.subject_id + len(variants)
        twin.code = code
        variants.append(twin)
    other_donor = copy.copy(variants[1])
    other_donor.sources = {**variants[1].sources, "donor": {**sink.sources["donor"], "species": "rat", "sex": ""}}
    other_donor.subject_id = sink.subject_id + 100
    variants.append(other_donor)
    fewer_rows = copy.copy(variants[1])
    fewer_rows.collections = {**sink.collections, "qc_results": sink.collections["qc_results"][1:]}
    fewer_rows.subject_id = sink.subject_id + 101
    variants.append(fewer_rows)
    return variants


def test_a_chunk_memo_gives_every_batch_the_evaluation_it_gets_alone(sink_batch):
    checklist = load_checklist(active_checklist_version())
    memo = ChunkMemo(checklist)
    variants = _variants(sink_batch)
    for inputs in variants:
        alone = evaluate_batch_inputs(checklist, inputs)
        in_chunk = evaluate_batch_inputs(checklist, inputs, memo=memo)
        # As JSON text, so 48 and 48.0 (or 1 and True), equal in Python, must match too.
        assert _text(in_chunk.items) == _text(alone.items), inputs.code
        assert _text(in_chunk.gates) == _text(alone.gates), inputs.code
        assert (in_chunk.score, in_chunk.score_by_category) == (alone.score, alone.score_by_category)
    assert memo.hits > len(checklist.items_for("batch"))  # the twins' shared items were judged once
    by_code = {inputs.code: evaluate_batch_inputs(checklist, inputs) for inputs in variants}
    volume = [by_code[code].item("sp_conditioning_volume").message for code in ("SB-TWIN-2", "SB-TWIN-3")]
    assert "SB-TWIN-2" in volume[0] and "SB-TWIN-3" in volume[1]


def test_fingerprints_of_a_chunk_are_the_fingerprints_of_each_batch(sink_batch):
    checklist = load_checklist(active_checklist_version())
    fingerprints = Fingerprints(checklist)
    variants = _variants(sink_batch)
    assert [fingerprints(inputs) for inputs in variants] == [fingerprint(checklist, inputs) for inputs in variants]
    assert len({fingerprints(inputs) for inputs in variants}) == len(variants)


def test_a_fingerprint_depends_on_the_values_not_on_which_objects_hold_them(lab, technician):
    checklist = load_checklist(active_checklist_version())
    batch = complete_batch(lab, technician, product_type="EV")
    inputs = load_batch_inputs([batch.pk])[batch.pk]
    again = load_batch_inputs([batch.pk])[batch.pk]  # equal rows, other objects
    copied = copy.deepcopy(inputs)
    assert fingerprint(checklist, inputs) == fingerprint(checklist, again) == Fingerprints(checklist)(copied)
    # A value of another type, or one changed in a collection's row, is another fingerprint.
    row = copied.collections["qc_results"][0]
    for column, value in (("value", 1.5), ("value", 2), ("value", True), ("analyte", "IL-6")):
        changed = copy.deepcopy(inputs)
        changed.collections["qc_results"][0][column] = value
        assert fingerprint(checklist, changed) != fingerprint(checklist, inputs), (column, value, row[column])
    one, one_float = copy.deepcopy(inputs), copy.deepcopy(inputs)
    one.collections["qc_results"][0]["value"], one_float.collections["qc_results"][0]["value"] = 1, 1.0
    assert fingerprint(checklist, one) != fingerprint(checklist, one_float)


def test_packing_a_chunk_gives_back_every_report_as_evaluated(sink_batch):
    checklist = load_checklist(active_checklist_version())
    memo = ChunkMemo(checklist)
    variants = _variants(sink_batch)
    evaluations = [evaluate_batch_inputs(checklist, inputs, memo=memo) for inputs in variants]
    packer = storage.ResultPacker(shared_values=values_shared(checklist))
    packed = packer.pack([(e.items, e.gates, inputs.code) for e, inputs in zip(evaluations, variants, strict=True)])
    bodies = storage.load_bodies(pk for report in packed for pk in report[1])
    for evaluation, (statuses, explanations, values, details) in zip(evaluations, packed, strict=True):
        items, gates = storage.unpack(statuses, explanations, values, bodies, details)
        assert items == _plain(evaluation.items) and gates == _plain(evaluation.gates)
        assert details[storage.SHARED]  # the donor's, cell line's and priming's values sit in explanations
    # Without shared values the columns are those pack() gives one report at a time.
    plain = storage.ResultPacker().pack(
        [(e.items, e.gates, i.code) for e, i in zip(evaluations, variants, strict=True)]
    )
    for evaluation, inputs, columns in zip(evaluations, variants, plain, strict=True):
        assert columns == storage.pack(_plain(evaluation.items), _plain(evaluation.gates), inputs.code)


def test_only_values_read_from_shared_records_are_stored_with_their_explanation():
    shared = values_shared(load_checklist(active_checklist_version()))
    assert {"cs_species", "ie_phenotype_positive", "ie_trilineage", "gate_isct_phenotype"} <= shared
    assert not shared & {"sp_conditioning_volume", "qc_sterility", "st_freeze_thaw", "gate_endotoxin"}


def _regex_split(text: str, code: str) -> tuple[list[str], str]:
    pattern = storage._ROW_IDS
    if code and len(code) >= 3:
        pattern = rf"{pattern}|(?<![\w-]){re.escape(code)}(?![\w-])"
    found = re.findall(pattern, text)
    return found, re.sub(pattern, storage.PLACEHOLDER, text) if found else text


def test_cutting_ids_and_the_code_out_of_a_text_matches_the_regular_expression():
    rng = random.Random(16)
    alphabet = "ab -_#[]1é2 x"
    for _ in range(20_000):
        code = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 5)))
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(0, 30)))
        if code and rng.random() < 0.5:
            text = f"{text[:5]}{code}{text[5:]}{code}"
        body, _, tokens = storage.split({"message": text, "field": ""}, code)
        assert (tokens, body["message"]) == _regex_split(text, code), (text, code)


def test_a_sweep_chunk_stores_each_batch_its_own_report_and_no_batch_event(lab, technician):
    first = complete_batch(lab, technician, product_type="EV")
    twins = [
        f.SecretomeBatchFactory(lab=lab, passage=first.passage, priming=first.priming, product_type="EV"),
        f.SecretomeBatchFactory(
            lab=lab, passage=first.passage, priming=first.priming, product_type="CM", conditioning_volume_ml=None
        ),
    ]
    other = complete_batch(lab, technician, product_type="CM", priming_kind="hypoxia", phenotype={"CD73": 80.0})
    batches = [first, *twins, other]
    assert batch_check_many(batch_ids=[b.pk for b in batches]) == len(batches)

    current = {c.batch_id: c.report for c in CurrentChecklistReport.objects.filter(batch__in=batches)}
    storage._BODIES.clear()
    for batch in batches:
        report, evaluation = current[batch.pk], evaluate_batch(batch)
        assert report.fingerprint == evaluation.fingerprint
        assert report.items == _plain(evaluation.items), batch.code
        assert report.gates == _plain(evaluation.gates), batch.code
        assert report.score == evaluation.score
    assert "shared" in current[first.pk].details
    assert not m.BatchEvent.objects.filter(batch__in=batches, kind="checked").exists()
    # The same chunk again writes nothing: every fingerprint matches its current report.
    assert batch_check_many(batch_ids=[b.pk for b in batches]) == 0
    assert load_batch_inputs([first.pk])  # the rows are still there to load
