"""The demo lab (seed_demo) and a three-donor study built from factories."""

import io

import pytest
from django.core.management import call_command
from django.db import transaction
from rest_framework.test import APIClient

from batches.models import SecretomeBatch, Study
from lims.models import Membership
from tests import factories as f


@pytest.fixture(scope="module")
def _seeded_demo(django_db_setup, django_db_blocker):
    """seed_demo once per test module, inside a transaction rolled back when the module ends.

    Each test's own transaction nests inside it (a savepoint), so tests still cannot see each other's writes.
    """
    with django_db_blocker.unblock():
        outer = transaction.atomic()
        outer.__enter__()
        try:
            call_command("seed_demo", stdout=io.StringIO())
            yield
        finally:
            transaction.set_rollback(True)
            outer.__exit__(None, None, None)


@pytest.fixture
def demo(_seeded_demo, db):
    return Study.objects.get(lab__slug="demo-lab")


@pytest.fixture
def demo_batch(demo):
    def get(code: str) -> SecretomeBatch:
        return SecretomeBatch.objects.get(lab__slug="demo-lab", code=code)

    return get


@pytest.fixture
def demo_client(demo):
    client = APIClient()
    client.force_authenticate(Membership.objects.get(lab__slug="demo-lab", user__username="tech").user)
    return client


@pytest.fixture
def three_donor_study(lab):
    """A study whose batches come from three donors: two women of 24 and 41 years, a man of 33."""
    study = f.StudyFactory(lab=lab, title="Three-donor study")
    for index, (sex, age) in enumerate((("female", 24), ("male", 33), ("female", 41)), start=1):
        donor = f.DonorFactory(lab=lab, code=f"D-{index}", sex=sex, age_years=age)
        line = f.CellLineFactory(lab=lab, donor=donor, code=f"CL-{index}")
        passage = f.PassageFactory(lab=lab, cell_line=line, number=2 + index)
        batch = f.SecretomeBatchFactory(lab=lab, code=f"SB-3D-{index}", passage=passage)
        f.QCResultFactory(lab=lab, batch=batch, assay="total_protein", value=100.0 + 10 * index, unit="µg/mL")
        f.AdministrationFactory(lab=lab, study=study, batch=batch, group="CM")
    return study
