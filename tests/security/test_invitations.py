"""Memberships by invitation: a lab administrator names a person by e-mail or user name, the person accepts.

Nobody is looked up across the installation, no answer says anything about people outside your labs,
and an invitation changes nothing for the invitee until they accept it.
"""

import pytest
from django.core.cache import cache

from lims.models import Invitation, Membership, Role
from tests import factories as f

pytestmark = pytest.mark.django_db

DONOR = {"code": "D-INV-1", "species": "human", "tissue_source": "adipose", "pooled": False, "n_donors": 1}


@pytest.fixture(autouse=True)
def _fresh_throttle_counters():
    cache.clear()


def test_an_invitation_by_user_name_tells_the_lab_admin_nothing_about_the_person(api, lab, lab_admin, outsider):
    response = api(lab_admin).post("/api/v1/invitations/", {"invitee": "otto", "role": "auditor"}, format="json")
    unknown = api(lab_admin).post("/api/v1/invitations/", {"invitee": "nobody@x.org", "role": "auditor"}, format="json")
    assert response.status_code == unknown.status_code == 201, response.data
    assert set(response.data) == set(unknown.data), "a real person and an unknown name answer alike"
    text = str(response.data)
    assert "Otto" not in text and "Outsider" not in text and str(outsider.pk) not in {str(v) for v in response.data}
    assert response.data["status"] == "pending"
    assert not Membership.objects.filter(user=outsider, lab=lab).exists()


def test_memberships_are_never_created_by_user_id(api, lab, lab_admin, outsider):
    response = api(lab_admin).post("/api/v1/memberships/", {"user": outsider.pk, "role": "auditor"}, format="json")
    assert response.status_code == 400
    assert "user" in response.data
    assert not Membership.objects.filter(user=outsider, lab=lab).exists()


def test_the_memberships_resource_still_invites_by_name(api, lab, lab_admin, outsider):
    response = api(lab_admin).post("/api/v1/memberships/", {"username": "otto", "role": "auditor"}, format="json")
    assert response.status_code == 201, response.data
    assert Invitation.objects.get(pk=response.data["id"]).invitee == "otto"


def test_only_lab_admins_invite(api, lab, technician, reviewer, auditor):
    for user in (technician, reviewer, auditor):
        response = api(user).post(
            "/api/v1/invitations/", {"lab": lab.pk, "invitee": "x@y.org", "role": "auditor"}, format="json"
        )
        assert response.status_code in (400, 403), response.data
    assert not Invitation.objects.exists()


def test_a_pending_invitation_changes_nothing_for_the_invitee(api, lab, lab_admin, outsider, other_lab):
    f.DonorFactory(lab=lab, code="D-SECRET")
    api(lab_admin).post("/api/v1/invitations/", {"invitee": "otto", "role": "technician"}, format="json")
    created = api(outsider).post("/api/v1/donors/", DONOR, format="json")
    assert created.status_code == 201, created.data
    assert created.data["lab"] == other_lab.pk
    assert "D-SECRET" not in str(api(outsider).get("/api/v1/donors/").data)


def test_the_invitee_accepts_and_joins_in_the_invited_role(api, lab, lab_admin, outsider):
    made = api(lab_admin).post("/api/v1/invitations/", {"invitee": "OTTO", "role": "auditor"}, format="json")
    mine = api(outsider).get("/api/v1/invitations/")
    assert [row["id"] for row in mine.data["results"]] == [made.data["id"]]
    assert mine.data["results"][0]["lab_name"] == lab.name
    response = api(outsider).post(f"/api/v1/invitations/{made.data['id']}/accept/")
    assert response.status_code == 200, response.data
    assert Membership.objects.get(user=outsider, lab=lab).role == Role.AUDITOR
    assert api(outsider).post(f"/api/v1/invitations/{made.data['id']}/accept/").status_code in (400, 404)


def test_nobody_else_can_accept_someone_elses_invitation(api, lab, lab_admin, outsider, technician):
    made = api(lab_admin).post("/api/v1/invitations/", {"invitee": "otto", "role": "lab_admin"}, format="json")
    stranger = f.UserFactory(username="mallory")
    assert api(stranger).post(f"/api/v1/invitations/{made.data['id']}/accept/").status_code == 404
    assert api(technician).post(f"/api/v1/invitations/{made.data['id']}/accept/").status_code == 404
    assert not Membership.objects.filter(user=stranger).exists()


def test_an_invitation_by_e_mail_is_accepted_on_the_web_page(client, api, lab, lab_admin):
    newcomer = f.UserFactory(username="nina", email="Nina@Example.org")
    body = {"invitee": "nina@example.org", "role": "technician"}
    made = api(lab_admin).post("/api/v1/invitations/", body, format="json")
    client.force_login(newcomer)
    page = client.get("/invitations/")
    assert page.status_code == 200 and lab.name in page.content.decode()
    response = client.post(f"/invitations/{made.data['id']}/accept/")
    assert response.status_code == 302
    assert Membership.objects.get(user=newcomer, lab=lab).role == Role.TECHNICIAN
