"""The lab members page: everyone sees who belongs to their labs; lab administrators invite, change roles,
remove members and revoke invitations there, through the membership services, with refusals that name the
field; nobody else changes anything, and another lab's rows answer 404."""

import pytest

from lims.models import Invitation, Membership
from tests import factories as f

pytestmark = pytest.mark.django_db


def _post(client, user, **data):
    client.force_login(user)
    return client.post("/members/", data, follow=True)


def _said(response) -> list[str]:
    return [str(message) for message in response.context["messages"]]


def test_every_member_sees_who_belongs_to_the_lab_and_only_a_lab_admin_sees_the_forms(client, lab, cast):
    for name, user in cast.items():
        client.force_login(user)
        response = client.get("/members/")
        page = response.content.decode()
        if name == "outsider":
            assert "Tina Technician" not in page  # another lab's people stay hidden
            continue
        assert response.status_code == 200
        for person in ("Tina Technician", "Paula Investigator", "Audrey Auditor", "Adam Admin"):
            assert person in page, (name, person)
        assert ("Send invitation" in page) == (name == "lab_admin"), name
        assert ("Save role" in page) == (name == "lab_admin"), name
    client.force_login(cast["technician"])
    assert 'href="/members/"' in client.get("/").content.decode()  # found from the menu


def test_a_lab_admin_invites_by_address_and_the_invitee_finds_it(client, lab, lab_admin):
    response = _post(
        client, lab_admin, action="invite", lab=lab.pk, **{f"lab{lab.pk}-invitee": "new.tech@example.org"},
        **{f"lab{lab.pk}-role": "technician"},
    )  # fmt: skip
    invitation = Invitation.objects.get(lab=lab, invitee="new.tech@example.org")
    assert (invitation.role, invitation.status, invitation.created_by) == ("technician", "pending", lab_admin)
    assert any("new.tech@example.org is invited to Pain Lab as technician" in text for text in _said(response))
    assert "new.tech@example.org" in response.content.decode()  # listed as waiting

    newcomer = f.UserFactory(username="newt", email="new.tech@example.org")
    client.force_login(newcomer)
    client.post(f"/invitations/{invitation.pk}/accept/")
    assert Membership.objects.get(user=newcomer, lab=lab).role == "technician"


@pytest.mark.parametrize(
    ("invitee", "role", "field", "text"),
    [
        ("", "technician", "invitee", "This field is required."),
        ("tina", "technician", "invitee", "tina is already a member of Pain Lab."),
        ("some one", "technician", "invitee", "no spaces"),
        ("x@example.org", "overlord", "role", "Select a valid choice."),
    ],
)
def test_a_refused_invitation_names_the_field_and_writes_nothing(
    client, lab, lab_admin, technician, invitee, role, field, text
):
    client.force_login(lab_admin)
    response = client.post(
        "/members/", {"action": "invite", "lab": lab.pk, f"lab{lab.pk}-invitee": invitee, f"lab{lab.pk}-role": role}
    )
    assert response.status_code == 400
    form = response.context["labs"][0]["invite_form"]
    assert any(text in error for error in form.errors[field]), form.errors
    assert not Invitation.objects.exists()


def test_a_lab_admin_changes_a_role_and_is_told_when_the_last_admin_would_go(client, lab, lab_admin, technician):
    mine = Membership.objects.get(user=lab_admin, lab=lab)
    theirs = Membership.objects.get(user=technician, lab=lab)
    response = _post(client, lab_admin, action="role", membership=theirs.pk, role="reviewer")
    assert Membership.objects.get(pk=theirs.pk).role == "reviewer"
    assert "Tina Technician is now reviewer (PI) of Pain Lab." in _said(response)

    response = _post(client, lab_admin, action="role", membership=mine.pk, role="technician")
    assert Membership.objects.get(pk=mine.pk).role == "lab_admin"
    assert any(text.startswith("Role: ") and "last lab administrator" in text for text in _said(response))

    response = _post(client, lab_admin, action="role", membership=theirs.pk, role="overlord")
    assert Membership.objects.get(pk=theirs.pk).role == "reviewer"
    assert any(text.startswith("Role: Choose one of") for text in _said(response))


def test_a_lab_admin_removes_a_member_and_revokes_an_invitation(client, lab, lab_admin, technician):
    theirs = Membership.objects.get(user=technician, lab=lab)
    response = _post(client, lab_admin, action="remove", membership=theirs.pk)
    assert not Membership.objects.filter(pk=theirs.pk).exists()
    assert "Tina Technician no longer belongs to Pain Lab." in _said(response)

    invitation = Invitation.objects.create(lab=lab, invitee="late@example.org", role="auditor", created_by=lab_admin)
    _post(client, lab_admin, action="revoke", invitation=invitation.pk)
    assert Invitation.objects.get(pk=invitation.pk).status == "revoked"

    mine = Membership.objects.get(user=lab_admin, lab=lab)
    response = _post(client, lab_admin, action="remove", membership=mine.pk)  # the last administrator stays
    assert Membership.objects.filter(pk=mine.pk).exists()
    assert any("last lab administrator" in text for text in _said(response))


@pytest.mark.parametrize("role", ["technician", "reviewer", "auditor"])
def test_nobody_but_a_lab_admin_changes_the_members(client, lab, cast, role):
    user = cast[role]
    target = Membership.objects.get(user=cast["technician"], lab=lab)
    admin = cast["lab_admin"]
    invitation = Invitation.objects.create(lab=lab, invitee="x@example.org", role="auditor", created_by=admin)
    before = sorted(Membership.objects.values_list("pk", "role"))
    client.force_login(user)
    posts = [
        {"action": "invite", "lab": lab.pk, f"lab{lab.pk}-invitee": "y@example.org", f"lab{lab.pk}-role": "lab_admin"},
        {"action": "role", "membership": target.pk, "role": "lab_admin"},
        {"action": "remove", "membership": target.pk},
        {"action": "revoke", "invitation": invitation.pk},
    ]
    for data in posts:
        assert client.post("/members/", data).status_code == 403, data
    assert sorted(Membership.objects.values_list("pk", "role")) == before
    assert list(Invitation.objects.values_list("invitee", "status")) == [("x@example.org", "pending")]


def test_another_labs_members_and_invitations_answer_404(client, lab, other_lab, lab_admin, outsider, technician):
    theirs = Membership.objects.get(user=outsider, lab=other_lab)
    f.MembershipFactory(user=f.UserFactory(username="oadmin"), lab=other_lab, role="lab_admin")
    invitation = Invitation.objects.create(lab=other_lab, invitee="z@example.org", role="auditor", created_by=outsider)
    client.force_login(lab_admin)
    for data in (
        {"action": "role", "membership": theirs.pk, "role": "auditor"},
        {"action": "remove", "membership": theirs.pk},
        {"action": "revoke", "invitation": invitation.pk},
        {"action": "invite", "lab": other_lab.pk, f"lab{other_lab.pk}-invitee": "q@example.org"},
        {"action": "remove", "membership": "not-a-number"},
        {"action": "dance"},
    ):
        assert client.post("/members/", data).status_code == 404, data
    assert Membership.objects.get(pk=theirs.pk).role == "technician"
    assert Invitation.objects.get(pk=invitation.pk).status == "pending"
