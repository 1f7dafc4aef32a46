"""Writing records: one audited transaction, optimistic locking, every problem named by its field."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from batches.models import BatchEvent, Donor, PrimingAgent, SecretomeBatch
from batches.services.records import (
    RecordLocked,
    StaleVersion,
    batch_create,
    batch_update,
    explain_constraint,
    priming_create,
    priming_update,
    processing_step_create,
    record_create,
    record_update,
    validate_record,
)
from tests import factories as f

pytestmark = pytest.mark.django_db


def _history(model, instance):
    return list(
        model.history.rel.related_model.objects.filter(pgh_obj_id=instance.pk)
        .order_by("pgh_id")
        .values_list("pgh_label", "pgh_context__metadata")
    )


def test_it_creates_a_record_with_its_creator_and_an_audited_insert(technician, lab):
    donor = record_create(
        model=Donor,
        lab=lab,
        actor=technician,
        data={"code": "D-900", "species": "human", "tissue_source": "dental_pulp"},
    )
    assert donor.created_by == technician
    assert donor.version == 1
    [(label, context)] = _history(Donor, donor)
    assert label == "insert"
    assert context["user"] == technician.pk


def test_it_refuses_a_writer_without_a_writing_role(auditor, lab):
    with pytest.raises(PermissionDenied):
        record_create(
            model=Donor, lab=lab, actor=auditor, data={"code": "D-1", "species": "human", "tissue_source": "adipose"}
        )
    assert not Donor.objects.exists()


def test_it_names_every_broken_rule_by_its_field_at_once(technician, lab):
    with pytest.raises(ValidationError) as refused:
        record_create(
            model=Donor,
            lab=lab,
            actor=technician,
            data={
                "code": "D-2",
                "species": "human",
                "tissue_source": "adipose",
                "age_years": 130,
                "pooled": True,
                "n_donors": 1,
            },
        )
    errors = refused.value.message_dict
    assert errors["age_years"] == ["Must be between 0 and 120."]
    assert "n_donors" in errors
    assert not Donor.objects.filter(code="D-2").exists()


def test_it_names_a_duplicate_code_in_the_lab(technician, lab):
    f.DonorFactory(lab=lab, code="D-3")
    with pytest.raises(ValidationError) as refused:
        record_create(
            model=Donor, lab=lab, actor=technician, data={"code": "D-3", "species": "rat", "tissue_source": "adipose"}
        )
    assert refused.value.message_dict == {"code": ["This code is already used in the lab."]}


def test_the_same_code_is_free_in_another_lab(technician, lab, other_lab):
    f.DonorFactory(lab=other_lab, code="D-4")
    donor = record_create(
        model=Donor, lab=lab, actor=technician, data={"code": "D-4", "species": "rat", "tissue_source": "adipose"}
    )
    assert donor.lab == lab


def test_an_update_from_the_current_version_changes_the_row_and_bumps_the_version(technician, lab):
    donor = f.DonorFactory(lab=lab)
    changed = record_update(instance=donor, actor=technician, data={"anatomical_site": "femoral head"}, version=1)
    assert changed.version == 2
    assert Donor.objects.get(pk=donor.pk).anatomical_site == "femoral head"
    assert [label for label, _ in _history(Donor, donor)] == ["insert", "update"]


def test_an_update_from_a_stale_version_writes_nothing_and_says_the_current_version(technician, lab):
    donor = f.DonorFactory(lab=lab, anatomical_site="iliac crest")
    record_update(instance=donor, actor=technician, data={"lot": "L1"}, version=1)
    with pytest.raises(StaleVersion) as stale:
        record_update(instance=donor, actor=technician, data={"anatomical_site": "sternum"}, version=1)
    assert stale.value.current_version == 2
    fresh = Donor.objects.get(pk=donor.pk)
    assert (fresh.anatomical_site, fresh.version) == ("iliac crest", 2)


def test_an_update_that_changes_nothing_writes_nothing(technician, lab):
    donor = f.DonorFactory(lab=lab, anatomical_site="iliac crest")
    same = record_update(instance=donor, actor=technician, data={"anatomical_site": "iliac crest"}, version=1)
    assert same.version == 1
    assert [label for label, _ in _history(Donor, donor)] == ["insert"]


def test_a_released_batch_cannot_be_edited(technician, lab):
    batch = f.SecretomeBatchFactory(lab=lab, status="released")
    with pytest.raises(RecordLocked) as locked:
        batch_update(batch=batch, actor=technician, data={"final_volume_ml": 3.0}, version=batch.version)
    assert "released" in locked.value.message
    assert SecretomeBatch.objects.get(pk=batch.pk).final_volume_ml == 18


def test_no_processing_step_is_added_to_a_retired_batch(technician, lab):
    batch = f.SecretomeBatchFactory(lab=lab, status="retired")
    with pytest.raises(RecordLocked):
        processing_step_create(lab=lab, actor=technician, data={"batch": batch, "order": 1, "kind": "filtration"})


def test_creating_a_batch_logs_the_event_and_makes_the_actor_its_operator(technician, lab):
    passage = f.PassageFactory(lab=lab)
    batch = batch_create(
        lab=lab,
        actor=technician,
        data={"code": "SB-77", "passage": passage, "product_type": "CM", "intended_use": "in_vitro"},
    )
    assert batch.operator == technician
    assert list(BatchEvent.objects.filter(batch=batch).values_list("kind", flat=True)) == ["created"]


def test_a_serum_free_batch_with_serum_is_refused_naming_serum_percent(technician, lab):
    passage = f.PassageFactory(lab=lab)
    with pytest.raises(ValidationError) as refused:
        batch_create(
            lab=lab,
            actor=technician,
            data={
                "code": "SB-78",
                "passage": passage,
                "product_type": "CM",
                "intended_use": "in_vitro",
                "serum_free": True,
                "serum_percent": 10.0,
            },
        )
    assert list(refused.value.message_dict) == ["serum_percent"]
    assert not SecretomeBatch.objects.filter(code="SB-78").exists()


def test_a_batch_cannot_be_its_own_mock_control(technician, lab):
    batch = f.SecretomeBatchFactory(lab=lab)
    with pytest.raises(ValidationError) as refused:
        batch_update(batch=batch, actor=technician, data={"mock_control": batch}, version=batch.version)
    assert "mock_control" in refused.value.message_dict


def test_a_priming_is_created_with_its_agents_in_one_transaction(technician, lab):
    priming = priming_create(
        lab=lab,
        actor=technician,
        data={"name": "DFO 150 µM 24 h", "kind": "hypoxia_mimetic", "duration_h": 24.0},
        agents=[{"agent": "deferoxamine", "concentration": 150.0, "concentration_unit": "µM"}],
    )
    assert list(priming.agents.values_list("agent", "created_by")) == [("deferoxamine", technician.pk)]


def test_a_bad_agent_rolls_back_the_whole_priming(technician, lab):
    with pytest.raises(ValidationError) as refused:
        priming_create(
            lab=lab,
            actor=technician,
            data={"name": "DFO wrong unit", "kind": "hypoxia_mimetic"},
            agents=[{"agent": "deferoxamine", "concentration": 150.0, "concentration_unit": "ng/mL"}],
        )
    assert refused.value.message_dict == {"agents.0.concentration_unit": ["Deferoxamine is dosed in µM or mM."]}
    assert not PrimingAgent.objects.exists()


def test_updating_a_priming_with_agents_replaces_the_list(technician, lab):
    priming = f.PrimingConditionFactory(lab=lab, kind="cytokine")
    f.PrimingAgentFactory(lab=lab, priming=priming, agent="ifn_gamma")
    f.PrimingAgentFactory(lab=lab, priming=priming, agent="tnf_alpha", concentration=10)
    priming_update(
        priming=priming,
        actor=technician,
        data={},
        version=priming.version,
        agents=[{"agent": "ifn_gamma", "concentration": 50.0, "concentration_unit": "ng/mL"}],
    )
    assert list(priming.agents.values_list("agent", "concentration")) == [("ifn_gamma", 50.0)]


def test_an_agent_listed_twice_is_refused(technician, lab):
    agent = {"agent": "il_1beta", "concentration": 10.0, "concentration_unit": "ng/mL"}
    with pytest.raises(ValidationError) as refused:
        priming_create(lab=lab, actor=technician, data={"name": "IL-1β", "kind": "cytokine"}, agents=[agent, agent])
    assert refused.value.message_dict == {"agents.1.agent": ["Listed more than once."]}


def test_every_constraint_of_every_lab_record_is_explained_by_a_field():
    from django.apps import apps

    from lims.models import LabOwnedModel

    for model in apps.get_models():
        if not issubclass(model, LabOwnedModel):
            continue
        fields = {field.name for field in model._meta.concrete_fields} | {"non_field_errors", "__all__"}
        for constraint in model._meta.constraints:
            explained = explain_constraint(model, constraint.name)
            assert explained is not None, constraint.name
            assert explained[0] in fields, (constraint.name, explained)


def test_validation_checks_the_unsaved_row_without_writing(technician, lab):
    donor = Donor(lab=lab, code="D-5", species="human", tissue_source="adipose", age_years=-3)
    with pytest.raises(ValidationError) as refused:
        validate_record(donor)
    assert refused.value.message_dict == {"age_years": ["Must be between 0 and 120."]}
    assert not Donor.objects.exists()
