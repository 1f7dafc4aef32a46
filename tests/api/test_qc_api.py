"""QC over the API: the outcome is computed, verification is a signature by another reviewer."""

import pytest

from batches.models import QCResult
from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def _record(client, batch, value):
    payload = {
        "batch": batch.pk,
        "assay": "endotoxin",
        "method": "lal_kinetic",
        "value": value,
        "unit": "EU/mL",
        "performed_on": "2025-03-01",
    }
    return client.post("/api/v1/qc-results/", payload, format="json")


def test_recording_a_result_computes_its_outcome(api, lab, technician):
    f.QCSpecificationFactory(lab=lab, assay="endotoxin", max_value=0.5, warn_max=0.25)
    response = _record(api(technician), f.SecretomeBatchFactory(lab=lab), 0.9)
    assert response.status_code == 201, response.data
    assert (response.data["outcome"], response.data["status"], response.data["performed_by"]) == (
        "fail",
        "recorded",
        technician.pk,
    )
    assert response.data["specification"] is not None


def test_the_outcome_cannot_be_written_by_the_client(api, lab, technician):
    f.QCSpecificationFactory(lab=lab, assay="endotoxin", max_value=0.5, warn_max=0.25)
    client = api(technician)
    payload = {
        "batch": f.SecretomeBatchFactory(lab=lab).pk,
        "assay": "endotoxin",
        "method": "lal_kinetic",
        "value": 0.9,
        "unit": "EU/mL",
        "performed_on": "2025-03-01",
        "outcome": "pass",
        "status": "verified",
    }
    response = client.post("/api/v1/qc-results/", payload, format="json")
    assert (response.data["outcome"], response.data["status"]) == ("fail", "recorded")


def test_a_reviewer_verifies_another_persons_result_with_a_password(api, lab, technician, reviewer):
    result = _record(api(technician), f.SecretomeBatchFactory(lab=lab), 0.1).data
    url = f"/api/v1/qc-results/{result['id']}/verify/"
    assert api(technician).post(url, {"password": PASSWORD}, format="json").status_code == 403
    wrong = api(reviewer).post(url, {"password": "guess"}, format="json")
    assert wrong.status_code == 400
    assert "password" in wrong.data
    response = api(reviewer).post(url, {"password": PASSWORD}, format="json")
    assert response.status_code == 200, response.data
    assert (response.data["status"], response.data["verified_by"]) == ("verified", reviewer.pk)


def test_a_reviewer_cannot_verify_their_own_result(api, lab, reviewer):
    result = _record(api(reviewer), f.SecretomeBatchFactory(lab=lab), 0.1).data
    response = api(reviewer).post(f"/api/v1/qc-results/{result['id']}/verify/", {"password": PASSWORD}, format="json")
    assert response.status_code == 403
    assert QCResult.objects.get(pk=result["id"]).status == "recorded"


def test_a_verified_result_cannot_be_corrected(api, lab, technician, reviewer):
    result = _record(api(technician), f.SecretomeBatchFactory(lab=lab), 0.1).data
    verified = api(reviewer).post(f"/api/v1/qc-results/{result['id']}/verify/", {"password": PASSWORD}, format="json")
    response = api(technician).patch(
        f"/api/v1/qc-results/{result['id']}/", {"value": 0.2, "version": verified.data["version"]}, format="json"
    )
    assert response.status_code == 409


def test_a_reviewer_rejects_a_result_with_a_reason(api, lab, technician, reviewer):
    result = _record(api(technician), f.SecretomeBatchFactory(lab=lab), 0.1).data
    url = f"/api/v1/qc-results/{result['id']}/reject/"
    assert api(reviewer).post(url, {}, format="json").status_code == 400
    response = api(reviewer).post(url, {"reason": "Wrong dilution", "password": PASSWORD}, format="json")
    assert response.data["status"] == "rejected"


def test_qc_results_filter_by_out_of_spec_and_outcome(api, lab, technician):
    f.QCSpecificationFactory(lab=lab, assay="endotoxin", max_value=0.5, warn_max=0.25)
    batch = f.SecretomeBatchFactory(lab=lab)
    failed = _record(api(technician), batch, 0.9).data
    passed = _record(api(technician), batch, 0.1).data
    client = api(technician)
    assert [r["id"] for r in client.get("/api/v1/qc-results/", {"out_of_spec": "true"}).data["results"]] == [
        failed["id"]
    ]
    assert [r["id"] for r in client.get("/api/v1/qc-results/", {"outcome": "pass"}).data["results"]] == [passed["id"]]
