"""Lab administrators manage who belongs to their lab (people join by invitation: tests/security)."""

import pytest

from lims.models import Membership
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_lab_admin_adds_a_member_who_accepts_the_invitation(api, lab, lab_admin):
    newcomer = f.UserFactory()
    body = {"username": newcomer.username, "role": "auditor"}
    response = api(lab_admin).post("/api/v1/memberships/", body, format="json")
    assert response.status_code == 201, response.data
    assert not Membership.objects.filter(user=newcomer).exists(), "nobody is enrolled before accepting"
    assert api(newcomer).post(f"/api/v1/invitations/{response.data['id']}/accept/").status_code == 200
    assert Membership.objects.get(user=newcomer).lab == lab


def test_nobody_else_manages_members(api, lab, technician, reviewer, auditor):
    newcomer = f.UserFactory()
    for user in (technician, reviewer, auditor):
        body = {"username": newcomer.username, "role": "auditor", "lab": lab.pk}
        response = api(user).post("/api/v1/memberships/", body, format="json")
        assert response.status_code == 403


def test_a_member_is_added_once(api, lab, lab_admin, technician):
    body = {"username": technician.username, "role": "auditor"}
    response = api(lab_admin).post("/api/v1/memberships/", body, format="json")
    assert response.status_code == 400
    assert "invitee" in response.data


def test_the_last_lab_admin_stays(api, lab, lab_admin):
    mine = Membership.objects.get(user=lab_admin)
    assert (
        api(lab_admin).patch(f"/api/v1/memberships/{mine.pk}/", {"role": "technician"}, format="json").status_code
        == 400
    )
    assert api(lab_admin).delete(f"/api/v1/memberships/{mine.pk}/").status_code == 400
    assert Membership.objects.get(pk=mine.pk).role == "lab_admin"


def test_a_lab_admin_removes_a_member(api, lab, lab_admin, technician):
    membership = Membership.objects.get(user=technician)
    assert api(lab_admin).delete(f"/api/v1/memberships/{membership.pk}/").status_code == 204
    assert not Membership.objects.filter(pk=membership.pk).exists()
