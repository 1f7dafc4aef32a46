"""Whatever the door — even raw SQL — the database refuses what must never happen."""

import pytest
from django.db import DatabaseError, connection, transaction
from django.utils import timezone

from batches.models import BatchEvent, QCResult
from lims.models import Signature
from tests import factories as f

pytestmark = pytest.mark.django_db


def _sql(statement: str, params: list | None = None) -> int:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])
        return cursor.rowcount


def _refused(statement: str, params: list | None = None, match: str | None = None) -> None:
    with pytest.raises(DatabaseError, match=match), transaction.atomic():
        _sql(statement, params)


@pytest.fixture
def released_batch(lab):
    return f.SecretomeBatchFactory(lab=lab, status="released")


@pytest.fixture
def verified_result(lab, reviewer):
    return f.QCResultFactory(lab=lab, status="verified", verified_by=reviewer, verified_at=timezone.now())


def test_an_update_of_a_released_batch_is_refused(released_batch):
    _refused("UPDATE batches_secretomebatch SET final_volume_ml = 99 WHERE id = %s", [released_batch.pk], "released")
    released_batch.refresh_from_db()
    assert released_batch.final_volume_ml == 18


def test_a_released_batch_cannot_go_back_to_draft(released_batch):
    _refused("UPDATE batches_secretomebatch SET status = 'draft' WHERE id = %s", [released_batch.pk], "released")


def test_retiring_a_released_batch_may_change_its_status_and_nothing_else(released_batch):
    _refused(
        "UPDATE batches_secretomebatch SET status = 'retired', final_volume_ml = 99 WHERE id = %s",
        [released_batch.pk],
    )
    assert _sql("UPDATE batches_secretomebatch SET status = 'retired' WHERE id = %s", [released_batch.pk]) == 1


def test_a_retired_batch_never_changes_again(released_batch):
    _sql("UPDATE batches_secretomebatch SET status = 'retired' WHERE id = %s", [released_batch.pk])
    _refused("UPDATE batches_secretomebatch SET status = 'released' WHERE id = %s", [released_batch.pk], "retired")
    _refused("UPDATE batches_secretomebatch SET code = 'X' WHERE id = %s", [released_batch.pk], "retired")


def test_a_draft_batch_is_edited_freely(lab):
    batch = f.SecretomeBatchFactory(lab=lab)
    assert _sql("UPDATE batches_secretomebatch SET final_volume_ml = 19 WHERE id = %s", [batch.pk]) == 1


def test_an_update_of_a_verified_qc_result_is_refused(verified_result):
    _refused("UPDATE batches_qcresult SET value = 1 WHERE id = %s", [verified_result.pk], "verified")
    _refused("UPDATE batches_qcresult SET status = 'recorded' WHERE id = %s", [verified_result.pk], "verified")
    assert QCResult.objects.get(pk=verified_result.pk).value == 120


def test_superseding_a_verified_result_changes_its_status_only(verified_result):
    _refused("UPDATE batches_qcresult SET status = 'superseded', value = 1 WHERE id = %s", [verified_result.pk])
    assert _sql("UPDATE batches_qcresult SET status = 'superseded' WHERE id = %s", [verified_result.pk]) == 1
    _refused("UPDATE batches_qcresult SET analyte = 'CD9' WHERE id = %s", [verified_result.pk], "superseded")


def test_a_batch_event_is_never_updated_or_deleted(lab):
    batch = f.SecretomeBatchFactory(lab=lab)
    event = BatchEvent.objects.create(lab=lab, batch=batch, kind="created")
    _refused("UPDATE batches_batchevent SET kind = 'released' WHERE id = %s", [event.pk], "Cannot update or delete")
    _refused("DELETE FROM batches_batchevent WHERE id = %s", [event.pk], "Cannot update or delete")
    assert BatchEvent.objects.filter(pk=event.pk, kind="created").exists()


def test_an_aliquot_event_is_never_updated_or_deleted(lab):
    aliquot = f.AliquotFactory(lab=lab)
    event = aliquot.events.create(lab=lab, kind="thawed", at=timezone.now())
    _refused("UPDATE batches_aliquotevent SET kind = 'used' WHERE id = %s", [event.pk], "Cannot update or delete")
    _refused("DELETE FROM batches_aliquotevent WHERE id = %s", [event.pk], "Cannot update or delete")


def test_a_signature_is_never_updated_or_deleted(lab, reviewer):
    batch = f.SecretomeBatchFactory(lab=lab)
    signature = Signature.objects.create(
        lab=lab,
        user=reviewer,
        username=reviewer.username,
        printed_name="Paula Investigator",
        signed_at=timezone.now(),
        meaning="released",
        content_type_id=_sql_one("SELECT id FROM django_content_type WHERE model = 'secretomebatch'"),
        object_id=batch.pk,
        record_hash="0" * 64,
        record_content={},
    )
    _refused("UPDATE lims_signature SET meaning = 'rejected' WHERE id = %s", [signature.pk], "Cannot update or delete")
    _refused("DELETE FROM lims_signature WHERE id = %s", [signature.pk], "Cannot update or delete")


def _sql_one(statement: str):
    with connection.cursor() as cursor:
        cursor.execute(statement)
        return cursor.fetchone()[0]


def test_a_cross_lab_foreign_key_insert_is_refused(lab, other_lab):
    foreign_donor = f.DonorFactory(lab=other_lab)
    home_line = f.CellLineFactory(lab=lab)
    _refused(
        "INSERT INTO batches_cellline SELECT (jsonb_populate_record(NULL::batches_cellline, to_jsonb(line) "
        "|| jsonb_build_object('id', nextval(pg_get_serial_sequence('batches_cellline', 'id')), "
        "'donor_id', %s, 'code', 'CL-X'))).* FROM batches_cellline line WHERE id = %s",
        [foreign_donor.pk, home_line.pk],
        "another lab",
    )
    assert _sql("SELECT 1 FROM batches_cellline WHERE code = 'CL-X'") == 0


def test_a_cross_lab_foreign_key_update_is_refused(lab, other_lab):
    batch = f.SecretomeBatchFactory(lab=lab)
    foreign_passage = f.PassageFactory(lab=other_lab)
    _refused(
        "UPDATE batches_secretomebatch SET passage_id = %s WHERE id = %s",
        [foreign_passage.pk, batch.pk],
        "another lab",
    )


def test_a_record_cannot_move_to_another_lab(lab, other_lab):
    donor = f.DonorFactory(lab=lab)
    _refused("UPDATE batches_donor SET lab_id = %s WHERE id = %s", [other_lab.pk, donor.pk], "lab cannot change")


def test_every_lab_owned_foreign_key_is_guarded_by_a_trigger():
    from django.apps import apps

    from lims.constraints import SAME_LAB, SameLab

    unguarded = []
    crossings = {}
    for model in apps.get_models():
        if model._meta.app_label not in {"lims", "batches", "protocols"} or model.__name__.endswith("History"):
            continue
        has_lab = any(field.name == "lab" and field.is_relation for field in model._meta.concrete_fields)
        links = [
            field.name
            for field in model._meta.concrete_fields
            if field.many_to_one
            and field.name != "lab"
            and any(other.name == "lab" for other in field.related_model._meta.concrete_fields)
        ]
        guards = [t for t in getattr(model._meta, "triggers", []) if isinstance(t, SameLab) and t.name == SAME_LAB]
        if has_lab and links and not guards:
            unguarded.append(model.__name__)
        for guard in guards:
            declared = {name: "crosses labs" for name in guard.exempt}
            declared |= {name: f"crosses labs only with {other}" for name, other in guard.crossing_when.items()}
            if declared:
                crossings[model.__name__] = declared
    assert unguarded == []
    # Links that cross labs are declared on purpose, and only these: a shipment's receiving side points at the
    # sender's rows, and a partner's batch may be administered only as a received aliquot.
    assert crossings == {
        "ShipmentReceipt": {"shipment": "crosses labs"},
        "ReceivedAliquot": {"item": "crosses labs", "source_aliquot": "crosses labs", "snapshot": "crosses labs"},
        "ImpactNotice": {"batch": "crosses labs", "shipment": "crosses labs", "snapshot": "crosses labs"},
        "Administration": {"batch": "crosses labs only with received_aliquot"},
    }


@pytest.mark.parametrize("value", ["1e308", "-1e308", "NaN", "Infinity", "-Infinity", "1e16", "-1e16"])
def test_a_number_that_is_not_finite_and_plausible_is_refused(lab, value):
    result = f.QCResultFactory(lab=lab)
    _refused("UPDATE batches_qcresult SET value = %s::float8 WHERE id = %s", [value, result.pk], "not a finite number")
