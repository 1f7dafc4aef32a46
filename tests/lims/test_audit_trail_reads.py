"""Reading the audit trail per batch and per lab: who, what, when, old → new, why; filters; CSV."""

import csv
import datetime as dt
import io

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from batches.models import AliquotEvent, ProcessingStep, QCResult, SecretomeBatch
from lims.audit import audit_context
from lims.selectors.audit_trail import (
    CSV_COLUMNS,
    AuditTrailFilters,
    audit_trail_csv,
    audit_trail_for_batch,
    audit_trail_for_lab,
)
from lims.services.signatures import signature_sign
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(lab, technician):
    with audit_context(actor=technician):
        batch = f.SecretomeBatchFactory(lab=lab, code="SB-AUD-1", final_volume_ml=18)
        f.ProcessingStepFactory(lab=lab, batch=batch, order=1)
        f.QCResultFactory(lab=lab, batch=batch, performed_by=technician)
        aliquot = f.AliquotFactory(lab=lab, batch=batch, code="AL-AUD-1")
        AliquotEvent.objects.create(lab=lab, aliquot=aliquot, kind="thawed", at=timezone.now(), actor=technician)
    return batch


def _one(entries, **match):
    found = [e for e in entries if all(getattr(e, k) == v for k, v in match.items())]
    assert len(found) == 1, [(e.record_type, e.action, e.record) for e in entries]
    return found[0]


def test_the_batch_trail_says_who_changed_what_from_what_to_what_when_and_why(batch, reviewer):
    with audit_context(actor=reviewer, reason="volume re-measured after transfer"):
        SecretomeBatch.objects.filter(pk=batch.pk).update(final_volume_ml=17.5)

    entries = audit_trail_for_batch(batch=batch)

    update = _one(entries, record_type="batches.secretomebatch", action="update")
    assert (update.username, update.user_name) == ("paula", "Paula Investigator")
    assert update.reason == "volume re-measured after transfer"
    assert [(c.field, c.old, c.new) for c in update.changes] == [("final_volume_ml", 18.0, 17.5)]
    assert update.at <= timezone.now()
    insert = _one(entries, record_type="batches.secretomebatch", action="insert")
    assert insert.username == "tina"
    assert ("code", None, "SB-AUD-1") in [(c.field, c.old, c.new) for c in insert.changes]


def test_the_batch_trail_covers_every_row_hanging_off_the_batch_and_nothing_of_other_batches(batch, lab, reviewer):
    other = f.SecretomeBatchFactory(lab=lab, code="SB-OTHER")
    f.QCResultFactory(lab=lab, batch=other)
    signature_sign(actor=reviewer, password="correct-horse-battery", meaning="reviewed", record=batch.qc_results.get())

    types = {e.record_type for e in audit_trail_for_batch(batch=batch)}

    assert {
        "batches.secretomebatch",
        "batches.processingstep",
        "batches.qcresult",
        "batches.aliquot",
        "batches.aliquotevent",
        "lims.signature",
    } <= types
    records = {e.record for e in audit_trail_for_batch(batch=batch) if e.record_type == "batches.secretomebatch"}
    assert records == {"SB-AUD-1"}


def test_a_queryset_update_is_audited_with_the_actor_and_the_reason(batch, reviewer):
    with audit_context(actor=reviewer, reason="unit entered wrongly for the whole run"):
        changed = QCResult.objects.filter(batch=batch).update(unit="mg/mL")
    assert changed == 1

    event = batch.qc_results.get().history.filter(pgh_label="update").get()
    assert event.pgh_context.metadata["user"] == reviewer.pk
    assert event.pgh_context.metadata["reason"] == "unit entered wrongly for the whole run"
    entry = _one(audit_trail_for_batch(batch=batch), record_type="batches.qcresult", action="update")
    assert (entry.username, entry.reason) == ("paula", "unit entered wrongly for the whole run")
    assert [(c.field, c.old, c.new) for c in entry.changes] == [("unit", "µg/mL", "mg/mL")]


def test_a_deleted_row_stays_in_the_batch_trail(batch, technician):
    step = ProcessingStep.objects.get(batch=batch)
    with audit_context(actor=technician, reason="entered twice"):
        step.delete()
    entry = _one(audit_trail_for_batch(batch=batch), record_type="batches.processingstep", action="delete")
    assert entry.reason == "entered twice"
    assert ("g_force", 300.0, None) in [(c.field, c.old, c.new) for c in entry.changes]


def test_the_trail_filters_by_user_record_type_action_and_date_range(batch, reviewer):
    with audit_context(actor=reviewer, reason="r"):
        SecretomeBatch.objects.filter(pk=batch.pk).update(final_volume_ml=17)

    by_reviewer = audit_trail_for_batch(batch=batch, filters=AuditTrailFilters(user_id=reviewer.pk))
    assert {(e.record_type, e.action) for e in by_reviewer} == {("batches.secretomebatch", "update")}
    only_qc = audit_trail_for_batch(batch=batch, filters=AuditTrailFilters(models=("batches.qcresult",)))
    assert {e.record_type for e in only_qc} == {"batches.qcresult"}
    updates = audit_trail_for_batch(batch=batch, filters=AuditTrailFilters(actions=("update",)))
    assert {e.action for e in updates} == {"update"}
    tomorrow = timezone.now() + dt.timedelta(days=1)
    assert audit_trail_for_batch(batch=batch, filters=AuditTrailFilters(since=tomorrow)) == []
    yesterday = timezone.now() - dt.timedelta(days=1)
    assert audit_trail_for_batch(batch=batch, filters=AuditTrailFilters(until=yesterday)) == []
    newest = audit_trail_for_batch(batch=batch, filters=AuditTrailFilters(limit=1))
    assert len(newest) == 1 and newest[0].action == "update"


def test_a_filtered_update_still_shows_the_value_it_replaced_though_the_insert_is_filtered_out(batch, reviewer):
    with audit_context(actor=reviewer, reason="r"):
        SecretomeBatch.objects.filter(pk=batch.pk).update(final_volume_ml=16)
    entries = audit_trail_for_batch(batch=batch, filters=AuditTrailFilters(actions=("update",)))
    entry = _one(entries, record_type="batches.secretomebatch")
    assert [(c.old, c.new) for c in entry.changes] == [(18.0, 16.0)]


@pytest.mark.parametrize(
    ("filters", "field"),
    [
        (AuditTrailFilters(models=("batches.nothing",)), "model"),
        (AuditTrailFilters(actions=("truncate",)), "action"),
        (AuditTrailFilters(since=timezone.now(), until=timezone.now() - dt.timedelta(days=1)), "until"),
        (AuditTrailFilters(limit=0), "limit"),
    ],
)
def test_bad_filters_are_refused_naming_the_field(batch, filters, field):
    with pytest.raises(ValidationError) as refused:
        audit_trail_for_batch(batch=batch, filters=filters)
    assert list(refused.value.message_dict) == [field]


def test_the_lab_trail_covers_the_labs_records_and_none_of_another_labs(batch, lab, outsider, other_lab):
    with audit_context(actor=outsider):
        f.DonorFactory(lab=other_lab, code="D-ELSEWHERE")
    entries = audit_trail_for_lab(lab=lab, filters=AuditTrailFilters(limit=None))
    types = {e.record_type for e in entries}
    assert {"lims.lab", "lims.membership", "batches.donor", "batches.secretomebatch", "batches.qcresult"} <= types
    assert "D-ELSEWHERE" not in {e.record for e in entries}
    assert all(e.username != "otto" for e in entries)


def test_the_csv_has_one_line_per_changed_field_in_utc_and_defuses_spreadsheet_formulas(batch, reviewer):
    with audit_context(actor=reviewer, reason='=HYPERLINK("http://evil")'):
        SecretomeBatch.objects.filter(pk=batch.pk).update(final_volume_ml=17, conditioning_time_h=36)
    entries = audit_trail_for_batch(batch=batch, filters=AuditTrailFilters(actions=("update",)))

    lines = list(csv.DictReader(io.StringIO(audit_trail_csv(entries))))

    assert tuple(lines[0].keys()) == CSV_COLUMNS
    assert {(line["field"], line["old_value"], line["new_value"]) for line in lines} == {
        ("final_volume_ml", "18.0", "17.0"),
        ("conditioning_time_h", "48.0", "36.0"),
    }
    assert all(line["user"] == "paula" and line["at_utc"].endswith("+00:00") for line in lines)
    assert lines[0]["reason"].startswith("'=HYPERLINK")


def test_negative_numbers_in_the_csv_stay_numbers(lab, technician):
    with audit_context(actor=technician):
        aliquot = f.AliquotFactory(lab=lab, temperature_c=-80)
    rows = audit_trail_csv(audit_trail_for_batch(batch=aliquot.batch, filters=AuditTrailFilters()))
    assert ",-80.0," in rows


def test_each_change_keeps_its_own_reason_when_contexts_nest_or_follow_each_other(batch, technician, reviewer):
    step = ProcessingStep.objects.get(batch=batch)
    with audit_context(actor=technician, reason="batch of corrections"):
        with audit_context(actor=reviewer, reason="volume re-measured"):
            SecretomeBatch.objects.filter(pk=batch.pk).update(final_volume_ml=17)
        with audit_context(actor=technician, reason="rotor logged wrongly"):
            ProcessingStep.objects.filter(pk=step.pk).update(rotor="SW 41 Ti")
        QCResult.objects.filter(batch=batch).update(instrument="NanoDrop One")

    entries = audit_trail_for_batch(batch=batch, filters=AuditTrailFilters(actions=("update",)))
    why = {e.record_type: (e.username, e.reason) for e in entries}
    assert why == {
        "batches.secretomebatch": ("paula", "volume re-measured"),
        "batches.processingstep": ("tina", "rotor logged wrongly"),
        "batches.qcresult": ("tina", "batch of corrections"),
    }


def test_an_eager_task_inside_a_request_does_not_relabel_the_requests_own_changes(batch, technician):
    from lims.audit import task_context

    with audit_context(actor=technician, reason="logged at the bench", request_id="req-1"):
        with task_context("batches.check_batch", "task-9"):
            QCResult.objects.filter(batch=batch).update(instrument="NanoDrop One")
        SecretomeBatch.objects.filter(pk=batch.pk).update(final_volume_ml=17)

    entries = audit_trail_for_batch(batch=batch, filters=AuditTrailFilters(actions=("update",)))
    doors = {e.record_type: (e.request_id, e.task_id, e.source) for e in entries}
    assert doors == {
        "batches.qcresult": ("req-1", "task-9", "batches.check_batch"),
        "batches.secretomebatch": ("req-1", "", ""),
    }
