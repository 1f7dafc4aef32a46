"""Records other than the demo's: bought and pooled cells, serum in the conditioning medium, repeated doses."""

import pytest

from batches.exports import methods
from batches.models import SecretomeBatch
from tests import factories as f

pytestmark = pytest.mark.django_db


def _text(*batches) -> str:
    export = methods.batches_methods_export(batch_ids=[b.pk for b in batches], scope=SecretomeBatch.objects.all())
    return methods.render(export, "md").content.decode().replace("\u00a0", " ")


def test_bought_cells_name_their_supplier_catalogue_number_and_lot(lab):
    donor = f.DonorFactory(lab=lab, supplier="Lonza", catalogue_number="PT-2501", lot="0000701", ethics_approval_ref="")
    line = f.CellLineFactory(lab=lab, donor=donor, isolation_method="commercial")
    batch = f.SecretomeBatchFactory(lab=lab, passage=f.PassageFactory(lab=lab, cell_line=line))
    text = _text(batch)
    assert "purchased from Lonza (catalogue no. PT-2501, lot 0000701)" in text
    assert "isolated by the supplier" in text


def test_pooled_donors_are_counted_as_people(lab):
    donor = f.DonorFactory(lab=lab, pooled=True, n_donors=5, sex="mixed", age_years=None)
    line = f.CellLineFactory(lab=lab, donor=donor)
    text = _text(f.SecretomeBatchFactory(lab=lab, passage=f.PassageFactory(lab=lab, cell_line=line)))
    assert "five donors, five of them pooled (of mixed sex" in text


def test_serum_in_the_conditioning_medium_names_its_ev_depletion(lab):
    batch = f.SecretomeBatchFactory(
        lab=lab, serum_free=False, serum_percent=2, ev_depletion_method="ultracentrifugation"
    )
    assert "DMEM/F-12 with 2 % (v/v) serum depleted of EVs by ultracentrifugation" in _text(batch)


def test_repeated_doses_state_their_number_interval_and_start(lab):
    batch = f.SecretomeBatchFactory(lab=lab)
    f.QCResultFactory(lab=lab, batch=batch, assay="total_protein", value=100.0, unit="µg/mL")
    study = f.StudyFactory(lab=lab, age_weeks_min=8, age_weeks_max=10, weight_g_min=250, weight_g_max=300)
    f.AdministrationFactory(
        lab=lab,
        study=study,
        batch=batch,
        n_doses=3,
        interval=7,
        interval_unit="days",
        day_after_induction=14,
        preventive=False,
        vehicle="saline",
    )
    text = methods.render(methods.study_methods_export(study=study), "md").content.decode().replace("\u00a0", " ")
    assert "Male Sprague-Dawley rats (8–10 weeks old; 250–300 g)" in text
    assert "20 µg protein (≈ 6.67 × 10⁴ cell equivalents) of CM" in text
    assert "as three doses weekly starting 14 days after model induction (therapeutic)" in text
    assert "intra-articularly into the left knee in a volume of 50 µL in 0.9 % saline" in text


def test_different_conditioning_times_are_attributed_to_their_batches(lab):
    first = f.SecretomeBatchFactory(lab=lab, code="SB-T-1", conditioning_time_h=48)
    second = f.SecretomeBatchFactory(lab=lab, code="SB-T-2", conditioning_time_h=48)
    third = f.SecretomeBatchFactory(lab=lab, code="SB-T-3", conditioning_time_h=72)
    assert "for 48 h (72 h for SB-T-3)" in _text(first, second, third)
