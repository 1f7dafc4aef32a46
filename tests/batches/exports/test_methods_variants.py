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


@pytest.mark.parametrize(
    ("row", "phrase"),
    [
        (
            {"n_doses": 7, "interval": 1, "interval_unit": "days", "day_after_induction": -1},
            "as seven doses daily starting 1 day before model induction",
        ),
        (
            {"n_doses": 3, "interval": 2, "interval_unit": "days", "day_after_induction": 1},
            "as three doses every 2 days starting 1 day after model induction",
        ),
        (
            {"n_doses": 4, "interval": 1, "interval_unit": "weeks", "day_after_induction": 0},
            "as four doses weekly starting on the day of model induction",
        ),
        (
            {"n_doses": 1, "day_after_induction": 7, "preventive": False},
            "as a single dose 7 days after model induction (therapeutic)",
        ),
        (
            {"schedule_days": [11, -1, 7], "n_doses": 3},
            "as three doses on days −1, 7 and 11 relative to model induction",
        ),
        ({"n_doses": 2, "interval": 12, "interval_unit": "h"}, "as two doses every 12 h"),
        ({}, ""),
    ],
)
def test_schedules_read_as_a_journal_writes_them(row, phrase):
    from batches.exports.prose.study import schedule_phrase

    assert schedule_phrase(row) == phrase
    assert "1 days" not in schedule_phrase(row)


def test_the_recorded_nta_instrument_is_named(lab):
    batch = f.SecretomeBatchFactory(lab=lab, product_type="EV")
    f.QCResultFactory(
        lab=lab,
        batch=batch,
        assay="particle_concentration",
        method="nta",
        instrument="NanoSight NS300",
        value=2.4e10,
        unit="particles/mL",
    )
    text = _text(batch)
    assert "nanoparticle tracking analysis (NTA; NanoSight NS300) was 2.4 × 10¹⁰ particles/mL" in text
    assert "e+" not in text


def test_one_ev_marker_is_a_marker_and_several_are_markers(lab):
    batch = f.SecretomeBatchFactory(lab=lab, product_type="EV")
    f.QCResultFactory(
        lab=lab,
        batch=batch,
        assay="ev_marker",
        method="western_blot",
        analyte="CD63",
        value=None,
        unit="",
        result_text="detected",
    )
    assert "the EV marker CD63 was detected" in _text(batch)
    f.QCResultFactory(
        lab=lab,
        batch=batch,
        assay="ev_marker",
        method="western_blot",
        analyte="TSG101",
        value=None,
        unit="",
        result_text="detected",
    )
    assert "the EV markers CD63 and TSG101 were detected" in _text(batch)


def test_a_small_seeding_density_keeps_its_significant_digits(lab):
    line = f.CellLineFactory(lab=lab)
    passage = f.PassageFactory(lab=lab, cell_line=line, cells_seeded=4_000, area_cm2=175)
    text = _text(f.SecretomeBatchFactory(lab=lab, passage=passage))
    assert "seeded at 23 cells/cm²" in text
    assert "0 cells/cm²" not in text


def test_a_deviation_on_the_batch_names_it_once_with_journal_numbers():
    from batches.exports.prose.common import measured_text, parameter_words, record_words

    where = record_words("Batch SB-25-010", "SB-25-010")
    sentence = f"the {parameter_words('ml_per_million_cells')} of {where} was {measured_text('8.57143 mL/10^6 cells')}"
    assert sentence == "the conditioning volume per 10⁶ cells of batch SB-25-010 was 8.57 mL per 10⁶ cells"
    assert measured_text("2.4e+10 particles/mL") == "2.4 × 10¹⁰ particles/mL"
