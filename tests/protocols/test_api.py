"""The SOP endpoints: publish, read-only once effective, pins, deviations, diffs and who used a version."""

import pytest
from rest_framework.test import APIClient

from protocols.models import Deviation, ProtocolVersion
from protocols.services import deviation_sync, protocol_version_create_draft
from tests import factories as f

pytestmark = pytest.mark.django_db

VERSIONS = "/api/v1/protocol-versions/"
SIGNING_PASSWORD = "correct-horse-battery"  # every tests.factories.UserFactory user's password


@pytest.fixture
def api():
    def client_for(user=None) -> APIClient:
        client = APIClient()
        if user is not None:
            client.force_authenticate(user)
        return client

    return client_for


@pytest.fixture
def protocol(lab):
    return f.ProtocolFactory(lab=lab, code="SOP-UF-001", title="Ultrafiltration", category="processing")


def _draft_payload(protocol) -> dict:
    return {
        "protocol": protocol.pk,
        "body": "Concentrate 10× on a 3 kDa filter.",
        "change_summary": "first issue",
        "parameters": [{"name": "mwco_kda", "unit": "kDa", "min_value": 3, "max_value": 3, "default": "3"}],
    }


def test_a_technician_drafts_and_a_reviewer_publishes(api, technician, reviewer, protocol):
    created = api(technician).post(VERSIONS, _draft_payload(protocol), format="json")
    assert created.status_code == 201, created.data
    assert (created.data["number"], created.data["status"]) == (1, "draft")
    assert created.data["parameters"][0]["name"] == "mwco_kda"

    url = f"{VERSIONS}{created.data['id']}/publish/"
    signed = {"password": SIGNING_PASSWORD}
    assert api(technician).post(url, signed, format="json").status_code == 403
    unsigned = api(reviewer).post(url, {}, format="json")
    assert unsigned.status_code == 400
    assert "password" in unsigned.data
    wrong = api(reviewer).post(url, {"password": "guess"}, format="json")
    assert wrong.status_code == 400
    assert "password" in wrong.data
    published = api(reviewer).post(url, signed, format="json")
    assert published.status_code == 200, published.data
    assert published.data["status"] == "effective"
    assert published.data["approved_by"] == reviewer.pk
    assert api(reviewer).post(url, signed, format="json").status_code == 200, "publishing again is harmless"


def test_retiring_through_the_api_needs_a_reason_and_a_signature(api, reviewer, publish_sop):
    version = publish_sop()
    url = f"{VERSIONS}{version.pk}/retire/"
    missing = api(reviewer).post(url, {}, format="json")
    assert missing.status_code == 400
    assert {"reason", "password"} <= set(missing.data)
    retired = api(reviewer).post(url, {"reason": "kit discontinued", "password": SIGNING_PASSWORD}, format="json")
    assert retired.status_code == 200, retired.data
    assert retired.data["status"] == "retired"


def test_an_effective_version_cannot_be_edited_through_the_api(api, technician, publish_sop):
    version = publish_sop()
    response = api(technician).patch(
        f"{VERSIONS}{version.pk}/", {"body": "tampered", "version": version.version}, format="json"
    )
    assert response.status_code in (400, 409), response.data
    version.refresh_from_db()
    assert version.body != "tampered"
    assert api(technician).delete(f"{VERSIONS}{version.pk}/").status_code in (400, 409)
    assert ProtocolVersion.objects.filter(pk=version.pk).exists()


def test_a_bad_parameter_answers_400_naming_the_parameters(api, technician, protocol):
    payload = {**_draft_payload(protocol), "parameters": [{"name": "mwco_kda", "min_value": 10, "max_value": 3}]}
    response = api(technician).post(VERSIONS, payload, format="json")
    assert response.status_code == 400
    assert any("above max_value" in message for message in response.data["parameters"])


def test_a_batch_cannot_pin_a_draft_through_the_api(api, technician, lab, publish_sop):
    effective = publish_sop(category="conditioning")
    draft = protocol_version_create_draft(protocol=effective.protocol, actor=technician, body="Condition 72 h.")
    batch = f.SecretomeBatchFactory(lab=lab, protocol_version=effective)
    response = api(technician).patch(
        f"/api/v1/batches/{batch.pk}/", {"protocol_version": draft.pk, "version": batch.version}, format="json"
    )
    assert response.status_code == 400, response.data
    assert "protocol_version" in response.data
    batch.refresh_from_db()
    assert batch.protocol_version_id == effective.pk


def test_an_out_of_range_value_written_through_the_api_raises_one_deviation(api, technician, lab, publish_sop):
    effective = publish_sop(category="conditioning")  # 24 h
    batch = f.SecretomeBatchFactory(lab=lab, protocol_version=effective, conditioning_time_h=24)
    for hours, version in ((48, batch.version), (72, None)):
        current = version or api(technician).get(f"/api/v1/batches/{batch.pk}/").data["version"]
        response = api(technician).patch(
            f"/api/v1/batches/{batch.pk}/", {"conditioning_time_h": hours, "version": current}, format="json"
        )
        assert response.status_code == 200, response.data
    deviation = Deviation.objects.get(batch=batch)
    assert (deviation.status, deviation.actual) == ("open", "72 h")

    listed = api(technician).get("/api/v1/deviations/", {"batch": batch.pk})
    assert [row["id"] for row in listed.data["results"]] == [deviation.pk]


def test_a_deviation_is_justified_then_approved_by_a_reviewer(api, technician, reviewer, lab, publish_sop):
    batch = f.SecretomeBatchFactory(lab=lab, protocol_version=publish_sop())
    deviation_sync(batch=batch, actor=technician)
    deviation = Deviation.objects.get(batch=batch)
    url = f"/api/v1/deviations/{deviation.pk}/"

    early = api(reviewer).post(f"{url}approve/")
    assert early.status_code == 400
    assert "justification" in early.data

    assert api(technician).post(f"{url}justify/", {"justification": ""}, format="json").status_code == 400
    justified = api(technician).post(f"{url}justify/", {"justification": "pilot showed 2× yield"}, format="json")
    assert justified.status_code == 200, justified.data
    assert api(technician).post(f"{url}approve/").status_code == 403

    approved = api(reviewer).post(f"{url}approve/")
    assert approved.status_code == 200, approved.data
    assert (approved.data["status"], approved.data["approved_by"]) == ("approved", reviewer.pk)


def test_another_labs_deviation_is_not_found(api, outsider, lab, publish_sop, technician):
    batch = f.SecretomeBatchFactory(lab=lab, protocol_version=publish_sop())
    deviation_sync(batch=batch, actor=technician)
    deviation = Deviation.objects.get(batch=batch)
    assert api(outsider).get(f"/api/v1/deviations/{deviation.pk}/").status_code == 404
    assert api(outsider).post(f"/api/v1/deviations/{deviation.pk}/justify/", {"justification": "x"}).status_code in (
        403,
        404,
    )


def test_the_diff_endpoint_lists_the_changed_parameters(api, auditor, technician, reviewer, publish_sop):
    v1 = publish_sop()
    draft = protocol_version_create_draft(
        protocol=v1.protocol,
        actor=technician,
        body="1. Condition for 48 h.",
        parameters=[{"name": "conditioning_time_h", "unit": "h", "min_value": 24, "max_value": 48}],
    )
    response = api(auditor).get(f"{VERSIONS}{draft.pk}/diff/", {"against": v1.pk})
    assert response.status_code == 200, response.data
    changed = response.data["parameters"]["changed"]
    assert [p["name"] for p in changed] == ["conditioning_time_h"]
    assert changed[0]["changes"]["max_value"] == {"from": 24, "to": 48}
    assert "+1. Condition for 48 h." in response.data["body_diff"]


@pytest.mark.parametrize("against", ["", "abc", "999999"])
def test_the_diff_endpoint_answers_400_for_a_missing_or_unknown_against(api, auditor, publish_sop, against):
    version = publish_sop()
    response = api(auditor).get(f"{VERSIONS}{version.pk}/diff/", {"against": against} if against else {})
    assert response.status_code == 400
    assert "against" in response.data


def test_the_diff_endpoint_does_not_reach_into_another_lab(api, auditor, other_lab, publish_sop):
    mine = publish_sop()
    theirs = publish_sop(owner=other_lab)
    response = api(auditor).get(f"{VERSIONS}{mine.pk}/diff/", {"against": theirs.pk})
    assert response.status_code == 400
    assert "against" in response.data


def test_the_batches_endpoint_lists_the_batches_that_used_a_version(api, auditor, lab, publish_sop):
    spin = publish_sop(category="processing", parameters=())
    used = f.ProcessingStepFactory(lab=lab, protocol_version=spin).batch
    f.ProcessingStepFactory(lab=lab, batch=used, protocol_version=spin)
    f.SecretomeBatchFactory(lab=lab)
    response = api(auditor).get(f"{VERSIONS}{spin.pk}/batches/")
    assert response.status_code == 200, response.data
    assert [(row["id"], row["code"]) for row in response.data["results"]] == [(used.pk, used.code)]


def test_an_outsider_cannot_read_a_versions_batches(api, outsider, publish_sop):
    version = publish_sop()
    assert api(outsider).get(f"{VERSIONS}{version.pk}/batches/").status_code == 404
    assert api().get(f"{VERSIONS}{version.pk}/batches/").status_code in (401, 403)
