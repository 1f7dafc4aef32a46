"""`manage.py seed_demo` builds the demo lab DESIGN.md describes, and a second run changes nothing."""

import pytest
from django.apps import apps
from django.contrib.auth import authenticate
from django.core.management import call_command
from pghistory.models import Events

from batches import models as m
from lims.models import Membership

pytestmark = pytest.mark.django_db


def _row_counts() -> dict[str, int]:
    return {
        model._meta.label: model.objects.count()
        for model in apps.get_models()
        if model._meta.app_label in {"lims", "batches", "protocols", "auth"}
    }


def test_seed_demo_makes_the_demo_lab_with_its_logins(capsys):
    call_command("seed_demo")
    printed = capsys.readouterr().out
    assert "tech" in printed and "pi" in printed and "demo-password" in printed
    tech = authenticate(username="tech", password="demo-password")
    pi = authenticate(username="pi", password="demo-password")
    assert tech is not None and pi is not None
    assert Membership.objects.get(user=tech, lab__name="Demo Lab").role == "technician"
    assert Membership.objects.get(user=pi, lab__name="Demo Lab").role == "reviewer"
    assert tech.is_staff and pi.is_staff


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


def test_running_seed_demo_twice_changes_nothing():
    call_command("seed_demo")
    counts, events = _row_counts(), Events.objects.count()
    call_command("seed_demo")
    assert _row_counts() == counts
    assert Events.objects.count() == events
