"""A sheet is written a chunk at a time: few queries, the same rules, the same errors, nothing half-saved."""

import re
from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from batches import models as m
from batches.imports.engine import run_sheet
from batches.imports.files import read_table
from batches.imports.services import import_execute, import_start
from batches.imports.sheets import sheet_for
from lims.audit import history_model
from protocols.models import Deviation, ProtocolVersion
from tests import factories as f
from tests.imports.support import filled_csv, lineage_row

pytestmark = pytest.mark.django_db

RECORDS = [m.Donor, m.CellLine, m.Passage, m.PrimingCondition, m.SecretomeBatch, m.ProcessingStep, m.Aliquot]


def _counts(lab):
    return [model.objects.filter(lab=lab).count() for model in RECORDS]


def _import(lab, actor, rows, *, dry_run=False):
    return import_start(
        lab=lab,
        actor=actor,
        kind="lineage",
        filename="lineage.csv",
        content=filled_csv("lineage", rows),
        dry_run=dry_run,
        reason="Moving the notebook in",
    )


def _inserts(queries) -> Counter:
    return Counter(
        match[1] for query in queries if (match := re.search(r'INSERT INTO "(batches_\w+)"', query["sql"])) is not None
    )


def test_rows_of_one_cell_line_over_several_chunks_make_one_lineage(lab, technician, settings):
    settings.IMPORT_CHUNK_ROWS = 7  # cell line CL-000 (rows 0-9) and its passages span two chunks
    rows = [lineage_row(i) for i in range(30)]

    run = _import(lab, technician, rows)

    assert run.status == m.ImportStatus.COMMITTED, run.errors[:5]
    assert _counts(lab) == [2, 3, 6, 2, 30, 60, 60]
    passage = m.Passage.objects.get(lab=lab, cell_line__code="CL-000", number=4)
    assert passage.parent == m.Passage.objects.get(lab=lab, cell_line__code="CL-000", number=3)
    assert set(
        m.SecretomeBatch.objects.filter(lab=lab, passage__cell_line__code="CL-000").values_list("passage", flat=True)
    ) == {
        passage.parent_id,
        passage.pk,
    }
    assert m.BatchEvent.objects.filter(lab=lab, kind="created").count() == 30
    assert m.PrimingAgent.objects.filter(lab=lab).count() == 1
    inserted = history_model(m.Aliquot).objects.filter(pgh_label="insert")
    assert inserted.count() == 60
    assert {event.pgh_context.metadata["import_id"] for event in inserted} == {str(run.pk)}

    again = _import(lab, technician, rows)
    assert again.status == m.ImportStatus.COMMITTED
    assert again.result["totals"] == {"create": 0, "update": 0, "unchanged": 2 + 3 + 6 + 2 + 30 + 60 + 60}


def test_the_commit_writes_each_kind_of_record_with_one_insert_per_chunk(lab, technician, other_lab, outsider):
    sheet = sheet_for("lineage")
    small = read_table(filename="small.csv", content=filled_csv("lineage", [lineage_row(i) for i in range(20)]))
    large = read_table(filename="large.csv", content=filled_csv("lineage", [lineage_row(i) for i in range(80)]))

    with CaptureQueriesContext(connection) as small_queries:
        assert run_sheet(sheet=sheet, table=small, lab=lab, actor=technician, commit=True).committed
    with CaptureQueriesContext(connection) as large_queries:
        assert run_sheet(sheet=sheet, table=large, lab=other_lab, actor=outsider, commit=True).committed

    # Four times the rows, the same statements: the records of a chunk are read and inserted together.
    assert len(large_queries) == len(small_queries)
    assert _inserts(large_queries) == _inserts(small_queries)
    assert _inserts(large_queries)["batches_aliquot"] == 1
    assert _inserts(large_queries)["batches_secretomebatch"] == 1


def test_new_batches_whose_priming_follows_an_sop_get_their_deviations(lab, technician, reviewer):
    version = f.ProtocolVersionFactory(lab=lab, protocol__category="priming")
    f.ProtocolParameterFactory(
        lab=lab,
        protocol_version=version,
        name="ifn_gamma_concentration",
        unit="ng/mL",
        default="10",
        min_value=10,
        max_value=20,
    )
    ProtocolVersion.objects.filter(pk=version.pk).update(
        status="effective", approved_by=reviewer, approved_at=timezone.now()
    )
    version.refresh_from_db()
    priming = f.PrimingConditionFactory(lab=lab, name="IFN-γ 25 ng/mL 48 h", kind="cytokine", protocol_version=version)
    f.PrimingAgentFactory(lab=lab, priming=priming)  # 25 ng/mL: above the SOP's 10–20 ng/mL

    with CaptureQueriesContext(connection) as queries:
        run = _import(lab, technician, [lineage_row(i) for i in range(12)])

    assert run.status == m.ImportStatus.COMMITTED, run.errors[:5]
    assert _inserts(queries)["batches_secretomebatch"] == 1  # the batches went in together
    primed = m.SecretomeBatch.objects.filter(lab=lab, priming=priming)
    assert primed.count() == 6
    deviations = Deviation.objects.filter(lab=lab)
    assert sorted(deviations.values_list("batch__code", flat=True)) == sorted(primed.values_list("code", flat=True))
    assert {(d.parameter, d.expected, d.actual, d.status) for d in deviations} == {
        ("ifn_gamma_concentration", "10–20 ng/mL", "25 ng/mL", "open")
    }


def test_a_value_the_database_refuses_in_a_later_chunk_is_named_and_nothing_is_kept(lab, technician, settings):
    settings.IMPORT_CHUNK_ROWS = 5
    rows = [lineage_row(i) for i in range(12)]
    rows[10]["Aliquot temperature (°C)"] = "-300"  # a check constraint of the database
    rows[3]["Batch collected at"] = "01/01/2024 09:00"  # before its passage was seeded: a plausibility rule

    run = _import(lab, technician, rows, dry_run=False)

    assert run.status == m.ImportStatus.FAILED
    assert [(error["row"], error["heading"]) for error in run.errors] == [
        (5, "Batch collected at"),
        (12, "Aliquot temperature (°C)"),
    ]
    assert "before its producing passage was seeded" in run.errors[0]["message"]
    assert "Must be between -200 and 40." in run.errors[1]["message"]
    assert _counts(lab) == [0] * len(RECORDS)
    assert not m.BatchEvent.objects.filter(lab=lab).exists()


def test_a_large_file_is_left_to_the_worker_unread_and_the_run_says_what_is_wrong_with_it(lab, technician, settings):
    settings.IMPORT_INLINE_MAX_ROWS = 5
    rows = "".join(f"D-{i:03d},human,Bone marrow\n" for i in range(20)).encode()
    content = b"Code,Species,Tissue source\n" + rows + "D-020,human,Mo\xe9lle osseuse\n".encode("cp1252")
    content += "D-021,human,Moëlle\n".encode()  # UTF-8 after a Windows-1252 line: the file mixes encodings

    run = import_start(lab=lab, actor=technician, kind="donors", filename="donors.csv", content=content, dry_run=False)

    assert run.status == m.ImportStatus.QUEUED and run.total_rows == 22  # counted, not read
    assert import_execute(run_id=run.pk) == m.ImportStatus.FAILED
    run.refresh_from_db()
    assert "donors.csv" in run.errors[0]["message"] and "22" in run.errors[0]["message"]
    assert not m.Donor.objects.filter(lab=lab).exists()
