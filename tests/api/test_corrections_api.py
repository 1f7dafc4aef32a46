"""Corrections over the API: a verified result or a released batch is corrected by a new linked version with its
reason; a change to a submitted record needs a reason."""

import datetime as dt

import pytest

from batches.models import QCResult, SecretomeBatch
from batches.services.qc import qc_result_record, qc_result_verify
from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture
def verified(lab, technician, reviewer):
    f.QCSpecificationFactory(lab=lab, assay="endotoxin", max_value=0.5, warn_max=None)
    result = qc_result_record(
        lab=lab,
        actor=technician,
        data={
            "batch": f.SecretomeBatchFactory(lab=lab),
            "assay": "endotoxin",
            "method": "lal_kinetic",
            "value": 0.1,
            "unit": "EU/mL",
            "performed_on": dt.date(2025, 3, 1),
        },
    )
    return qc_result_verify(result=result, actor=reviewer, password=PASSWORD)


def _correct_qc(client, result, body):
    return client.post(f"/api/v1/qc-results/{result.pk}/correct/", body, format="json")


def test_a_technician_corrects_a_verified_result_with_a_reason(api, verified, technician):
    response = _correct_qc(api(technician), verified, {"reason": "Dilution not applied", "value": 0.8})
    assert response.status_code == 201, response.data
    body = response.data
    assert (body["corrects"], body["correction_reason"]) == (verified.pk, "Dilution not applied")
    assert (body["status"], body["value"], body["outcome"]) == ("recorded", 0.8, "fail")
    assert QCResult.objects.get(pk=verified.pk).status == "superseded"


def test_a_qc_correction_without_a_reason_answers_400_naming_it(api, verified, reviewer):
    for body in ({"value": 0.2}, {"reason": "  ", "value": 0.2}):
        response = _correct_qc(api(reviewer), verified, body)
        assert response.status_code == 400
        assert "reason" in response.data
    assert QCResult.objects.get(pk=verified.pk).status == "verified"


def test_a_qc_correction_with_a_bad_value_answers_400_naming_the_field(api, verified, technician):
    response = _correct_qc(api(technician), verified, {"reason": "typo", "value": "lots"})
    assert response.status_code == 400
    assert "value" in response.data


def test_qc_correction_roles_and_labs(api, verified, auditor, lab_admin, outsider):
    assert _correct_qc(api(auditor), verified, {"reason": "x"}).status_code == 403
    assert _correct_qc(api(lab_admin), verified, {"reason": "x"}).status_code == 403
    assert _correct_qc(api(outsider), verified, {"reason": "x"}).status_code == 404
    assert QCResult.objects.count() == 1


def test_correcting_a_result_twice_answers_409(api, verified, technician):
    assert _correct_qc(api(technician), verified, {"reason": "typo", "value": 0.2}).status_code == 201
    assert _correct_qc(api(technician), verified, {"reason": "typo", "value": 0.3}).status_code == 409


def _correct_batch(client, batch, body):
    return client.post(f"/api/v1/batches/{batch.pk}/correct/", body, format="json")


def test_a_reviewer_corrects_a_released_batch(api, lab, reviewer):
    released = f.SecretomeBatchFactory(lab=lab, code="SB-1", status="released")
    response = _correct_batch(api(reviewer), released, {"reason": "Wrong volume"})
    assert response.status_code == 201, response.data
    assert (response.data["code"], response.data["status"], response.data["corrects"]) == (
        "SB-1-C1",
        "draft",
        released.pk,
    )
    assert SecretomeBatch.objects.get(pk=released.pk).status == "retired"


def test_batch_correction_needs_a_reason_a_reviewer_and_the_lab(api, lab, technician, reviewer, outsider):
    released = f.SecretomeBatchFactory(lab=lab, status="released")
    missing = _correct_batch(api(reviewer), released, {})
    assert missing.status_code == 400 and "reason" in missing.data
    assert _correct_batch(api(technician), released, {"reason": "x"}).status_code == 403
    assert _correct_batch(api(outsider), released, {"reason": "x"}).status_code == 404
    draft = f.SecretomeBatchFactory(lab=lab)
    assert _correct_batch(api(reviewer), draft, {"reason": "x"}).status_code == 409
    assert SecretomeBatch.objects.get(pk=released.pk).status == "released"


def test_editing_a_submitted_batch_needs_a_reason(api, lab, technician):
    batch = f.SecretomeBatchFactory(lab=lab, status="submitted")
    url = f"/api/v1/batches/{batch.pk}/"
    refused = api(technician).patch(url, {"version": batch.version, "final_volume_ml": 3.0}, format="json")
    assert refused.status_code == 400
    assert "reason" in refused.data
    accepted = api(technician).patch(
        url, {"version": batch.version, "final_volume_ml": 3.0, "reason": "Re-measured"}, format="json"
    )
    assert accepted.status_code == 200, accepted.data
    assert accepted.data["final_volume_ml"] == 3.0
    assert "reason" not in accepted.data
    history = api(technician).get(url + "history/").data
    assert history[-1]["context"]["reason"] == "Re-measured"


def test_editing_a_draft_batch_needs_no_reason(api, lab, technician):
    batch = f.SecretomeBatchFactory(lab=lab)
    response = api(technician).patch(
        f"/api/v1/batches/{batch.pk}/", {"version": batch.version, "final_volume_ml": 3.0}, format="json"
    )
    assert response.status_code == 200, response.data


def test_editing_a_step_of_a_submitted_batch_needs_a_reason(api, lab, technician):
    step = f.ProcessingStepFactory(lab=lab, batch=f.SecretomeBatchFactory(lab=lab, status="submitted"))
    url = f"/api/v1/processing-steps/{step.pk}/"
    refused = api(technician).patch(url, {"version": step.version, "duration_min": 12}, format="json")
    assert refused.status_code == 400 and "reason" in refused.data
    accepted = api(technician).patch(
        url, {"version": step.version, "duration_min": 12, "reason": "Timer misread"}, format="json"
    )
    assert accepted.status_code == 200, accepted.data
