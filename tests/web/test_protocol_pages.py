"""SOPs in the app: a technician drafts a version with typed parameters, a PI publishes it with a signature."""

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.utils.html import escape

from lims.signatures import Signature
from protocols.models import Protocol, ProtocolVersion
from protocols.selectors import parameter_allowed_text

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", verbosity=0)


def _login(client, username):
    client.force_login(get_user_model().objects.get(username=username))


def _parameters(*rows):
    data = {"parameters-TOTAL_FORMS": str(len(rows)), "parameters-INITIAL_FORMS": "0"}
    for index, row in enumerate(rows):
        data.update({f"parameters-{index}-{key}": value for key, value in row.items()})
    return data


def test_a_technician_drafts_a_protocol_and_a_pi_publishes_it_with_a_signature(client, demo):
    _login(client, "tech")
    response = client.post(
        "/protocols/new/", {"code": "SOP-CM-900", "title": "Conditioning, 72 h", "category": "conditioning"}
    )
    draft = ProtocolVersion.objects.get(protocol__code="SOP-CM-900")
    assert response["Location"] == f"/protocols/versions/{draft.pk}/"
    saved = client.post(
        f"/protocols/versions/{draft.pk}/",
        {
            "body": "1. Wash twice with PBS.\n2. Condition for 72 h.",
            "change_summary": "First version",
            **_parameters(
                {
                    "name": "conditioning_time_h",
                    "value_type": "number",
                    "unit": "h",
                    "default": "72",
                    "min_value": "70",
                    "max_value": "74",
                }
            ),
        },
    )
    assert saved.status_code == 302
    draft.refresh_from_db()
    assert draft.body.startswith("1. Wash") and draft.parameters.get().max_value == 74
    assert client.post(f"/protocols/versions/{draft.pk}/publish/", {"password": "demo-password"}).status_code == 302
    draft.refresh_from_db()
    assert draft.status == "draft"  # a technician cannot publish

    _login(client, "pi")
    client.post(f"/protocols/versions/{draft.pk}/publish/", {"password": "wrong"})
    draft.refresh_from_db()
    assert draft.status == "draft"
    client.post(f"/protocols/versions/{draft.pk}/publish/", {"password": "demo-password"})
    draft.refresh_from_db()
    assert draft.status == "effective"
    assert Signature.objects.filter(meaning="published", object_id=draft.pk).exists()
    page = client.get(f"/protocols/versions/{draft.pk}/").content.decode()
    assert "Edit the draft" not in page  # effective: read-only
    assert escape(parameter_allowed_text(draft.parameters.get())) in page


def test_a_new_draft_starts_from_the_version_in_force_and_the_page_shows_the_diff(client, demo):
    _login(client, "tech")
    protocol = Protocol.objects.filter(versions__status="effective").first()
    effective = protocol.versions.get(status="effective")
    response = client.post(f"/protocols/{protocol.pk}/draft/")
    draft = protocol.versions.get(status="draft")
    assert response["Location"] == f"/protocols/versions/{draft.pk}/"
    assert draft.body == effective.body
    page = client.get(f"/protocols/versions/{draft.pk}/?against={effective.pk}").content.decode()
    assert "Changes from" in page and "The procedure text is the same." in page
