"""`manage.py seed_demo` builds the demo lab DESIGN.md describes, a second run changes nothing, and a lab
that edited its demo records through the API keeps them: seeding adds only what is missing, deletes nothing."""

import pytest
from django.apps import apps
from django.contrib.auth import authenticate, get_user_model
from django.core.management import call_command
from pghistory.models import Events
from rest_framework.test import APIClient

from batches import models as m
from lims.models import Lab, Membership
from protocols.models import Protocol

pytestmark = pytest.mark.django_db

# Derived rows (checklist reports, the outbox, history) are not demo records.
DERIVED = {"ChecklistReport", "CurrentChecklistReport", "ChecklistOutbox", "ChecklistActivation", "Job"}


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"lims", "batches", "protocols", "auth"}
        and not model.__name__.endswith("History")
        and model.__name__ not in DERIVED
    }


def _deleted_history_rows() -> int:
    return Events.objects.filter(pgh_label="delete").count()


def _api(username: str) -> APIClient:
    client = APIClient()
    client.force_authenticate(get_user_model().objects.get(username=username))
    return client


def _patch(client: APIClient, url: str, changes: dict) -> dict:
    current = client.get(url)
    assert current.status_code == 200, current.content
    response = client.patch(url, {**changes, "version": current.data["version"]}, format="json")
    assert response.status_code == 200, response.content
    return response.data


def test_seed_demo_makes_the_demo_lab_with_its_logins(capsys):
    call_command("seed_demo")
    printed = capsys.readouterr().out
    assert "tech" in printed and "pi" in printed and "demo-password" in printed
    tech = authenticate(username="tech", password="demo-password")
    pi = authenticate(username="pi", password="demo-password")
    assert tech is not None and pi is not None
    assert Membership.objects.get(user=tech, lab__name="Demo Lab").role == "technician"
    assert Membership.objects.get(user=pi, lab__name="Demo Lab").role == "reviewer"
    assert Membership.objects.get(user__username="labadmin", lab__name="Demo Lab").role == "lab_admin"


def test_demo_users_get_exactly_what_their_role_needs():
    call_command("seed_demo")
    users = {user.username: user for user in get_user_model().objects.all()}
    # The app's roles work in the app; only the lab administrator may open the Django admin.
    for username in ("tech", "pi", "auditor"):
        assert not users[username].is_staff, username
        assert not users[username].get_all_permissions(), username
    admin = users["labadmin"]
    assert admin.is_staff and not admin.is_superuser
    granted = admin.get_all_permissions()
    assert "batches.view_secretomebatch" in granted and "lims.change_membership" in granted
    assert not {p for p in granted if p.startswith(("batches.", "protocols.")) and ".view_" not in p}


def test_seed_demo_takes_back_the_admin_from_demo_users_an_earlier_version_made_staff():
    call_command("seed_demo")
    tech = get_user_model().objects.get(username="tech")
    tech.is_staff = True
    tech.save(update_fields=["is_staff"])
    call_command("seed_demo")
    tech.refresh_from_db()
    assert not tech.is_staff


def test_seed_demo_holds_a_realistic_set_of_records():
    call_command("seed_demo")
    assert m.Donor.objects.values("tissue_source").distinct().count() == 3
    assert set(m.PrimingCondition.objects.values_list("kind", flat=True)) >= {
        "none",
        "cytokine",
        "hypoxia",
        "hypoxia_mimetic",
    }
    assert m.PrimingAgent.objects.filter(agent="deferoxamine", concentration_unit="µM").exists()
    assert set(m.SecretomeBatch.objects.values_list("product_type", flat=True)) >= {"CM", "EV", "LYO"}
    assert m.Passage.objects.filter(cells_harvested__isnull=False).count() >= 9
    assert m.ProcessingStep.objects.filter(kind="ultracentrifugation", k_factor__isnull=False).exists()
    assert m.Aliquot.objects.filter(location__parent__parent__kind="freezer").count() >= 10
    assert m.QCResult.objects.filter(outcome="fail").count() == 1
    study = m.Study.objects.get(lab__slug="demo-lab")
    assert study.administrations.count() >= 2 and study.outcome_measures.filter(is_primary=True).count() == 1
    # Every demo record that follows an SOP pins its version from the moment it is created.
    assert not m.SecretomeBatch.objects.filter(protocol_version__isnull=True).exists()
    assert not m.QCResult.objects.filter(protocol_version__isnull=True).exists()


def test_running_seed_demo_twice_changes_nothing_and_deletes_nothing(capsys):
    call_command("seed_demo")
    counts, events = _row_counts(), Events.objects.count()
    capsys.readouterr()
    call_command("seed_demo")
    assert _row_counts() == counts
    assert Events.objects.count() == events
    assert "nothing to add" in capsys.readouterr().out
    assert _deleted_history_rows() == 0


def test_seed_demo_tops_up_a_lab_that_has_part_of_the_demo(capsys):
    # The lab exists and already logged donor HD-BM-01 its own way: seeding keeps it and adds the rest.
    lab = Lab.objects.create(slug="demo-lab", name="Demo Lab")
    donor = m.Donor.objects.create(lab=lab, code="HD-BM-01", species="human", tissue_source="bone_marrow", sex="male")
    call_command("seed_demo")
    printed = capsys.readouterr().out
    assert "2 donors" in printed and "3 cell lines" in printed and "1 labs" not in printed
    assert m.Donor.objects.filter(code="HD-BM-01").get() == donor
    donor.refresh_from_db()
    assert donor.sex == "male" and donor.age_years is None
    assert m.CellLine.objects.get(code="MSC-BM01").donor == donor


def test_seed_demo_leaves_what_users_edited_through_the_api_alone(capsys):
    call_command("seed_demo")
    tech, admin = _api("tech"), _api("labadmin")
    line = m.CellLine.objects.get(code="MSC-BM01")
    osteogenic = m.Differentiation.objects.get(cell_line=line, lineage="osteogenic")

    # Duplicate lineage: a second osteogenic result for the same line (the model allows it).
    response = tech.post(
        "/api/v1/differentiations/",
        {"cell_line": line.pk, "lineage": "osteogenic", "result": "negative", "method": "von_kossa"},
        format="json",
    )
    assert response.status_code == 201, response.content
    # Changed values: the first osteogenic result and a passage count.
    _patch(tech, f"/api/v1/differentiations/{osteogenic.pk}/", {"result": "negative"})
    passage = m.Passage.objects.get(cell_line=line, number=2)
    _patch(tech, f"/api/v1/passages/{passage.pk}/", {"cells_harvested": 7_000_000})
    # Renamed codes: a donor, a cell line, the draft batch; and a renamed priming condition.
    donor = m.Donor.objects.get(code="HD-AD-02")
    _patch(tech, f"/api/v1/donors/{donor.pk}/", {"code": "HD-AD-02b"})
    uc_line = m.CellLine.objects.get(code="MSC-UC03")
    _patch(tech, f"/api/v1/cell-lines/{uc_line.pk}/", {"code": "WJ-MSC-03"})
    draft = m.SecretomeBatch.objects.get(code="SB-25-004")
    _patch(tech, f"/api/v1/batches/{draft.pk}/", {"code": "SB-25-004-R", "conditioning_time_h": 36})
    hypoxia = m.PrimingCondition.objects.get(name__startswith="Hypoxia")
    _patch(tech, f"/api/v1/primings/{hypoxia.pk}/", {"name": "Hypoxia, 1 % O₂ (tri-gas)"})
    # Deleted, then re-created child rows: the cytokine priming's agents, and the auditor's membership.
    cytokine = m.PrimingCondition.objects.get(kind="cytokine")
    _patch(tech, f"/api/v1/primings/{cytokine.pk}/", {"agents": []})
    assert not m.PrimingAgent.objects.filter(priming=cytokine).exists()
    _patch(
        tech,
        f"/api/v1/primings/{cytokine.pk}/",
        {"agents": [{"agent": "ifn_gamma", "concentration": 50, "concentration_unit": "ng/mL", "exposure": 24}]},
    )
    auditor = Membership.objects.get(user__username="auditor")
    assert admin.delete(f"/api/v1/memberships/{auditor.pk}/").status_code == 204
    # A member is re-added the way every member joins: invited by user name, then accepting.
    response = admin.post("/api/v1/memberships/", {"invitee": "auditor", "role": "auditor"}, format="json")
    assert response.status_code == 201, response.content
    accepted = _api("auditor").post(f"/api/v1/invitations/{response.data['id']}/accept/")
    assert accepted.status_code == 200, accepted.content
    # A protocol renamed by the lab.
    sop = Protocol.objects.get(code="SOP-PRC-002")
    sop.code = "SOP-FIL-001"
    sop.save()

    edited = _row_counts()
    deletes = _deleted_history_rows()
    for _ in range(2):
        capsys.readouterr()
        call_command("seed_demo")  # raises (a non-zero exit) on anything it cannot handle
        assert "nothing to add" in capsys.readouterr().out

    assert _row_counts() == edited, "seeding added demo records that the users had only edited"
    assert _deleted_history_rows() == deletes, "seeding deleted rows"
    assert m.Donor.objects.filter(code__startswith="HD-AD-02").count() == 1
    assert m.CellLine.objects.filter(donor__code="HD-UC-03").get().code == "WJ-MSC-03"
    assert not m.SecretomeBatch.objects.filter(code="SB-25-004").exists()
    assert m.SecretomeBatch.objects.get(code="SB-25-004-R").conditioning_time_h == 36
    assert m.Differentiation.objects.filter(cell_line=line, lineage="osteogenic", result="negative").count() == 2
    assert m.Passage.objects.get(pk=passage.pk).cells_harvested == 7_000_000
    assert list(m.PrimingAgent.objects.filter(priming=cytokine).values_list("agent", "concentration")) == [
        ("ifn_gamma", 50)
    ]
    assert not m.PrimingCondition.objects.filter(name="Hypoxia 1 % O₂, 48 h").exists()
    assert not Protocol.objects.filter(code="SOP-PRC-002").exists()
    assert Membership.objects.filter(user__username="auditor").count() == 1
