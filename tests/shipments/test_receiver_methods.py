"""The receiving lab's methods text and studies table describe the producer's secretome from the provenance
snapshot shipped to it: never from the producer's live records, and a later correction only once taken."""

import io
import json
import zipfile

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from batches.exports.methods import batches_methods_export, render, study_methods_export
from batches.exports.studies_table import table_rows
from batches.models import ProvenanceSnapshot, SecretomeBatch, Study
from batches.services.corrections import batch_correct
from batches.shipments.selectors import snapshots_for_study
from batches.shipments.services import impact_notice_acknowledge
from tests import factories as f
from tests.shipments.conftest import released_and_verified, ship_and_receive, use_in_study

pytestmark = pytest.mark.django_db

# Tables only the producer's records live in: the receiving lab's export must not read them.
PRODUCER_TABLES = (
    "batches_processingstep",
    "batches_qcresult",
    "batches_passage",
    "batches_cellline",
    "batches_donor",
    "batches_primingcondition",
    "protocols_deviation",
)


def _methods(study) -> tuple[dict, str]:
    export = study_methods_export(study=study)
    return export, render(export, "md").content.decode()


@pytest.fixture
def used(partners, lab, technician, reviewer, receiving_lab, receiver_tech):
    batch = released_and_verified(lab, technician, reviewer)
    shipment = ship_and_receive(lab, technician, reviewer, receiving_lab, receiver_tech, list(batch.aliquots.all()))
    return batch, shipment, use_in_study(receiving_lab, receiver_tech)


def test_the_receivers_methods_text_states_the_producers_details_and_both_labs_from_the_snapshot(used):
    batch, shipment, study = used
    snapshot = ProvenanceSnapshot.objects.get(batch=batch)
    export, text = _methods(study)

    assert export["records"]["batches"] == [{**snapshot.content["records"]["batches"][0], "produced_by": "Pain Lab"}]
    assert "produced and characterised by Pain Lab" in text
    assert f"shipped on dry ice to Pain Pharmacology Lab (shipment {shipment.code})" in text
    own_text = render(
        batches_methods_export(batch_ids=[batch.pk], scope=SecretomeBatch.objects.filter(pk=batch.pk)), "md"
    ).content.decode()
    for heading in ("## Secretome production", "## Processing", "## Quality control and characterisation"):
        producer_section = own_text.split(heading, 1)[1].split("\n## ", 1)[0]
        assert heading in text and producer_section in text, heading
    assert f"version 1 shipped in {shipment.code}, fingerprint {snapshot.fingerprint}" in text
    assert export["checklist"]["batches"][batch.code] == snapshot.content["verdict"]


def test_the_receivers_export_reads_none_of_the_producers_records(used):
    _batch, _shipment, study = used
    with CaptureQueriesContext(connection) as captured:
        study_methods_export(study=Study.objects.get(pk=study.pk))
        table_rows(study_ids=[study.pk], scope=Study.objects.filter(pk=study.pk))
    read = [table for table in PRODUCER_TABLES for query in captured if table in query["sql"]]
    assert read == []


def test_a_correction_reaches_the_receivers_text_only_once_the_receiver_takes_it(
    used, reviewer, receiver_tech, django_capture_on_commit_callbacks
):
    batch, _shipment, study = used
    before, text_before = _methods(study)

    with django_capture_on_commit_callbacks(execute=True):
        batch_correct(batch=batch, actor=reviewer, reason="The final volume was entered wrongly")
    notice = batch.impact_notices.get()
    unread, text_unread = _methods(study)
    assert snapshots_for_study(study=study)[batch.pk].snapshot_version == 1
    assert (unread["fingerprint"], text_unread) == (before["fingerprint"], text_before)
    assert "retired" not in text_unread

    impact_notice_acknowledge(notice=notice, actor=receiver_tech)
    taken, text_taken = _methods(study)
    assert snapshots_for_study(study=study)[batch.pk] == notice.snapshot
    assert taken["fingerprint"] != before["fingerprint"]
    assert f"After shipping, Pain Lab retired batch {batch.code}: The final volume was entered wrongly." in text_taken
    assert f"version 2 shipped in {notice.shipment.code}, fingerprint {notice.snapshot.fingerprint}" in text_taken


def test_the_receivers_studies_table_says_who_produced_the_secretome(used):
    _batch, _shipment, study = used
    rows = table_rows(study_ids=[study.pk], scope=Study.objects.filter(pk=study.pk))
    treated = [row for row in rows if row["group"] in {"CM", "CM low"}]
    assert len(treated) == 2
    assert all(row["source"].endswith("; produced by Pain Lab") for row in treated)
    assert all("N/A" not in row["processing_storage"] for row in treated)


def test_a_study_of_the_producing_lab_reads_as_before(lab, technician, reviewer):
    batch = released_and_verified(lab, technician, reviewer)
    study = f.StudyFactory(lab=lab, title="In-house study")
    f.AdministrationFactory(lab=lab, study=study, batch=batch, group="CM")
    export, text = _methods(study)
    assert "producers" not in export["records"] and "produced and characterised by" not in text


def test_the_receivers_ro_crate_credits_both_labs(used, client, receiver_tech):
    batch, _shipment, study = used
    client.force_login(receiver_tech)
    response = client.post(
        "/api/v1/exports/methods", {"study": study.pk, "format": "rocrate"}, content_type="application/json"
    )
    assert response.status_code == 200, response.content[:300]
    metadata = json.loads(zipfile.ZipFile(io.BytesIO(response.content)).read("ro-crate-metadata.json"))
    graph = {entity["@id"]: entity for entity in metadata["@graph"]}
    root = graph["./"]
    assert graph[root["publisher"]["@id"]]["name"] == "Pain Pharmacology Lab"
    assert graph[root["contributor"]["@id"]]["name"] == "Pain Lab"
    assert graph[f"#batch-{batch.code}"]["manufacturer"] == root["contributor"]


def test_a_study_using_its_own_and_a_partners_secretome_says_which_the_partner_produced(used, receiving_lab):
    batch, _shipment, study = used
    own = f.SecretomeBatchFactory(lab=receiving_lab)
    f.AdministrationFactory(lab=receiving_lab, study=study, batch=own, group="Own CM")
    export, text = _methods(study)
    assert [row["code"] for row in export["records"]["batches"]] == sorted([batch.code, own.code])
    assert f"Secretome ({batch.code}) was produced and characterised by Pain Lab as follows" in text
    assert set(export["checklist"]["batches"]) == {batch.code, own.code}
    rows = table_rows(study_ids=[study.pk], scope=Study.objects.filter(pk=study.pk))
    sources = {row["group"]: row["source"] for row in rows}
    assert sources["CM"].endswith("produced by Pain Lab") and "produced by" not in sources["Own CM"]
