"""The named acceptance cases of the checklist, on records in the database."""

import pgtrigger
import pytest
from django.core.management import call_command

from batches import models as m
from batches.checklist import evaluate_batch
from batches.services.lifecycle import ReleaseRefused, batch_release, batch_release_blockers, batch_submit
from tests import factories as f
from tests.batches.checklist.builders import complete_batch

pytestmark = pytest.mark.django_db


def _verify_all(batch, reviewer):
    batch.qc_results.update(status="verified", verified_by=reviewer, verified_at="2025-03-01T10:00:00Z")


def test_a_complete_batch_scores_100_with_every_gate_passed(lab, technician):
    evaluation = evaluate_batch(complete_batch(lab, technician, product_type="EV"))
    assert evaluation.score == 100.0
    assert set(evaluation.score_by_category.values()) == {100.0}
    assert all(gate.passed for gate in evaluation.gates)


def test_an_ev_batch_without_cd63_or_tsg101_misses_the_ev_positive_markers(lab, technician):
    batch = complete_batch(lab, technician, product_type="EV")
    with pgtrigger.ignore("batches.QCResult:never_deleted"):
        batch.qc_results.filter(assay="ev_marker").delete()
    result = evaluate_batch(batch).item("ch_ev_positive_markers")
    assert result.status == "missing"
    assert result.field == "qc_results"
    assert "CD9 or CD63 or CD81" in result.message and "TSG101 or ALIX" in result.message


def test_an_ev_batch_with_only_a_transmembrane_marker_still_misses_the_cytosolic_one(lab, technician):
    batch = complete_batch(lab, technician, product_type="EV")
    with pgtrigger.ignore("batches.QCResult:never_deleted"):
        batch.qc_results.filter(assay="ev_marker", analyte="TSG101").delete()
    result = evaluate_batch(batch).item("ch_ev_positive_markers")
    assert result.status == "missing"
    assert result.message.endswith("EV marker detected: TSG101 or ALIX.")


def test_an_ev_marker_recorded_as_not_detected_is_invalid(lab, technician):
    batch = complete_batch(lab, technician, product_type="EV")
    batch.qc_results.filter(assay="ev_marker", analyte="TSG101").update(result_text="not_detected")
    assert evaluate_batch(batch).item("ch_ev_positive_markers").status == "invalid"


def test_a_cm_batch_does_not_need_ev_markers(lab, technician):
    batch = complete_batch(lab, technician, product_type="CM")
    result = evaluate_batch(batch).item("ch_ev_positive_markers")
    assert result.status == "not_applicable"
    assert evaluate_batch(batch).score == 100.0


def test_hypoxia_priming_without_an_o2_percent_misses_sp_priming_hypoxia(lab, technician):
    batch = complete_batch(lab, technician, priming_kind="hypoxia")
    m.PrimingCondition.objects.filter(pk=batch.priming_id).update(o2_percent=None)
    result = evaluate_batch(batch).item("sp_priming_hypoxia")
    assert result.status == "missing"
    assert result.field == "priming.o2_percent"
    assert "priming O2 %" in result.message


def test_hypoxia_priming_at_atmospheric_o2_is_invalid(lab, technician):
    batch = complete_batch(lab, technician, priming_kind="hypoxia")
    m.PrimingCondition.objects.filter(pk=batch.priming_id).update(o2_percent=21)
    result = evaluate_batch(batch).item("sp_priming_hypoxia")
    assert result.status == "invalid"
    assert "must be below 21" in result.message


def test_deferoxamine_priming_without_its_micromolar_concentration_misses_sp_priming_dfo(lab, technician):
    batch = complete_batch(lab, technician, priming_kind="dfo")
    m.PrimingAgent.objects.filter(priming_id=batch.priming_id).delete()
    result = evaluate_batch(batch).item("sp_priming_dfo")
    assert result.status == "missing"
    assert "deferoxamine concentration (µM)" in result.message


def test_no_priming_leaves_every_priming_detail_not_applicable(lab, technician):
    evaluation = evaluate_batch(complete_batch(lab, technician, priming_kind="none"))
    for item_id in ("sp_priming_cytokine", "sp_priming_hypoxia", "sp_priming_dfo"):
        assert evaluation.item(item_id).status == "not_applicable"
    assert evaluation.item("sp_priming_type").status == "satisfied"


def test_a_batch_without_a_priming_condition_misses_the_priming_type(lab, technician):
    batch = complete_batch(lab, technician, priming_kind="none")
    m.SecretomeBatch.objects.filter(pk=batch.pk).update(priming=None)
    result = evaluate_batch(batch).item("sp_priming_type")
    assert result.status == "missing" and result.field == "priming"


def test_a_human_cell_line_at_93_percent_cd105_fails_gate_1(lab, technician):
    batch = complete_batch(lab, technician, phenotype={**_isct(), "CD105": 93.0})
    gate = evaluate_batch(batch).gate("gate_isct_phenotype")
    assert not gate.passed and gate.blocking
    assert "CD105 93 %" in gate.message


def test_a_phenotype_measured_on_ifn_gamma_primed_cells_is_flagged_not_judged(lab, technician):
    batch = complete_batch(lab, technician)
    line = batch.passage.cell_line
    line.immunophenotypes.filter(marker="HLA-DR").delete()
    f.ImmunophenotypeFactory(lab=lab, cell_line=line, marker="HLA-DR", percent_positive=45, primed_with_ifng=True)
    gate = evaluate_batch(batch).gate("gate_isct_phenotype")
    assert gate.passed and gate.flagged
    assert "HLA-DR" in gate.message


def test_a_mouse_cell_line_is_not_judged_by_the_human_isct_thresholds(lab, technician):
    batch = complete_batch(lab, technician, species="mouse", phenotype={**_isct(), "CD105": 40.0})
    evaluation = evaluate_batch(batch)
    assert evaluation.gate("gate_isct_phenotype").passed
    assert evaluation.item("ie_phenotype_positive").level == "Rec"


def test_a_positive_sterility_result_blocks_release(lab, technician, reviewer):
    batch = complete_batch(lab, technician)
    batch.qc_results.filter(assay="sterility").update(result_text="positive")
    _verify_all(batch, reviewer)
    batch_submit(batch=batch, actor=technician)
    with pytest.raises(ReleaseRefused) as refused:
        batch_release(batch=batch, actor=reviewer, password="correct-horse-battery")
    assert any(b.startswith("Release gate 2, sterility:") for b in refused.value.blockers)
    batch.refresh_from_db()
    assert batch.status == "submitted"


def test_a_complete_verified_batch_is_released(lab, technician, reviewer):
    batch = complete_batch(lab, technician)
    _verify_all(batch, reviewer)
    batch_submit(batch=batch, actor=technician)
    assert batch_release_blockers(batch=batch) == []
    assert batch_release(batch=batch, actor=reviewer, password="correct-horse-battery").status == "released"


def test_release_is_refused_while_a_required_item_is_missing_and_the_refusal_names_it(lab, technician, reviewer):
    batch = complete_batch(lab, technician)
    m.SecretomeBatch.objects.filter(pk=batch.pk).update(conditioning_o2_percent=None)
    _verify_all(batch, reviewer)
    batch_submit(batch=batch, actor=technician)
    with pytest.raises(ReleaseRefused) as refused:
        batch_release(batch=batch, actor=reviewer, password="correct-horse-battery")
    assert refused.value.blockers == [
        "Required: conditioning O2 %. Record the O2 % during conditioning "
        f"(21 for atmospheric). Missing: conditioning O2 % (on the batch {batch.code})."
    ]


def test_a_missing_recommended_item_never_blocks_release(lab, technician, reviewer):
    batch = complete_batch(lab, technician)
    m.SecretomeBatch.objects.filter(pk=batch.pk).update(mock_control=None, data_repository_ids="")
    evaluation = evaluate_batch(batch)
    assert evaluation.item("sp_mock_control").status == "missing"
    assert evaluation.score < 100
    assert evaluation.release_problems == []


def test_a_failed_gate_does_not_block_an_in_vitro_batch(lab, technician):
    batch = complete_batch(lab, technician, intended_use="in_vitro")
    batch.qc_results.filter(assay="mycoplasma", sample="cells").update(result_text="positive")
    gate = evaluate_batch(batch).gate("gate_mycoplasma")
    assert not gate.passed and not gate.blocking
    assert "not blocked" in gate.message


def test_a_mycoplasma_positive_passage_in_the_chain_fails_gate_3(lab, technician):
    batch = complete_batch(lab, technician)
    m.Passage.objects.filter(pk=batch.passage.parent_id).update(mycoplasma_result="positive")
    assert not evaluate_batch(batch).gate("gate_mycoplasma").passed


def test_endotoxin_above_the_intrathecal_limit_fails_gate_4(lab, technician):
    batch = complete_batch(lab, technician)
    batch.qc_results.filter(assay="endotoxin").update(value=0.5)
    study = f.StudyFactory(lab=lab)
    # 0.5 EU/mL × 0.02 mL ÷ 0.025 kg = 0.4 EU/kg: under K = 5 parenterally, over K = 0.2 intrathecally.
    f.AdministrationFactory(lab=lab, study=study, batch=batch, route="intraperitoneal", volume_ul=20, body_weight_g=25)
    assert evaluate_batch(batch).gate("gate_endotoxin").passed
    f.AdministrationFactory(lab=lab, study=study, batch=batch, route="intrathecal", volume_ul=20, body_weight_g=25)
    gate = evaluate_batch(batch).gate("gate_endotoxin")
    assert not gate.passed
    assert "0.4 EU/kg > 0.2 EU/kg" in gate.message


def test_an_out_of_spec_result_blocks_until_accepted_with_a_justification(lab, technician):
    batch = complete_batch(lab, technician)
    result = batch.qc_results.get(assay="total_protein")
    m.QCResult.objects.filter(pk=result.pk).update(outcome="fail")
    assert not evaluate_batch(batch).gate("gate_qc_out_of_spec").passed
    m.QCResult.objects.filter(pk=result.pk).update(acceptance_justification="Assay interference by trehalose.")
    assert evaluate_batch(batch).gate("gate_qc_out_of_spec").passed


def test_a_result_judged_against_its_specification_when_no_outcome_was_stored(lab, technician):
    batch = complete_batch(lab, technician)
    spec = f.QCSpecificationFactory(lab=lab, assay="endotoxin", max_value=0.01, warn_max=None)
    batch.qc_results.filter(assay="endotoxin").update(specification=spec, outcome="")
    assert not evaluate_batch(batch).gate("gate_qc_out_of_spec").passed


def test_a_rejected_qc_result_counts_for_nothing(lab, technician):
    batch = complete_batch(lab, technician)
    batch.qc_results.filter(assay="sterility").update(result_text="positive", status="rejected")
    evaluation = evaluate_batch(batch)
    assert evaluation.gate("gate_sterility").passed
    assert evaluation.item("qc_sterility").status == "missing"


def test_the_demo_complete_batch_scores_100_and_the_others_show_what_is_missing():
    call_command("seed_demo")
    complete = evaluate_batch(m.SecretomeBatch.objects.get(code="SB-25-001"))
    assert complete.score == 100.0
    draft = evaluate_batch(m.SecretomeBatch.objects.get(code="SB-25-004"))
    missing = {r.item_id for r in draft.items if r.status == "missing"}
    assert {"sp_conditioning_o2", "st_state", "qc_potency"} <= missing
    ev = evaluate_batch(m.SecretomeBatch.objects.get(code="SB-25-002"))
    assert not ev.gate("gate_isct_phenotype").passed  # the adipose line at 93 % CD105
    assert m.ChecklistReport.objects.filter(batch__code="SB-25-001", score=100.0).exists()
    assert m.ChecklistReport.objects.filter(study__isnull=False).count() == 1


def _isct() -> dict:
    from tests.batches.checklist.builders import ISCT_PHENOTYPE

    return dict(ISCT_PHENOTYPE)
