"""The application's database role reads and writes rows, and nothing more: the rules stay switched on."""

import uuid

import pytest
from django.db import DatabaseError, connection, transaction

from lims.db_roles import grant_application_role, insert_only_tables
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def as_application_role():
    """Within the test's transaction: a fresh role with the grants `migrate` gives, and the session acting as it."""
    role = f"lims_app_check_{uuid.uuid4().hex[:8]}"
    with connection.cursor() as cursor:
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')
        grant_application_role(cursor=cursor, role=role)
        cursor.execute(f'SET LOCAL ROLE "{role}"')
    yield role
    with connection.cursor() as cursor:
        cursor.execute("RESET ROLE")


def _refused(statement: str, params: list | None = None) -> None:
    with (
        pytest.raises(DatabaseError, match=r"must be owner|permission denied"),
        transaction.atomic(),
        connection.cursor() as cursor,
    ):
        cursor.execute(statement, params or [])


def test_the_application_role_cannot_disable_a_trigger(as_application_role):
    _refused("ALTER TABLE batches_secretomebatch DISABLE TRIGGER ALL")
    _refused("ALTER TABLE batches_qcresult DISABLE TRIGGER pgtrigger_verified_is_final_c6cb6")


def test_the_application_role_cannot_alter_or_truncate_a_table(as_application_role):
    _refused("ALTER TABLE batches_donor DROP CONSTRAINT donor_age_years_range")
    _refused("TRUNCATE batches_batchevent")
    _refused("DROP TABLE lims_auditseal")


def test_the_application_role_cannot_change_history_or_seals(as_application_role):
    _refused("UPDATE lims_auditseal SET content_hash = 'x'")
    _refused("DELETE FROM lims_auditseal")
    _refused("UPDATE batches_donorhistory SET code = 'x'")
    _refused("DELETE FROM batches_secretomebatchhistory")
    _refused("DELETE FROM django_migrations")


def test_the_application_role_reads_and_writes_lab_records(lab, as_application_role):
    donor = f.DonorFactory(lab=lab)
    donor.code = "D-renamed"
    donor.save()
    assert donor.history.count() == 2


def test_history_seals_signatures_and_lifecycle_logs_are_insert_only():
    tables = insert_only_tables()
    for table in ("lims_auditseal", "lims_signature", "batches_batchevent", "batches_aliquotevent"):
        assert table in tables
    assert "batches_donorhistory" in tables
    assert "batches_donor" not in tables
