"""The shipments API: lab-scoped, errors as {field: [message]}, another lab's ids answer 404."""

import pytest

from batches.models import Aliquot, ReceivedAliquot
from batches.services.lifecycle import batch_retire
from tests import factories as f
from tests.shipments.conftest import PASSWORD

pytestmark = pytest.mark.django_db

API = "/api/v1"


@pytest.fixture
def api():
    from rest_framework.test import APIClient

    def client_for(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


def _create(api, technician, receiving_lab, aliquots, **extra):
    return api(technician).post(
        f"{API}/shipments/",
        {"receiver": receiving_lab.pk, "aliquots": [a.pk for a in aliquots], "shipping_condition": "dry_ice", **extra},
        format="json",
    )


def _dispatched(api, technician, reviewer, receiving_lab, aliquots) -> dict:
    created = _create(api, technician, receiving_lab, aliquots)
    assert created.status_code == 201, created.json()
    response = api(reviewer).post(
        f"{API}/shipments/{created.json()['id']}/dispatch/", {"password": PASSWORD}, format="json"
    )
    assert response.status_code == 200, response.json()
    return response.json()


def _receive(api, user, shipment: dict):
    items = [{"item": item["id"], "accepted": True} for item in shipment["items"]]
    return api(user).post(
        f"{API}/shipments/{shipment['id']}/receive/",
        {"condition_on_arrival": "intact", "logger_temperature_c": -75, "items": items},
        format="json",
    )


def test_a_lab_admin_declares_a_partner_lab_and_a_technician_may_not(api, lab_admin, technician, receiving_lab):
    body = {"partner": receiving_lab.pk, "sends_to": True, "receives_from": False}
    assert api(technician).post(f"{API}/partner-labs/", body, format="json").status_code == 403
    response = api(lab_admin).post(f"{API}/partner-labs/", body, format="json")
    assert response.status_code == 201, response.json()
    assert response.json()["partner_name"] == "Pain Pharmacology Lab"


def test_a_shipment_to_a_lab_that_is_not_a_partner_is_a_field_error(api, technician, receiving_lab, shipped_aliquots):
    response = _create(api, technician, receiving_lab, shipped_aliquots)
    assert response.status_code == 400 and list(response.json()) == ["receiver"]


def test_a_consumed_aliquot_is_a_field_error(partners, api, technician, receiving_lab, shipped_aliquots):
    Aliquot.objects.filter(pk=shipped_aliquots[0].pk).update(status="consumed")
    response = _create(api, technician, receiving_lab, shipped_aliquots)
    assert response.status_code == 400
    assert response.json() == {
        "aliquots": [f"Aliquot {shipped_aliquots[0].code} is consumed; only an available aliquot can be shipped."]
    }


def test_dispatch_with_a_wrong_password_is_a_field_error(
    partners, api, technician, reviewer, receiving_lab, shipped_aliquots
):
    created = _create(api, technician, receiving_lab, shipped_aliquots).json()
    response = api(reviewer).post(f"{API}/shipments/{created['id']}/dispatch/", {"password": "nope"}, format="json")
    assert response.status_code == 400 and list(response.json()) == ["password"]
    assert "not correct" in response.json()["password"][0]
    assert (
        api(technician)
        .post(f"{API}/shipments/{created['id']}/dispatch/", {"password": PASSWORD}, format="json")
        .status_code
        == 403
    )


def test_the_receiver_sees_a_shipment_only_once_dispatched_and_receives_it_once(
    partners, api, technician, reviewer, receiving_lab, receiver_tech, shipped_aliquots
):
    created = _create(api, technician, receiving_lab, shipped_aliquots).json()
    assert "id" in created, created
    assert api(receiver_tech).get(f"{API}/shipments/{created['id']}/").status_code == 404
    dispatched = api(reviewer).post(f"{API}/shipments/{created['id']}/dispatch/", {"password": PASSWORD}, format="json")
    assert dispatched.status_code == 200, dispatched.json()
    shipment = dispatched.json()
    seen = api(receiver_tech).get(f"{API}/shipments/{shipment['id']}/").json()
    assert seen["lab_name"] == "Pain Lab" and [i["aliquot_code"] for i in seen["items"]] == [
        a.code for a in shipped_aliquots
    ]
    assert "aliquot" not in seen["items"][0]
    first = _receive(api, receiver_tech, shipment)
    assert first.status_code == 201, first.json()
    second = _receive(api, receiver_tech, shipment)
    assert second.status_code == 400 and "was already received" in second.json()["shipment"][0]
    assert ReceivedAliquot.objects.count() == len(shipped_aliquots)


def test_the_producer_cannot_receive_its_own_shipment(
    partners, api, technician, reviewer, receiving_lab, shipped_aliquots
):
    shipment = _dispatched(api, technician, reviewer, receiving_lab, shipped_aliquots)
    assert _receive(api, technician, shipment).status_code == 404


def test_a_receiving_lab_reads_the_snapshots_but_never_the_producers_records(
    partners, api, technician, reviewer, receiving_lab, receiver_tech, shipped_aliquots
):
    shipment = _dispatched(api, technician, reviewer, receiving_lab, shipped_aliquots)
    _receive(api, receiver_tech, shipment)
    batch = shipped_aliquots[0].batch
    client = api(receiver_tech)
    snapshots = client.get(f"{API}/provenance-snapshots/").json()["results"]
    assert [s["batch_code"] for s in snapshots] == [batch.code] and snapshots[0]["producer"] == "Pain Lab"
    for path in (
        f"batches/{batch.pk}/",
        f"batches/{batch.pk}/trace/",
        f"batches/{batch.pk}/impact/",
        f"batches/{batch.pk}/methods/",
        f"aliquots/{shipped_aliquots[0].pk}/",
        f"cell-lines/{batch.passage.cell_line_id}/",
        f"donors/{batch.passage.cell_line.donor_id}/",
        f"qc-results/{f.QCResultFactory(lab=batch.lab, batch=batch).pk}/",
    ):
        assert client.get(f"{API}/{path}").status_code == 404, path
    for resource in ("batches", "aliquots", "donors", "cell-lines", "qc-results"):
        assert client.get(f"{API}/{resource}/").json()["results"] == [], resource


def test_an_outsider_sees_no_shipment_snapshot_or_notice(
    partners, api, technician, reviewer, receiving_lab, outsider, shipped_aliquots
):
    shipment = _dispatched(api, technician, reviewer, receiving_lab, shipped_aliquots)
    client = api(outsider)
    assert client.get(f"{API}/shipments/{shipment['id']}/").status_code == 404
    assert client.get(f"{API}/provenance-snapshots/").json()["results"] == []
    assert client.get(f"{API}/impact-notices/").json()["results"] == []
    assert _receive(api, outsider, shipment).status_code == 404


def test_the_impact_report_lists_the_partners_study_and_the_partner_acknowledges_the_notice(
    partners, api, technician, reviewer, receiving_lab, receiver_tech, shipped_aliquots
):
    shipment = _dispatched(api, technician, reviewer, receiving_lab, shipped_aliquots)
    _receive(api, receiver_tech, shipment)
    study = f.StudyFactory(lab=receiving_lab, title="Rx study", groups=[{"name": "CM"}])
    received = ReceivedAliquot.objects.order_by("code").first()
    body = {"study": study.pk, "group": "CM", "dose_value": 5, "dose_unit": "ug_protein",
            "route": "intra_articular", "volume_ul": 20}  # fmt: skip
    response = api(receiver_tech).post(f"{API}/received-aliquots/{received.pk}/administer/", body, format="json")
    assert response.status_code == 201, response.json()
    origin = api(receiver_tech).get(f"{API}/administrations/{response.json()['administration']}/origin/").json()
    assert origin["producer"] == "Pain Lab" and origin["shipment"] == shipment["code"]
    batch = shipped_aliquots[0].batch
    batch_retire(batch=batch, actor=reviewer, reason="Late endotoxin failure")

    impact = api(reviewer).get(f"{API}/batches/{batch.pk}/impact/").json()
    assert impact["receiving_labs"] == ["Pain Pharmacology Lab"]
    assert impact["studies"] == [
        {"lab": "Pain Pharmacology Lab", "study_id": study.pk, "study": "Rx study", "groups": ["CM"],
         "administrations": 1, "aliquots": [received.code]}
    ]  # fmt: skip
    notices = api(receiver_tech).get(f"{API}/impact-notices/").json()["results"]
    assert [n["kind"] for n in notices] == ["retired"]
    acknowledged = api(receiver_tech).post(f"{API}/impact-notices/{notices[0]['id']}/acknowledge/")
    assert acknowledged.status_code == 200 and acknowledged.json()["acknowledged_at"]
    assert api(technician).post(f"{API}/impact-notices/{notices[0]['id']}/acknowledge/").status_code == 404


def test_the_schema_documents_the_shipment_endpoints(api, technician):
    paths = api(technician).get("/api/schema/", HTTP_ACCEPT="application/json").json()["paths"]
    for path in (
        "/api/v1/shipments/",
        "/api/v1/shipments/{id}/dispatch/",
        "/api/v1/shipments/{id}/receive/",
        "/api/v1/shipments/{id}/refuse/",
        "/api/v1/batches/{id}/trace/",
        "/api/v1/batches/{id}/impact/",
        "/api/v1/partner-labs/",
        "/api/v1/provenance-snapshots/",
        "/api/v1/impact-notices/{id}/acknowledge/",
    ):
        assert path in paths, path


def test_a_received_aliquots_custody_continues_from_the_producers_storage_through_the_shipment(
    partners, api, technician, reviewer, receiving_lab, receiver_tech, shipped_aliquots
):
    from batches.shipments.services import received_aliquot_thaw

    shipment = _dispatched(api, technician, reviewer, receiving_lab, shipped_aliquots)
    _receive(api, receiver_tech, shipment)
    received = ReceivedAliquot.objects.order_by("code").first()
    received_aliquot_thaw(aliquot=received, actor=receiver_tech)
    timeline = api(receiver_tech).get(f"{API}/received-aliquots/{received.pk}/custody/").json()
    assert [(row["lab"], row["event"]) for row in timeline] == [
        ("Pain Lab", "stored"),
        ("Pain Lab", "dispatched"),
        ("Pain Pharmacology Lab", "received"),
        ("Pain Pharmacology Lab", "thawed"),
    ]
    assert "-80.0 °C" in timeline[0]["detail"] and "-75.0 °C" in timeline[2]["detail"]
    assert api(technician).get(f"{API}/received-aliquots/{received.pk}/custody/").status_code == 404


def test_a_box_of_the_producer_is_not_a_box_the_receiver_can_name(
    partners, api, lab, technician, reviewer, receiving_lab, receiver_tech, shipped_aliquots
):
    shipment = _dispatched(api, technician, reviewer, receiving_lab, shipped_aliquots)
    producer_box = f.StorageLocationFactory(lab=lab)
    items = [{"item": item["id"], "accepted": True, "location": producer_box.pk} for item in shipment["items"]]
    response = api(receiver_tech).post(
        f"{API}/shipments/{shipment['id']}/receive/", {"condition_on_arrival": "intact", "items": items}, format="json"
    )
    assert response.status_code == 400
    assert response.json()["items.0.location"] == [f"No record with id {producer_box.pk} in your labs."]
