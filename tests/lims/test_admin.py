"""A lab administrator (the demo's `labadmin`: the only demo role with the admin) reads every model's list,
record and history there, scoped to their lab."""

import pytest
from django.contrib import admin
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse

from batches import models as m
from tests import factories as f

pytestmark = pytest.mark.django_db

LAB_MODELS = [model for model in admin.site._registry if model._meta.app_label in {"batches", "protocols"}]


@pytest.fixture
def demo_admin(client):
    call_command("seed_demo")
    admin_user = get_user_model().objects.get(username="labadmin")
    client.force_login(admin_user)
    return admin_user


@pytest.mark.parametrize("model", LAB_MODELS, ids=lambda model: model._meta.label)
def test_every_lab_model_has_a_list_page_for_a_lab_admin(client, demo_admin, model):
    response = client.get(reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist"))
    assert response.status_code == 200


def test_the_batch_page_shows_its_processing_qc_and_aliquots_inline_with_a_history_link(client, demo_admin):
    batch = m.SecretomeBatch.objects.get(code="SB-25-002")
    response = client.get(reverse("admin:batches_secretomebatch_change", args=[batch.pk]))
    body = response.content.decode()
    assert response.status_code == 200
    for heading in ("Processing steps", "QC results", "Aliquots"):
        assert heading in body
    assert "Type 70 Ti" in body
    assert reverse("admin:batches_secretomebatch_history", args=[batch.pk]) in body
    assert client.get(reverse("admin:batches_secretomebatch_history", args=[batch.pk])).status_code == 200


def test_a_lab_admin_sees_only_their_own_labs_records(client, demo_admin):
    stranger = f.SecretomeBatchFactory(code="ELSEWHERE-1")
    response = client.get(reverse("admin:batches_secretomebatch_changelist"))
    assert "SB-25-001" in response.content.decode()
    assert "ELSEWHERE-1" not in response.content.decode()
    assert client.get(reverse("admin:batches_secretomebatch_change", args=[stranger.pk])).status_code in (302, 404)


def test_the_passage_list_shows_population_doublings(client, demo_admin):
    response = client.get(reverse("admin:batches_passage_changelist"))
    assert "Cumulative PD" in response.content.decode()
