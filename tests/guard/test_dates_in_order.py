"""Dates in order along the chain: passage seeded ≤ harvested ≤ conditioning start ≤ collection ≤ QC performed ≤
administration. The services say which field is out of order; the database refuses what may never be.

Factory dates: passage seeded 1 Feb 2025, harvested 6 Feb; batch conditioned 48 h and collected 9 Feb 10:00;
QC performed 10 Feb.
"""

import datetime as dt

import pytest
from django.core.exceptions import ValidationError
from django.db import DatabaseError, connection, transaction
from rest_framework.test import APIClient

from batches.services.qc import qc_result_record
from batches.services.records import administration_create, batch_update, record_update
from tests import factories as f

pytestmark = pytest.mark.django_db


def _at(day: str) -> dt.datetime:
    return dt.datetime.fromisoformat(day).replace(tzinfo=dt.UTC)


def _refused_on(call) -> dict[str, list[str]]:
    with pytest.raises(ValidationError) as refused:
        call()
    return refused.value.message_dict


@pytest.fixture
def batch(lab):
    return f.SecretomeBatchFactory(lab=lab)


def _change_batch(batch, actor, **data):
    return lambda: batch_update(batch=batch, actor=actor, data=data, version=batch.version)


# --- The services name the field ----------------------------------------------------------------------


def test_a_batch_collected_before_its_passage_was_harvested_is_refused_on_collected_at(batch, technician):
    errors = _refused_on(_change_batch(batch, technician, collected_at=_at("2025-02-04T10:00")))
    assert "before its producing passage was harvested (2025-02-06)" in errors["collected_at"][0]


def test_conditioning_that_started_before_the_harvest_is_refused_on_the_conditioning_time(batch, technician):
    errors = _refused_on(_change_batch(batch, technician, conditioning_time_h=96))
    assert "Conditioning would have started on 2025-02-05" in errors["conditioning_time_h"][0]


def test_a_batch_collected_after_its_qc_was_performed_is_refused_on_collected_at(batch, technician):
    f.QCResultFactory(lab=batch.lab, batch=batch, performed_on=dt.date(2025, 2, 10))
    errors = _refused_on(_change_batch(batch, technician, collected_at=_at("2025-02-12T10:00")))
    assert "after its QC was performed (2025-02-10)" in errors["collected_at"][0]


def test_qc_performed_before_the_collection_is_refused_on_performed_on(batch, technician):
    data = {"batch": batch, "assay": "total_protein", "method": "bca", "value": 100, "unit": "µg/mL"}
    errors = _refused_on(
        lambda: qc_result_record(lab=batch.lab, actor=technician, data={**data, "performed_on": dt.date(2025, 2, 7)})
    )
    assert "before batch" in errors["performed_on"][0]


def test_qc_performed_after_the_batch_was_administered_is_refused_on_performed_on(batch, technician):
    f.AdministrationFactory(lab=batch.lab, batch=batch, administered_on=dt.date(2025, 2, 20))
    data = {"batch": batch, "assay": "total_protein", "method": "bca", "value": 100, "unit": "µg/mL"}
    errors = _refused_on(
        lambda: qc_result_record(lab=batch.lab, actor=technician, data={**data, "performed_on": dt.date(2025, 2, 21)})
    )
    assert "after batch" in errors["performed_on"][0]


def test_a_dose_before_the_collection_or_before_the_qc_is_refused_on_administered_on(batch, technician):
    f.QCResultFactory(lab=batch.lab, batch=batch, performed_on=dt.date(2025, 2, 10))
    study = f.StudyFactory(lab=batch.lab)
    for day, words in ((dt.date(2025, 2, 7), "before batch"), (dt.date(2025, 2, 9), "before the QC")):
        errors = _refused_on(
            lambda day=day: administration_create(
                lab=batch.lab,
                actor=technician,
                data={"study": study, "batch": batch, "group": "CM", "administered_on": day},
            )
        )
        assert words in errors["administered_on"][0]


def test_a_passage_cannot_be_moved_past_the_batches_it_produced(batch, technician):
    passage = batch.passage
    errors = _refused_on(
        lambda: record_update(
            instance=passage,
            actor=technician,
            data={"started_on": dt.date(2025, 2, 10), "harvested_on": dt.date(2025, 2, 11)},
            version=passage.version,
        )
    )
    assert "after batch" in errors["started_on"][0]
    assert "after batch" in errors["harvested_on"][0]


def test_missing_dates_are_not_errors(lab, technician):
    passage = f.PassageFactory(lab=lab, started_on=None, harvested_on=None)
    batch = f.SecretomeBatchFactory(lab=lab, passage=passage, collected_at=None, conditioning_time_h=None)
    result = qc_result_record(
        lab=lab,
        actor=technician,
        data={"batch": batch, "assay": "total_protein", "method": "bca", "value": 100, "unit": "µg/mL"},
    )
    administration = administration_create(
        lab=lab,
        actor=technician,
        data={"study": f.StudyFactory(lab=lab), "batch": batch, "group": "CM", "administered_on": dt.date(2020, 1, 1)},
    )
    assert result.pk and administration.pk


def test_dates_in_order_are_accepted(batch, technician):
    f.QCResultFactory(lab=batch.lab, batch=batch, performed_on=dt.date(2025, 2, 10))
    administration = administration_create(
        lab=batch.lab,
        actor=technician,
        data={
            "study": f.StudyFactory(lab=batch.lab),
            "batch": batch,
            "group": "CM",
            "administered_on": dt.date(2025, 2, 10),
        },
    )
    assert administration.administered_on == dt.date(2025, 2, 10)


def test_the_api_answers_400_on_the_field_for_a_dose_before_the_collection(lab, technician, batch):
    client = APIClient()
    client.force_authenticate(technician)
    study = f.StudyFactory(lab=lab)
    response = client.post(
        "/api/v1/administrations/",
        {"study": study.pk, "batch": batch.pk, "group": "CM", "administered_on": "2025-02-01"},
        format="json",
    )
    assert response.status_code == 400
    assert "before batch" in response.data["administered_on"][0]


# --- The database refuses what may never be ------------------------------------------------------------


def _sql(statement: str, params: list) -> None:
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement, params)


@pytest.mark.parametrize(
    ("statement", "row"),
    [
        ("UPDATE batches_secretomebatch SET collected_at = '2025-01-20T10:00Z' WHERE id = %s", "batch"),
        ("UPDATE batches_passage SET started_on = '2025-02-12', harvested_on = '2025-02-14' WHERE id = %s", "passage"),
        ("UPDATE batches_qcresult SET performed_on = '2025-01-30' WHERE id = %s", "result"),
        ("UPDATE batches_administration SET administered_on = '2025-01-30' WHERE id = %s", "administration"),
        ("UPDATE batches_secretomebatch SET collected_at = '2025-03-01T10:00Z' WHERE id = %s", "batch"),
    ],
    ids=[
        "collected-before-seeding",
        "seeded-after-collection",
        "qc-before-collection",
        "dose-before-collection",
        "collected-after-qc-and-dose",
    ],
)
def test_the_database_refuses_dates_that_may_never_be(batch, statement, row):
    result = f.QCResultFactory(lab=batch.lab, batch=batch, performed_on=dt.date(2025, 2, 10))
    administration = f.AdministrationFactory(lab=batch.lab, batch=batch, administered_on=dt.date(2025, 2, 12))
    rows = {"batch": batch, "passage": batch.passage, "result": result, "administration": administration}
    with pytest.raises(DatabaseError, match=r"collected|seeded|performed|dose"):
        _sql(statement, [rows[row].pk])


def test_the_database_leaves_incomplete_records_alone(lab):
    batch = f.SecretomeBatchFactory(lab=lab, collected_at=None)
    f.QCResultFactory(lab=lab, batch=batch, performed_on=dt.date(2020, 1, 1))
    _sql("UPDATE batches_passage SET started_on = '2030-01-01', harvested_on = NULL WHERE id = %s", [batch.passage_id])
    batch.passage.refresh_from_db()
    assert batch.passage.started_on == dt.date(2030, 1, 1)
