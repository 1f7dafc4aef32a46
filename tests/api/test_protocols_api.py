"""SOPs over the API: drafts are edited, reviewers publish, published versions are frozen."""

import pytest

from protocols.models import Deviation
from tests import factories as f

pytestmark = pytest.mark.django_db

SIGNED = {"password": "correct-horse-battery"}


def _url(version, action=""):
    return f"/api/v1/protocol-versions/{version.pk}/{action + '/' if action else ''}"


def test_a_reviewer_publishes_a_draft(api, lab, technician, reviewer):
    draft = f.ProtocolVersionFactory(lab=lab)
    assert api(technician).post(_url(draft, "publish"), SIGNED, format="json").status_code == 403
    assert api(reviewer).post(_url(draft, "publish"), {"password": "guess"}, format="json").status_code == 400
    response = api(reviewer).post(_url(draft, "publish"), SIGNED, format="json")
    assert response.status_code == 200, response.data
    assert (response.data["status"], response.data["approved_by"]) == ("effective", reviewer.pk)


def test_a_published_version_cannot_be_edited(api, lab, technician, reviewer):
    draft = f.ProtocolVersionFactory(lab=lab)
    published = api(reviewer).post(_url(draft, "publish"), SIGNED, format="json").data
    response = api(technician).patch(
        _url(draft), {"body": "Something else", "version": published["version"]}, format="json"
    )
    assert response.status_code == 400
    assert "status" in response.data


def test_a_new_draft_is_numbered_after_the_last_version(api, lab, technician):
    version = f.ProtocolVersionFactory(lab=lab)
    response = api(technician).post(
        "/api/v1/protocol-versions/", {"protocol": version.protocol_id, "body": "v2"}, format="json"
    )
    assert response.status_code == 400
    assert "protocol" in response.data  # one draft at a time
    version.delete()
    response = api(technician).post(
        "/api/v1/protocol-versions/", {"protocol": version.protocol_id, "body": "v2"}, format="json"
    )
    assert (response.status_code, response.data["number"]) == (201, 1)


def test_bad_parameters_are_refused_naming_parameters(api, lab, technician):
    protocol = f.ProtocolFactory(lab=lab, category="conditioning")
    payload = {
        "protocol": protocol.pk,
        "body": "Condition.",
        "parameters": [{"name": "no_such_field", "value_type": "number", "min_value": 5, "max_value": 1}],
    }
    response = api(technician).post("/api/v1/protocol-versions/", payload, format="json")
    assert response.status_code == 400
    assert "parameters" in response.data


def test_a_draft_can_be_deleted_but_not_a_published_version(api, lab, technician, reviewer):
    draft = f.ProtocolVersionFactory(lab=lab)
    other = f.ProtocolVersionFactory(lab=lab)
    assert api(reviewer).post(_url(other, "publish"), SIGNED, format="json").status_code == 200
    assert api(technician).delete(_url(draft)).status_code == 204
    assert api(technician).delete(_url(other)).status_code == 400


def test_a_deviation_is_justified_then_approved_by_a_reviewer(api, lab, technician, reviewer):
    batch = f.SecretomeBatchFactory(lab=lab)
    deviation = Deviation.objects.create(
        lab=lab,
        batch=batch,
        protocol_version=f.ProtocolVersionFactory(lab=lab),
        record_type="batch",
        record_id=batch.pk,
        parameter="conditioning_time_h",
        expected="24–48 h",
        actual="72 h",
    )
    url = f"/api/v1/deviations/{deviation.pk}/"
    assert api(reviewer).post(f"{url}approve/").status_code == 400
    response = api(technician).post(f"{url}justify/", {"justification": "Weekend harvest."}, format="json")
    assert response.data["justification"] == "Weekend harvest."
    assert api(technician).post(f"{url}approve/").status_code == 403
    assert api(reviewer).post(f"{url}approve/").data["status"] == "approved"
