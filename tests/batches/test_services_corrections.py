"""A verified QC result or a released batch never changes: a correction is a new version, linked, with its reason.
A change to a submitted batch (or a row of it) needs a reason. Lab records are never hard-deleted."""

import datetime as dt

import pytest
from django.contrib import admin
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction
from pghistory.models import Events

from batches.checklist.inputs import load_batch_inputs
from batches.models import (
    Administration,
    Aliquot,
    BatchEvent,
    CellLine,
    Donor,
    Passage,
    PrimingCondition,
    QCResult,
    SecretomeBatch,
    StorageLocation,
    Study,
)
from batches.services.corrections import batch_correct
from batches.services.lifecycle import batch_release_blockers
from batches.services.qc import qc_result_correct, qc_result_record, qc_result_update, qc_result_verify
from batches.services.records import RecordLocked, batch_update, processing_step_update, record_update
from lims.audit import audit_context
from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def _verified_endotoxin(lab, technician, reviewer, batch, value=0.1):
    result = qc_result_record(
        lab=lab,
        actor=technician,
        data={
            "batch": batch,
            "assay": "endotoxin",
            "method": "lal_kinetic",
            "value": value,
            "unit": "EU/mL",
            "performed_on": dt.date(2025, 3, 1),
        },
    )
    return qc_result_verify(result=result, actor=reviewer, password=PASSWORD)


def _reasons(record) -> list[str | None]:
    events = Events.objects.tracks(record).order_by("pgh_created_at", "pgh_id")
    return [(event.pgh_context or {}).get("reason") for event in events]


# --- Correcting a verified QC result --------------------------------------------------------------


def test_correcting_a_verified_result_makes_a_new_recorded_version_linked_to_the_old_one(lab, technician, reviewer):
    f.QCSpecificationFactory(lab=lab, assay="endotoxin", max_value=0.5, warn_max=None)
    verified = _verified_endotoxin(lab, technician, reviewer, f.SecretomeBatchFactory(lab=lab), value=0.1)

    correction = qc_result_correct(
        result=verified, actor=technician, data={"value": 0.9}, reason="Dilution factor was not applied"
    )

    assert (correction.status, correction.value, correction.outcome) == ("recorded", 0.9, "fail")
    assert (correction.corrects, correction.correction_reason) == (verified, "Dilution factor was not applied")
    assert (correction.batch, correction.assay, correction.method) == (verified.batch, "endotoxin", "lal_kinetic")
    old = QCResult.objects.get(pk=verified.pk)
    assert (old.status, old.value) == ("superseded", 0.1)
    assert list(old.corrections.all()) == [correction]
    assert "Dilution factor was not applied" in _reasons(old)
    assert "Dilution factor was not applied" in _reasons(correction)


@pytest.mark.parametrize("reason", ["", "   "])
def test_a_correction_without_a_reason_is_refused_naming_the_reason(lab, technician, reviewer, reason):
    verified = _verified_endotoxin(lab, technician, reviewer, f.SecretomeBatchFactory(lab=lab))
    with pytest.raises(ValidationError) as refused:
        qc_result_correct(result=verified, actor=technician, data={"value": 0.2}, reason=reason)
    assert list(refused.value.message_dict) == ["reason"]
    assert QCResult.objects.get(pk=verified.pk).status == "verified"
    assert QCResult.objects.count() == 1


def test_only_a_verified_result_is_corrected_by_a_new_version(lab, technician, reviewer):
    verified = _verified_endotoxin(lab, technician, reviewer, f.SecretomeBatchFactory(lab=lab))
    recorded = QCResult.objects.create(
        lab=lab,
        batch=verified.batch,
        assay="endotoxin",
        method="lal_kinetic",
        value=0.3,
        unit="EU/mL",
        performed_on=dt.date(2025, 3, 2),
        performed_by=technician,
    )
    with pytest.raises(RecordLocked, match="recorded"):
        qc_result_correct(result=recorded, actor=technician, data={"value": 0.2}, reason="typo")
    qc_result_correct(result=verified, actor=technician, data={"value": 0.2}, reason="typo")
    with pytest.raises(RecordLocked, match="already corrected"):
        qc_result_correct(result=verified, actor=technician, data={"value": 0.3}, reason="typo again")
    assert QCResult.objects.count() == 3


def test_the_superseded_result_is_still_not_editable_and_cannot_be_verified_again(lab, technician, reviewer):
    verified = _verified_endotoxin(lab, technician, reviewer, f.SecretomeBatchFactory(lab=lab))
    qc_result_correct(result=verified, actor=technician, data={"value": 0.2}, reason="typo")
    old = QCResult.objects.get(pk=verified.pk)
    with pytest.raises(RecordLocked):
        qc_result_update(result=old, actor=technician, data={"value": 0.3}, version=old.version)
    with pytest.raises(RecordLocked):
        qc_result_verify(result=old, actor=reviewer, password=PASSWORD)


def test_a_lab_admin_or_an_outsider_cannot_correct_a_qc_result(lab, technician, reviewer, lab_admin, outsider):
    verified = _verified_endotoxin(lab, technician, reviewer, f.SecretomeBatchFactory(lab=lab))
    for actor in (lab_admin, outsider):
        with pytest.raises(PermissionDenied):
            qc_result_correct(result=verified, actor=actor, data={"value": 0.2}, reason="typo")
    assert QCResult.objects.get(pk=verified.pk).status == "verified"


def test_a_bad_corrected_value_is_refused_and_nothing_is_written(lab, technician, reviewer):
    verified = _verified_endotoxin(lab, technician, reviewer, f.SecretomeBatchFactory(lab=lab))
    with pytest.raises(ValidationError) as refused:
        qc_result_correct(result=verified, actor=technician, data={"value": 0.2, "unit": "EU/kg"}, reason="typo")
    assert "unit" in refused.value.message_dict
    assert QCResult.objects.get(pk=verified.pk).status == "verified"
    assert QCResult.objects.count() == 1


def test_a_superseded_result_no_longer_counts_for_the_checklist_or_the_release(lab, technician, reviewer):
    batch = f.SecretomeBatchFactory(lab=lab, status="submitted")
    verified = _verified_endotoxin(lab, technician, reviewer, batch)
    assert [row["id"] for row in load_batch_inputs([batch.pk])[batch.pk].collections["qc_results"]] == [verified.pk]
    correction = qc_result_correct(result=verified, actor=technician, data={"value": 0.2}, reason="typo")

    assert [row["id"] for row in load_batch_inputs([batch.pk])[batch.pk].collections["qc_results"]] == [correction.pk]
    blockers = batch_release_blockers(batch=batch)
    assert f"QC result '{correction}' is not verified yet." in blockers
    assert "The batch has no verified QC result." in blockers
    assert not any("0.1" in blocker for blocker in blockers)


# --- Correcting a released batch ------------------------------------------------------------------


def test_correcting_a_released_batch_retires_it_and_makes_a_linked_draft(lab, reviewer):
    released = f.SecretomeBatchFactory(lab=lab, code="SB-7", status="released", final_volume_ml=4.5)

    correction = batch_correct(batch=released, actor=reviewer, reason="Volume was recorded before filtration")

    assert (correction.code, correction.status, correction.final_volume_ml) == ("SB-7-C1", "draft", 4.5)
    assert (correction.passage, correction.product_type) == (released.passage, released.product_type)
    assert (correction.corrects, correction.correction_reason) == (released, "Volume was recorded before filtration")
    old = SecretomeBatch.objects.get(pk=released.pk)
    assert old.status == "retired"
    assert BatchEvent.objects.filter(batch=old, kind="corrected", data__corrected_by="SB-7-C1").exists()
    assert "Volume was recorded before filtration" in _reasons(old)
    assert batch_correct(batch=released, actor=reviewer, reason="again") == correction
    assert SecretomeBatch.objects.filter(corrects=released).count() == 1


def test_only_a_released_batch_is_corrected_with_a_reason_by_a_reviewer(lab, technician, reviewer):
    draft = f.SecretomeBatchFactory(lab=lab)
    released = f.SecretomeBatchFactory(lab=lab, status="released")
    with pytest.raises(RecordLocked, match="draft"):
        batch_correct(batch=draft, actor=reviewer, reason="typo")
    with pytest.raises(ValidationError) as refused:
        batch_correct(batch=released, actor=reviewer, reason=" ")
    assert list(refused.value.message_dict) == ["reason"]
    with pytest.raises(PermissionDenied):
        batch_correct(batch=released, actor=technician, reason="typo")
    assert SecretomeBatch.objects.get(pk=released.pk).status == "released"
    assert SecretomeBatch.objects.count() == 2


def test_a_second_correction_takes_the_next_code(lab, reviewer):
    first = f.SecretomeBatchFactory(lab=lab, code="SB-9", status="released")
    f.SecretomeBatchFactory(lab=lab, code="SB-9-C1")
    assert batch_correct(batch=first, actor=reviewer, reason="typo").code == "SB-9-C2"


# --- A reason for every change to a submitted record -----------------------------------------------


def test_changing_a_submitted_batch_needs_a_reason_which_is_audited(lab, technician):
    batch = f.SecretomeBatchFactory(lab=lab, status="submitted")
    with pytest.raises(ValidationError) as refused:
        batch_update(batch=batch, actor=technician, data={"final_volume_ml": 3.0}, version=batch.version)
    assert list(refused.value.message_dict) == ["reason"]
    assert SecretomeBatch.objects.get(pk=batch.pk).final_volume_ml != 3.0

    changed = record_update(
        instance=batch, actor=technician, data={"final_volume_ml": 3.0}, version=batch.version, reason="Re-measured"
    )
    assert changed.final_volume_ml == 3.0
    assert _reasons(changed)[-1] == "Re-measured"


def test_a_draft_batch_changes_without_a_reason(lab, technician):
    batch = f.SecretomeBatchFactory(lab=lab)
    assert batch_update(batch=batch, actor=technician, data={"final_volume_ml": 3.0}, version=batch.version)


def test_the_rows_of_a_submitted_batch_need_a_reason_too(lab, technician):
    batch = f.SecretomeBatchFactory(lab=lab, status="submitted")
    step = f.ProcessingStepFactory(lab=lab, batch=batch, order=1)
    with pytest.raises(ValidationError) as refused:
        processing_step_update(step=step, actor=technician, data={"duration_min": 12.0}, version=step.version)
    assert list(refused.value.message_dict) == ["reason"]
    result = QCResult.objects.create(
        lab=lab,
        batch=batch,
        assay="endotoxin",
        method="lal_kinetic",
        value=0.3,
        unit="EU/mL",
        performed_on=dt.date(2025, 3, 2),
        performed_by=technician,
    )
    with pytest.raises(ValidationError) as refused:
        qc_result_update(result=result, actor=technician, data={"value": 0.2}, version=result.version)
    assert list(refused.value.message_dict) == ["reason"]
    assert QCResult.objects.get(pk=result.pk).value == 0.3


def test_an_aliquot_of_a_submitted_batch_needs_a_reason(lab, technician):
    batch = f.SecretomeBatchFactory(lab=lab, status="submitted")
    aliquot = f.AliquotFactory(lab=lab, batch=batch, volume_ul=100)
    with pytest.raises(ValidationError) as refused:
        record_update(instance=aliquot, actor=technician, data={"volume_ul": 90}, version=aliquot.version)
    assert list(refused.value.message_dict) == ["reason"]
    # The reason is an argument of the write path: an enclosing audit context does not stand in for it.
    with audit_context(actor=technician, reason="Spilled 10 µL"), pytest.raises(ValidationError):
        record_update(instance=aliquot, actor=technician, data={"volume_ul": 90}, version=aliquot.version)
    changed = record_update(
        instance=aliquot, actor=technician, data={"volume_ul": 90}, version=aliquot.version, reason="Spilled 10 µL"
    )
    assert changed.volume_ul == 90
    assert _reasons(changed)[-1] == "Spilled 10 µL"


# --- Never hard-deleted -----------------------------------------------------------------------------


def test_a_batch_cannot_be_deleted_even_in_sql(lab):
    batch = f.SecretomeBatchFactory(lab=lab)
    with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("DELETE FROM batches_secretomebatch WHERE id = %s", [batch.pk])
    assert SecretomeBatch.objects.filter(pk=batch.pk).exists()


@pytest.mark.parametrize(
    "model", [Donor, CellLine, Passage, PrimingCondition, SecretomeBatch, QCResult, Aliquot, Study, Administration]
)
def test_the_admin_offers_no_delete_for_lab_records(rf, admin_user, model):
    request = rf.get("/")
    request.user = admin_user
    model_admin = admin.site._registry[model]
    assert not model_admin.has_delete_permission(request)
    assert "delete_selected" not in model_admin.get_actions(request)


def test_the_admin_deletes_nothing_at_all(rf, admin_user):
    # The admin is read-only for lab records; storage locations are changed in the app.
    request = rf.get("/")
    request.user = admin_user
    assert not admin.site._registry[StorageLocation].has_delete_permission(request)


def test_the_admin_delete_page_of_a_batch_is_refused_not_a_500(client, admin_user, lab):
    batch = f.SecretomeBatchFactory(lab=lab)
    client.force_login(admin_user)
    response = client.post(f"/admin/batches/secretomebatch/{batch.pk}/delete/", {"post": "yes"})
    assert response.status_code == 403
    assert SecretomeBatch.objects.filter(pk=batch.pk).exists()
