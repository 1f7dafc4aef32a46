import copy

import pytest
from django.db import transaction

from batches import models as m
from batches.checklist.inputs import load_batch_inputs, load_study_inputs
from tests import factories as f
from tests.batches.checklist.builders import complete_batch


def _kitchen_sink_batch() -> m.SecretomeBatch:
    """One batch holding the records every product type, priming kind and trigger could ask for."""
    lab = f.LabFactory(slug="kitchen-sink")
    user = f.UserFactory(username="sink-technician")
    batch = complete_batch(lab, user, product_type="EV", priming_kind="cytokine")
    donor = batch.passage.cell_line.donor
    donor.genetically_modified = True
    donor.modification_details = "hTERT lentivirus, immortalised at P2"
    donor.save()
    combined = f.PrimingConditionFactory(
        lab=lab,
        name="IFN-γ + DFO under 2 % O2",
        kind="combined",
        o2_percent=2,
        duration_h=24,
        device="hypoxia_chamber",
        washout=True,
    )
    f.PrimingAgentFactory(lab=lab, priming=combined, agent="ifn_gamma", concentration=25, concentration_unit="ng/mL")
    f.PrimingAgentFactory(
        lab=lab, priming=combined, agent="deferoxamine", concentration=100, concentration_unit="µM", exposure=24
    )
    batch.priming = combined
    batch.save()
    order = batch.processing_steps.count()
    for values in (
        {"kind": "ultrafiltration", "mwco_kda": 10, "concentration_factor": 20, "final_volume_ml": 1},
        {"kind": "sec", "details": "qEV original 70 nm"},
        {
            "kind": "lyophilisation",
            "lyoprotectant": "trehalose",
            "lyophilisation_cycle": "−40 °C 24 h, 20 °C 6 h",
            "residual_moisture_percent": 1.2,
            "reconstitution": "water",
            "reconstitution_volume_ml": 1,
        },
    ):
        order += 1
        f.ProcessingStepFactory(lab=lab, batch=batch, order=order, **values)
    for assay, method, values in (
        ("residual_bsa", "elisa", {"value": 20, "unit": "ng/mL"}),
        ("proteomics", "mass_spec", {"result_text": "detected", "raw_data": "PRIDE:PXD000001"}),
        ("ev_depletion", "nta", {"value": 95, "unit": "%"}),
    ):
        f.QCResultFactory(lab=lab, batch=batch, assay=assay, method=method, performed_by=user, **values)
    study = f.StudyFactory(lab=lab)
    f.AdministrationFactory(lab=lab, study=study, batch=batch, body_weight_g=250)
    return batch


def _kitchen_sink_study() -> m.Study:
    lab = f.LabFactory(slug="kitchen-sink-study")
    study = f.StudyFactory(
        lab=lab,
        model_induction="2 mg MIA in 50 µL, left knee, day 0",
        age_weeks_min=7,
        weight_g_min=200,
        supplier="Charles River",
        design="Four parallel groups",
        groups=[{"name": "Vehicle", "role": "vehicle"}, {"name": "CM", "role": "treatment"}],
        experimental_unit="animal",
        n_per_group=10,
        sample_size_rationale="G*Power, 80 % power",
        randomisation="Block randomisation by weight",
        blinding="Injector and assessor blinded",
        inclusion_exclusion="≥30 % drop in threshold at day 7",
        exclusions="None",
        statistics="Two-way RM ANOVA; Hedges' g with 95 % CI",
        tissue_analyses="OARSI histology",
        adverse_events="None observed",
    )
    batch = f.SecretomeBatchFactory(lab=lab)
    f.AdministrationFactory(
        lab=lab,
        study=study,
        batch=batch,
        n_doses=3,
        interval=7,
        interval_unit="days",
        day_after_induction=7,
        preventive=False,
        vehicle="saline",
        body_weight_g=230,
    )
    f.OutcomeMeasureFactory(lab=lab, study=study, is_primary=True)
    return study


def _loaded(django_db_blocker, build, load):
    with django_db_blocker.unblock(), transaction.atomic():
        subject = build()
        inputs = load([subject.pk])[subject.pk]
        transaction.set_rollback(True)
    return inputs


@pytest.fixture(scope="session")
def _sink_batch_inputs(django_db_setup, django_db_blocker):
    return _loaded(django_db_blocker, _kitchen_sink_batch, load_batch_inputs)


@pytest.fixture(scope="session")
def _sink_study_inputs(django_db_setup, django_db_blocker):
    return _loaded(django_db_blocker, _kitchen_sink_study, load_study_inputs)


@pytest.fixture
def sink_batch(_sink_batch_inputs):
    """A fresh copy of the kitchen-sink batch's loaded inputs, free to edit."""
    return copy.deepcopy(_sink_batch_inputs)


@pytest.fixture
def sink_study(_sink_study_inputs):
    return copy.deepcopy(_sink_study_inputs)
