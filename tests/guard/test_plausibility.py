"""Implausible values come back on their field, from the API (400) and from the web forms — nothing is written."""

import pytest
from rest_framework.test import APIClient

from batches import models as m
from tests import factories as f

pytestmark = pytest.mark.django_db

NOTES = "x" * 10_000
ALIQUOT = {
    "code": "AL-Z99",
    "volume_ul": 100,
    "container": "cryovial",
    "buffer": "as_collected",
    "state": "frozen",
    "temperature_c": -80,
    "freeze_thaw_count": 0,
}


@pytest.fixture
def api(technician):
    client = APIClient()
    client.force_authenticate(technician)
    return client


@pytest.fixture
def web(client, technician):
    client.force_login(technician)
    return client


@pytest.fixture
def batch(lab):
    return f.SecretomeBatchFactory(lab=lab)  # its passage was seeded on 2025-02-01


@pytest.fixture
def box(lab):
    return f.StorageLocationFactory(lab=lab, name="Box 1", kind="box", rows=9, columns=9)


def _implausible_qc(batch) -> dict:
    return {
        "batch": batch.pk,
        "assay": "endotoxin",
        "sample": "product",
        "method": "nta",
        "value": -0.1,
        "unit": "EU/mL",
        "result_text": "positive",
        "performed_on": "2025-03-01",
    }


# --- API ------------------------------------------------------------------------------------------


def test_api_refuses_a_negative_endotoxin_by_nta_with_a_positive_text_on_each_field(api, batch):
    response = api.post("/api/v1/qc-results/", _implausible_qc(batch), format="json")
    assert response.status_code == 400, response.data
    assert {"value", "method", "result_text"} <= set(response.data)
    assert "at least 0" in str(response.data["value"])
    assert not m.QCResult.objects.exists()


def test_api_refuses_a_batch_collected_before_its_passage_was_seeded(api, batch):
    response = api.patch(
        f"/api/v1/batches/{batch.pk}/",
        {"collected_at": "2025-01-15T10:00:00Z", "version": batch.version},
        format="json",
    )
    assert response.status_code == 400, response.data
    assert "before its producing passage was seeded" in str(response.data["collected_at"])


def test_api_refuses_an_aliquot_outside_its_box(api, batch, box):
    payload = {"batch": batch.pk, **ALIQUOT, "location": box.pk, "position": "Z99"}
    response = api.post("/api/v1/aliquots/", payload, format="json")
    assert response.status_code == 400, response.data
    assert "A1 to I9" in str(response.data.get("position")), response.data


def test_api_refuses_a_code_a_label_cannot_print(api):
    payload = {"code": "D-🧪-1", "species": "human", "tissue_source": "bone_marrow"}
    response = api.post("/api/v1/donors/", payload, format="json")
    assert response.status_code == 400, response.data
    assert "letters, digits" in str(response.data.get("code")), response.data


def test_api_refuses_ten_thousand_character_notes(api, batch):
    payload = {"batch": batch.pk, "order": 1, "kind": "centrifugation", "details": NOTES}
    response = api.post("/api/v1/processing-steps/", payload, format="json")
    assert response.status_code == 400, response.data
    assert "At most 4000 characters" in str(response.data["details"])


@pytest.mark.parametrize("value", [-1e308, 1e308])
def test_api_refuses_extreme_numbers(api, batch, value):
    payload = {**_implausible_qc(batch), "method": "lal_kinetic", "result_text": "", "value": value}
    response = api.post("/api/v1/qc-results/", payload, format="json")
    assert response.status_code == 400, response.data
    assert "value" in response.data


def test_api_still_accepts_a_plausible_result(api, batch):
    payload = {**_implausible_qc(batch), "method": "lal_kinetic", "result_text": "", "value": 0.1}
    assert api.post("/api/v1/qc-results/", payload, format="json").status_code == 201


# --- Web ------------------------------------------------------------------------------------------


def _form_errors(response) -> dict:
    assert response.status_code == 200, "the form comes back instead of a redirect"
    return response.context["form"].errors


def test_web_form_refuses_a_negative_endotoxin_by_nta_with_a_positive_text(web, batch):
    data = {key: value for key, value in _implausible_qc(batch).items() if key != "batch"}
    errors = _form_errors(web.post(f"/batches/{batch.pk}/log/qc/", data))
    assert {"value", "method", "result_text"} <= set(errors)
    assert not m.QCResult.objects.exists()


def test_web_form_refuses_a_batch_collected_before_its_passage_was_seeded(web, batch):
    data = {
        "_version": batch.version,
        "collected_at": "2025-01-15 10:00",
        "conditioning_volume_ml": "20",
        "conditioning_time_h": "48",
    }
    errors = _form_errors(web.post(f"/batches/{batch.pk}/log/production/", data))
    assert "before its producing passage was seeded" in str(errors["collected_at"])


def test_web_form_refuses_an_aliquot_outside_its_box(web, batch, box):
    data = {**ALIQUOT, "location": box.pk, "positions": "Z99"}
    errors = _form_errors(web.post(f"/batches/{batch.pk}/log/aliquots/", data))
    assert "A1 to I9" in str(errors.get("positions")), errors
    assert not m.Aliquot.objects.exists()


def test_web_form_refuses_a_code_a_label_cannot_print(web):
    data = {
        "code": "D-🧪-1",
        "species": "human",
        "tissue_source": "bone_marrow",
        "sex": "female",
        "health_status": "healthy",
        "n_donors": "1",
    }
    errors = _form_errors(web.post("/records/donors/new/", data))
    assert "letters, digits" in str(errors.get("code")), errors


def test_web_form_refuses_ten_thousand_character_notes(web, batch):
    data = {"order": "1", "kind": "centrifugation", "details": NOTES}
    errors = _form_errors(web.post(f"/batches/{batch.pk}/log/processing/", data))
    assert "At most 4000 characters" in str(errors["details"])
