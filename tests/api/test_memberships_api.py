"""Lab administrators manage who belongs to their lab."""

import pytest

from lims.models import Membership
from tests import factories as f

pytestmark = pytest.mark.django_db


def test_a_lab_admin_adds_a_member(api, lab, lab_admin):
    newcomer = f.UserFactory()
    response = api(lab_admin).post("/api/v1/memberships/", {"user": newcomer.pk, "role": "auditor"}, format="json")
    assert response.status_code == 201, response.data
    assert Membership.objects.get(user=newcomer).lab == lab


def test_nobody_else_manages_members(api, lab, technician, reviewer, auditor):
    newcomer = f.UserFactory()
    for user in (technician, reviewer, auditor):
        response = api(user).post("/api/v1/memberships/", {"user": newcomer.pk, "role": "auditor"}, format="json")
        assert response.status_code == 403


def test_a_member_is_added_once(api, lab, lab_admin, technician):
    response = api(lab_admin).post("/api/v1/memberships/", {"user": technician.pk, "role": "auditor"}, format="json")
    assert response.status_code == 400
    assert "user" in response.data


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
