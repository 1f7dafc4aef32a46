"""Running checks: one report per set of inputs, a current report per batch, queued checks, activation."""

import pytest
from django.apps import apps
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction

from batches import models as m
from batches.checklist import active_checklist_version, evaluate_batch
from batches.models.checklist import ChecklistActivation, CurrentChecklistReport
from batches.selectors import checklist_current_scores, checklist_latest_report, study_checklist_latest_report
from batches.services.checklist import (
    batch_check_many,
    batch_check_queue,
    batch_check_run,
    checklist_activate,
    study_check_queue,
    study_check_run,
)
from batches.services.lifecycle import batch_submit
from tests import factories as f
from tests.batches.checklist.builders import complete_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def batch(lab, technician):
    return complete_batch(lab, technician, product_type="EV")


def test_a_check_writes_a_report_with_the_evaluation(batch):
    report = batch_check_run(batch_id=batch.pk)
    evaluation = evaluate_batch(batch)
    assert report.batch_id == batch.pk and report.lab_id == batch.lab_id
    assert report.checklist_version == active_checklist_version() == evaluation.version
    assert report.fingerprint == evaluation.fingerprint and len(report.fingerprint) == 64
    assert report.score == 100.0
    assert len(report.items) == len(evaluation.items)
    assert {"item_id", "status", "message", "field", "label", "value", "level"} <= set(report.items[0])
    assert {g["gate_id"] for g in report.gates} == {g.gate_id for g in evaluation.gates}


def test_the_same_inputs_never_make_a_second_report(batch):
    first = batch_check_run(batch_id=batch.pk)
    again = batch_check_run(batch_id=batch.pk)
    assert again.pk == first.pk
    assert m.ChecklistReport.objects.filter(batch=batch).count() == 1
    assert not m.BatchEvent.objects.filter(batch=batch, kind="checked").exists()  # the report is the record


def test_the_database_refuses_a_second_report_with_the_same_fingerprint(batch):
    report = batch_check_run(batch_id=batch.pk)
    with pytest.raises(IntegrityError), transaction.atomic():
        m.ChecklistReport.objects.create(
            lab=batch.lab,
            batch=batch,
            checklist_version=report.checklist_version,
            score=1,
            fingerprint=report.fingerprint,
        )


def test_a_change_to_what_the_checklist_reads_makes_a_new_current_report(batch):
    before = batch_check_run(batch_id=batch.pk)
    m.SecretomeBatch.objects.filter(pk=batch.pk).update(conditioning_o2_percent=None)
    after = batch_check_run(batch_id=batch.pk)
    assert after.pk != before.pk and after.score < before.score
    assert checklist_latest_report(batch=batch) == after
    missing = next(i for i in after.items if i["item_id"] == "sp_conditioning_o2")
    assert missing["status"] == "missing" and missing["field"] == "conditioning_o2_percent"


def test_an_undone_change_brings_the_earlier_report_back_as_current(batch):
    original = batch_check_run(batch_id=batch.pk)
    m.SecretomeBatch.objects.filter(pk=batch.pk).update(conditioning_o2_percent=5)
    changed = batch_check_run(batch_id=batch.pk)
    m.SecretomeBatch.objects.filter(pk=batch.pk).update(conditioning_o2_percent=21)
    assert batch_check_run(batch_id=batch.pk) == original
    assert checklist_latest_report(batch=batch) == original != changed
    assert m.ChecklistReport.objects.filter(batch=batch).count() == 2


def test_a_lifecycle_change_is_not_an_input(batch, technician):
    report = batch_check_run(batch_id=batch.pk)
    batch_submit(batch=batch, actor=technician)
    assert batch_check_run(batch_id=batch.pk) == report


def test_two_batches_with_identical_records_get_separate_reports(lab, technician):
    one = complete_batch(lab, technician)
    two = f.SecretomeBatchFactory(lab=lab, passage=one.passage, priming=one.priming)
    assert batch_check_many(batch_ids=[one.pk, two.pk]) == 2
    assert m.ChecklistReport.objects.count() == 2


def test_a_chunk_check_writes_only_the_reports_that_changed(lab, technician):
    batches = [complete_batch(lab, technician) for _ in range(3)]
    ids = [b.pk for b in batches]
    assert batch_check_many(batch_ids=ids) == 3
    m.SecretomeBatch.objects.filter(pk=ids[1]).update(harvest_viable_cells=None)
    assert batch_check_many(batch_ids=ids) == 1
    assert batch_check_many(batch_ids=ids) == 0
    scores = checklist_current_scores(batch_ids=ids)
    assert scores[ids[0]] == 100.0 and scores[ids[1]] < 100.0


def test_checking_a_batch_that_does_not_exist_says_so():
    with pytest.raises(m.SecretomeBatch.DoesNotExist):
        batch_check_run(batch_id=987654)


def test_no_report_yet_means_no_latest_report(batch):
    assert checklist_latest_report(batch=batch) is None


def test_queued_checks_run_once_the_transaction_commits(batch, technician, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        assert batch_check_queue(batch_ids=[batch.pk, batch.pk], actor=technician) == [batch.pk]
    assert not m.ChecklistReport.objects.exists()
    for callback in callbacks:
        callback()
    assert checklist_latest_report(batch=batch).score == 100.0


def test_queuing_a_check_needs_a_role_in_the_batch_lab(batch, outsider):
    with pytest.raises(PermissionDenied):
        batch_check_queue(batch_ids=[batch.pk], actor=outsider)


def test_queuing_an_unknown_batch_names_the_field():
    with pytest.raises(ValidationError) as error:
        batch_check_queue(batch_ids=[424242])
    assert "batch_ids" in error.value.message_dict
    with pytest.raises(ValidationError) as error:
        batch_check_queue(batch_ids=["twelve"])
    assert "batch_ids" in error.value.message_dict


def test_a_study_check_reports_dose_and_outcomes_per_administration(lab, batch):
    study = f.StudyFactory(lab=lab)
    f.AdministrationFactory(lab=lab, study=study, batch=batch, group="EV")
    report = study_check_run(study_id=study.pk)
    assert report.study_id == study.pk and report.batch_id is None
    assert set(report.score_by_category) == {"dose_administration", "outcomes"}
    route = next(i for i in report.items if i["item_id"] == "da_route")
    assert route["subject"].startswith("administration #") and batch.code in route["subject"]
    assert study_checklist_latest_report(study=study) == report
    assert study_check_run(study_id=study.pk) == report


def test_a_study_without_administrations_misses_every_dose_item(lab):
    study = f.StudyFactory(lab=lab)
    report = study_check_run(study_id=study.pk)
    dose_items = [i for i in report.items if i["category"] == "dose_administration" and i["item_id"] != "da_animals"]
    assert dose_items and all(i["status"] == "missing" and i["field"] == "administrations" for i in dose_items)


def test_queuing_a_study_check_runs_it_on_commit(lab, technician, django_capture_on_commit_callbacks):
    study = f.StudyFactory(lab=lab)
    with django_capture_on_commit_callbacks(execute=True):
        study_check_queue(study_ids=[study.pk], actor=technician)
    assert study_checklist_latest_report(study=study) is not None


def test_only_a_superuser_activates_a_checklist_version(lab_admin):
    with pytest.raises(PermissionDenied):
        checklist_activate(version="secretome-minimal-v1", actor=lab_admin)


def test_activating_an_unknown_version_names_the_field():
    with pytest.raises(ValidationError) as error:
        checklist_activate(version="secretome-minimal-v99")
    assert "version" in error.value.message_dict


def test_activating_the_version_in_force_is_idempotent(batch, django_capture_on_commit_callbacks):
    admin = f.UserFactory(username="root", is_superuser=True, is_staff=True)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        first = checklist_activate(version="secretome-minimal-v1", actor=admin, note="initial")
        again = checklist_activate(version="secretome-minimal-v1", actor=admin)
    assert first == again and ChecklistActivation.objects.count() == 1
    # The first version was already in force before any activation: nothing to re-check.
    assert not callbacks and not m.ChecklistReport.objects.exists()
    assert active_checklist_version() == "secretome-minimal-v1"


def test_activating_another_version_re_checks_every_batch(batch, django_capture_on_commit_callbacks):
    # As if a later version had been in force: going back to v1 is a change of version too.
    ChecklistActivation.objects.create(version="secretome-minimal-v2")
    with django_capture_on_commit_callbacks(execute=True):
        checklist_activate(version="secretome-minimal-v1")
    assert CurrentChecklistReport.objects.get(batch=batch).report.checklist_version == "secretome-minimal-v1"


def test_a_report_is_stored_compactly_and_reads_back_as_the_evaluation(lab, technician):
    one, two = complete_batch(lab, technician), complete_batch(lab, technician)
    batch_check_many(batch_ids=[one.pk, two.pk])
    first, second = (checklist_latest_report(batch=b) for b in (one, two))
    evaluation = evaluate_batch(one)
    assert first.items == [item.as_dict() for item in evaluation.items]
    assert first.gates == [gate.as_dict() for gate in evaluation.gates]
    assert len(first.statuses) == len(first.items) and set(first.statuses) <= set("smin")
    assert first.values == [] and bytes(first.packed_values)  # the values travel compressed
    # Two batches whose records say the same things share every explanation, stored once, except where the
    # explanation holds a value read from each batch's own cell line, donor or priming (values many batches
    # of one cell line share).
    shared = {i for i in range(len(first.explanations)) if first.details["shared"] >> i & 1}
    assert first.details["shared"] == second.details["shared"] and shared
    assert [pk for i, pk in enumerate(first.explanations) if i not in shared] == [
        pk for i, pk in enumerate(second.explanations) if i not in shared
    ]
    assert m.ChecklistExplanation.objects.count() == len(set(first.explanations) | set(second.explanations))
    with pytest.raises(LookupError):  # reports are not copied into a history table
        apps.get_model("batches", "ChecklistReportHistory")


def test_a_report_cannot_be_changed_and_is_sealed_in_the_audit_chain_directly(batch):
    from lims.audit_chain import AuditSeal, seal_pending, verify_default_database

    report = batch_check_run(batch_id=batch.pk)
    with pytest.raises(Exception, match="Cannot update"), transaction.atomic():
        m.ChecklistReport.objects.filter(pk=report.pk).update(score=1)
    with transaction.atomic():
        from django.db import connection

        with connection.cursor() as cursor:
            seal_pending(cursor)
    assert AuditSeal.objects.filter(table_name="batches_checklistreport", row_key=str(report.pk)).count() == 1
    for pk in report.explanations:
        assert AuditSeal.objects.filter(table_name="batches_checklistexplanation", row_key=str(pk)).exists()
    assert verify_default_database().ok
    # The database owner turns triggers off and rewrites the report: the seal no longer matches.
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute("UPDATE batches_checklistreport SET score = 100, statuses = '' WHERE id = %s", [report.pk])
        cursor.execute("SET LOCAL session_replication_role = origin")
    problems = verify_default_database().problems
    assert [(p.table, p.row_key, p.kind) for p in problems] == [("batches_checklistreport", str(report.pk), "altered")]


VALUES = [
    None,
    "SB-001",
    {"id": 7, "code": "SB-001-A1", "state": "frozen", "temperature_c": -80.0, "ä": "µg/mL", "zz": {"b": 1, "a": 2}},
    [1e16, 1.5e16, -0.0, 1e-05, 1.5e-07, 30000000000.0, 100.0, 0.1, 2**63, -3, True, False, ""],
    {"a very long key name": [], "k": {}, "éé": "snowman ☃", "ab": None},
]


def test_packed_values_read_back_as_jsonb_gave_them(db):
    """Same keys in the same order, same numbers of the same types: the API shows the same bytes as before."""
    import json

    from django.db import connection

    from batches.checklist import storage

    with connection.cursor() as cursor:
        cursor.execute("SELECT %s::jsonb", [json.dumps(VALUES)])
        (through_jsonb,) = cursor.fetchone()
    if isinstance(through_jsonb, str):
        through_jsonb = json.loads(through_jsonb)
    packed = storage.unpack_values(storage.pack_values(VALUES))
    assert json.dumps(packed, ensure_ascii=False) == json.dumps(through_jsonb, ensure_ascii=False)
    assert [type(v) for v in packed[3]] == [type(v) for v in through_jsonb[3]]
    with pytest.raises(ValueError):
        storage.unpack_values(b"\x02" + storage.pack_values(VALUES)[1:])


def test_the_dictionary_of_packed_values_never_changes():
    """Every report packed with format 1 needs these exact bytes to be read back."""
    import hashlib

    from batches.checklist.packed_dictionary import DICTIONARY

    assert hashlib.sha256(DICTIONARY).hexdigest() == "82164a53b93e5f873e3994507d304879e925bf425f2549d67ad1c0348a3065f1"


def test_a_report_written_before_packed_values_reads_back_the_same(batch):
    """Reports written before migration 0022 keep their values as jsonb (packed_values NULL)."""
    import json

    from django.db import connection

    from batches.checklist import storage

    report = batch_check_run(batch_id=batch.pk)
    values = storage.unpack_values(report.packed_values)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO batches_checklistreport (lab_id, batch_id, checklist_version, score, score_by_category, "
            'statuses, explanations, "values", details, fingerprint, created_at) '
            "SELECT lab_id, batch_id, checklist_version, score, score_by_category, statuses, explanations, %s::jsonb, "
            "details, %s, created_at FROM batches_checklistreport WHERE id = %s RETURNING id",
            [json.dumps(values), "0" * 64, report.pk],
        )
        (old_id,) = cursor.fetchone()
    old = m.ChecklistReport.objects.get(pk=old_id)
    assert old.packed_values is None and old.values
    fresh = m.ChecklistReport.objects.get(pk=report.pk)
    assert json.dumps(old.items) == json.dumps(fresh.items) and json.dumps(old.gates) == json.dumps(fresh.gates)


def test_rewritten_packed_values_break_the_seal(batch):
    from django.db import connection

    from lims.audit_chain import seal_pending, verify_default_database

    report = batch_check_run(batch_id=batch.pk)
    with connection.cursor() as cursor:
        seal_pending(cursor)
    assert verify_default_database().ok
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        cursor.execute(
            "UPDATE batches_checklistreport SET packed_values = packed_values || '\\x00'::bytea WHERE id = %s",
            [report.pk],
        )
        cursor.execute("SET LOCAL session_replication_role = origin")
    problems = verify_default_database().problems
    assert [(p.table, p.row_key, p.kind) for p in problems] == [("batches_checklistreport", str(report.pk), "altered")]
