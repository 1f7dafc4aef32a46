"""The admin door of the role matrix: the admin is a lab administrator's read-only tool, scoped to their labs.

DESIGN.md "Who may do what": technicians, reviewers and auditors get no admin at all; lab administrators
read their labs' records there (changes go through the app); nobody adds, changes or deletes a lab record
through the admin.
"""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from batches import models as m
from lims.models import Lab, Membership, Role
from tests import factories as f

pytestmark = pytest.mark.django_db

LAB_OWNED = sorted(
    (model for model in admin.site._registry if any(field.name == "lab" for field in model._meta.fields)),
    key=lambda model: model._meta.label,
)


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def demo(db):
    call_command("seed_demo")
    lab = Lab.objects.get(slug="demo-lab")
    boss = f.UserFactory(username="boss")
    Membership.objects.create(user=boss, lab=lab, role=Role.LAB_ADMIN)
    return lab


def _counts() -> dict[str, int]:
    return {model._meta.label: model.objects.count() for model in LAB_OWNED}


def _try_every_write(client, lab) -> list[tuple[str, str, int]]:
    """Add, change and delete on every lab-owned model; returns the (model, action, status) answers."""
    answers = []
    for model in LAB_OWNED:
        answers.append((model._meta.label, "add", client.post(_url(model, "add"), {"lab": lab.pk}).status_code))
        row = model.objects.filter(lab=lab).first() or model.objects.first()
        if row is None:
            continue
        answers.append((model._meta.label, "change", client.post(_url(model, "change", row.pk), {}).status_code))
        answers.append(
            (model._meta.label, "delete", client.post(_url(model, "delete", row.pk), {"post": "yes"}).status_code)
        )
    return answers


@pytest.mark.parametrize("username", ["tech", "pi", "auditor"])
def test_technicians_reviewers_and_auditors_get_no_admin(client, demo, username):
    user = get_user_model().objects.get(username=username)
    user.is_staff = True  # even a staff flag set by hand gives no admin: it goes by the lab role
    user.save(update_fields=["is_staff"])
    client.force_login(user)
    before = _counts()
    assert client.get("/admin/").status_code == 302
    for model in LAB_OWNED:
        assert client.get(_url(model, "changelist")).status_code == 302, model._meta.label
    answers = _try_every_write(client, demo)
    assert answers and all(status == 302 for _model, _action, status in answers), answers
    assert _counts() == before


def test_the_admin_sign_in_page_refuses_a_staff_auditor(client, demo):
    response = client.post(
        reverse("admin:login"), {"username": "auditor", "password": "demo-password", "next": "/admin/"}
    )
    assert response.status_code == 200
    assert "for lab administrators" in response.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_auditor_cannot_change_the_final_volume_of_a_released_batch(client, demo):
    batch = m.SecretomeBatch.objects.get(code="SB-25-001", lab=demo)
    client.force_login(get_user_model().objects.get(username="auditor"))
    response = client.post(_url(m.SecretomeBatch, "change", batch.pk), {"final_volume_ml": "99", "_save": "Save"})
    assert response.status_code == 302 and "/login/" in response["Location"]
    batch.refresh_from_db()
    assert batch.final_volume_ml != 99


def test_a_lab_admin_reads_every_lab_record_but_writes_none_in_the_admin(client, demo):
    client.force_login(get_user_model().objects.get(username="boss"))
    before = _counts()
    for model in LAB_OWNED:
        assert client.get(_url(model, "changelist")).status_code == 200, model._meta.label
    answers = _try_every_write(client, demo)
    assert answers and all(status == 403 for _model, _action, status in answers), answers
    assert _counts() == before
    batch = m.SecretomeBatch.objects.get(code="SB-25-001", lab=demo)
    page = client.get(_url(m.SecretomeBatch, "change", batch.pk))
    assert page.status_code == 200 and 'name="_save"' not in page.content.decode()


def test_a_lab_admin_sees_only_the_labs_they_administer(client, demo):
    client.force_login(get_user_model().objects.get(username="boss"))
    stranger = f.SecretomeBatchFactory(code="ELSEWHERE-1")
    body = client.get(_url(m.SecretomeBatch, "changelist")).content.decode()
    assert "SB-25-001" in body and "ELSEWHERE-1" not in body
    assert stranger.lab.name not in body, "the lab filter lists only the admin's labs"
    assert client.get(_url(m.SecretomeBatch, "change", stranger.pk)).status_code in (302, 404)
    assert client.get(_url(m.SecretomeBatch, "history", stranger.pk)).status_code in (302, 404)


def test_other_apps_admins_are_for_superusers_only(client, demo):
    client.force_login(get_user_model().objects.get(username="boss"))
    for model in admin.site._registry:
        if model._meta.app_label in {"auth", "django_celery_beat", "django_celery_results", "knox", "pghistory"}:
            assert client.get(_url(model, "changelist")).status_code == 403, model._meta.label


def test_a_lab_admin_changes_a_role_with_an_action_that_calls_the_service(client, demo):
    client.force_login(get_user_model().objects.get(username="boss"))
    tech = Membership.objects.get(user__username="tech", lab=demo)
    boss = Membership.objects.get(user__username="boss", lab=demo)
    # The demo has its own lab administrator: hand that role on, so boss is the last one.
    Membership.objects.filter(lab=demo, role=Role.LAB_ADMIN).exclude(pk=boss.pk).update(role=Role.TECHNICIAN)
    changelist = _url(Membership, "changelist")
    client.post(changelist, {"action": "make_reviewer", "_selected_action": [tech.pk]})
    tech.refresh_from_db()
    assert tech.role == Role.REVIEWER
    response = client.post(changelist, {"action": "make_technician", "_selected_action": [boss.pk]}, follow=True)
    assert "last lab administrator" in response.content.decode()
    boss.refresh_from_db()
    assert boss.role == Role.LAB_ADMIN


def test_the_batch_page_shows_its_processing_qc_and_aliquots_inline_with_a_history_link(client, demo):
    client.force_login(get_user_model().objects.get(username="boss"))
    batch = m.SecretomeBatch.objects.get(code="SB-25-002")
    body = client.get(_url(m.SecretomeBatch, "change", batch.pk)).content.decode()
    for heading in ("Processing steps", "QC results", "Aliquots"):
        assert heading in body
    assert "Type 70 Ti" in body
    assert _url(m.SecretomeBatch, "history", batch.pk) in body
    assert client.get(_url(m.SecretomeBatch, "history", batch.pk)).status_code == 200


def test_view_on_site_and_other_apps_rows_answer_404_or_403_never_a_500(client, demo):
    from django.contrib.contenttypes.models import ContentType

    client.force_login(get_user_model().objects.get(username="boss"))
    stranger = f.DonorFactory(code="ELSEWHERE-D")
    donor_type = ContentType.objects.get_for_model(m.Donor)
    assert client.get(f"/admin/r/{donor_type.pk}/{stranger.pk}/").status_code == 404
    for model in admin.site._registry:
        if model._meta.app_label == "pghistory":
            model_type = ContentType.objects.get_for_model(model)
            assert client.get(f"/admin/r/{model_type.pk}/1/").status_code == 404
            assert client.get(_url(model, "change", 1)).status_code in (302, 403, 404)
