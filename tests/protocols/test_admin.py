"""In the admin SOPs are read-only: versions are drafted, published and retired in the app and the API."""

import pytest
from django.urls import reverse

from lims.models import Membership, Role
from protocols.models import Deviation, ProtocolVersion
from protocols.services import deviation_justify, deviation_sync
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def signed_in_lab_admin(client, lab, lab_admin):
    client.force_login(lab_admin)
    return lab_admin


@pytest.fixture
def superuser_reviewer(client, reviewer):
    reviewer.is_superuser = True
    reviewer.save()
    client.force_login(reviewer)
    return reviewer


def _change_url(version):
    return reverse("admin:protocols_protocolversion_change", args=[version.pk])


def test_an_effective_version_opens_read_only_without_a_save_button(client, signed_in_lab_admin, publish_sop):
    version = publish_sop()
    response = client.get(_change_url(version))
    body = response.content.decode()
    assert response.status_code == 200
    assert 'name="_save"' not in body
    assert 'name="body"' not in body, "the text is shown, not offered for editing"
    assert "parameters-0-max_value" not in body, "its parameters are not editable either"
    assert "conditioning_time_h" in body


def test_saving_a_version_in_the_admin_is_refused(client, signed_in_lab_admin, publish_sop, lab):
    for version in (publish_sop(), f.ProtocolVersionFactory(lab=lab)):
        response = client.post(
            _change_url(version),
            {"lab": version.lab_id, "protocol": version.protocol_id, "number": 1, "body": "tampered", "_save": "Save"},
        )
        assert response.status_code == 403
        version.refresh_from_db()
        assert version.body != "tampered"


def test_a_version_cannot_be_deleted_in_the_admin(client, signed_in_lab_admin, publish_sop):
    version = publish_sop()
    url = reverse("admin:protocols_protocolversion_delete", args=[version.pk])
    assert client.post(url, {"post": "yes"}).status_code == 403
    assert ProtocolVersion.objects.filter(pk=version.pk).exists()


def test_a_draft_is_read_only_in_the_admin_too(client, superuser_reviewer, lab):
    draft = f.ProtocolVersionFactory(lab=lab)
    body = client.get(_change_url(draft)).content.decode()
    assert 'name="_save"' not in body
    assert 'name="body"' not in body


def test_the_admin_offers_no_unsigned_way_to_publish(client, superuser_reviewer, lab):
    draft = f.ProtocolVersionFactory(lab=lab)
    page = client.get(reverse("admin:protocols_protocolversion_changelist")).content.decode()
    assert "publish" not in page.lower()
    response = client.post(
        reverse("admin:protocols_protocolversion_changelist"),
        {"action": "publish_selected", "_selected_action": [draft.pk]},
    )
    assert response.status_code in (200, 302)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_the_approve_action_calls_the_service_which_approves_only_justified_deviations(
    client, superuser_reviewer, publish_sop, lab, technician
):
    batch = f.SecretomeBatchFactory(lab=lab, protocol_version=publish_sop())
    deviation_sync(batch=batch, actor=technician)
    deviation = Deviation.objects.get(batch=batch)
    changelist = reverse("admin:protocols_deviation_changelist")
    client.post(changelist, {"action": "approve_selected", "_selected_action": [deviation.pk]})
    deviation.refresh_from_db()
    assert deviation.status == "open"

    change = reverse("admin:protocols_deviation_change", args=[deviation.pk])
    assert client.post(change, {"justification": "typed in the admin", "_save": "Save"}).status_code == 403
    # A reviewer may justify (DESIGN.md's role table); the admin cannot, so the justification goes through the
    # service, by the signed-in reviewer, whose own approval the action must then refuse (four eyes).
    deviation_justify(deviation=deviation, actor=superuser_reviewer, justification="validated in the pilot")
    client.post(changelist, {"action": "approve_selected", "_selected_action": [deviation.pk]})
    deviation.refresh_from_db()
    assert deviation.status == "open", "whoever justified a deviation does not approve it too"
    second = f.UserFactory(username="petra", is_staff=True, is_superuser=True)
    f.MembershipFactory(user=second, lab=lab, role="reviewer")
    client.force_login(second)
    client.post(changelist, {"action": "approve_selected", "_selected_action": [deviation.pk]})
    deviation.refresh_from_db()
    assert (deviation.status, deviation.justification) == ("approved", "validated in the pilot")


def test_a_lab_admin_cannot_approve_a_deviation_through_the_admin(
    client, signed_in_lab_admin, publish_sop, lab, technician
):
    batch = f.SecretomeBatchFactory(lab=lab, protocol_version=publish_sop())
    deviation_sync(batch=batch, actor=signed_in_lab_admin)
    deviation = Deviation.objects.get(batch=batch)
    # The technician justifies (a lab admin does not: DESIGN.md "Who may do what").
    deviation_justify(deviation=deviation, actor=technician, justification="within the pilot range")
    assert Membership.objects.get(user=signed_in_lab_admin).role == Role.LAB_ADMIN
    response = client.post(
        reverse("admin:protocols_deviation_changelist"),
        {"action": "approve_selected", "_selected_action": [deviation.pk]},
        follow=True,
    )
    assert "reviewer" in response.content.decode()
    deviation.refresh_from_db()
    assert deviation.status == "open"
