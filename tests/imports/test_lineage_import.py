"""The acceptance path: template → 200 rows → dry run → commit → the same file again → one changed cell."""

import io

import pytest
from openpyxl import load_workbook

from batches import models as m
from batches.imports.services import import_commit, import_start
from lims.audit import history_model
from tests.imports.support import filled_xlsx, lineage_row

pytestmark = pytest.mark.django_db

RECORDS = [m.Donor, m.CellLine, m.Passage, m.PrimingCondition, m.SecretomeBatch, m.ProcessingStep, m.Aliquot]


def _counts(lab):
    return {model.__name__: model.objects.filter(lab=lab).count() for model in RECORDS}


def _start(lab, actor, content, *, dry_run, reason="Moving the 2024 spreadsheet in"):
    return import_start(
        lab=lab,
        actor=actor,
        kind="lineage",
        filename="lineage-2024.xlsx",
        content=content,
        dry_run=dry_run,
        reason=reason,
    )


def _change_cell(content: bytes, *, heading: str, row: int, value) -> bytes:
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    column = next(cell.column for cell in sheet[1] if cell.value == heading)
    sheet.cell(row=row, column=column, value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_a_lab_moves_a_200_row_lineage_sheet_in(lab, technician):
    """One flow, as a lab lives it (each step needs the one before; 200 rows are written once)."""
    sheet = filled_xlsx("lineage", [lineage_row(i) for i in range(200)])

    # The dry run finds no error and saves nothing.
    checked = _start(lab, technician, sheet, dry_run=True)
    assert checked.status == m.ImportStatus.CHECKED, checked.errors[:5]
    assert checked.errors == []
    assert checked.result["totals"] == {"create": 10 + 20 + 40 + 2 + 200 + 400 + 400, "update": 0, "unchanged": 0}
    assert checked.result["counts"]["Batch"] == {"create": 200, "update": 0, "unchanged": 0}
    assert all(count == 0 for count in _counts(lab).values())

    # The commit creates every record, audited with the import's context.
    run = import_commit(run=checked, actor=technician)
    assert run.status == m.ImportStatus.COMMITTED, run.errors[:5]
    assert _counts(lab) == {
        "Donor": 10,
        "CellLine": 20,
        "Passage": 40,
        "PrimingCondition": 2,
        "SecretomeBatch": 200,
        "ProcessingStep": 400,
        "Aliquot": 400,
    }
    batch = m.SecretomeBatch.objects.get(lab=lab, code="B-0007")
    assert batch.passage.number == 4 and batch.passage.parent.number == 3
    assert batch.priming.name == "IFN-γ 25 ng/mL 48 h"
    assert batch.conditioning_volume_ml == 20.5
    assert batch.collected_at.isoformat() == "2024-03-12T14:30:00+00:00"
    assert batch.passage.cells_seeded == 875_000
    assert batch.passage.started_on.isoformat() == "2024-03-08"
    assert batch.passage.parent.started_on.isoformat() == "2024-03-01"
    assert batch.processing_steps.get(order=1).g_force == 2000
    assert sorted(batch.aliquots.values_list("code", flat=True)) == ["B-0007-01", "B-0007-02"]
    assert m.PrimingCondition.objects.get(lab=lab, name="IFN-γ 25 ng/mL 48 h").agents.get().concentration == 25
    assert m.Donor.objects.get(lab=lab, code="D-000").age_years == 34
    event = history_model(m.SecretomeBatch).objects.filter(pgh_obj=batch, pgh_label="insert").get()
    assert event.pgh_context.metadata["import_id"] == str(run.pk)
    assert event.pgh_context.metadata["import_file"] == "lineage-2024.xlsx"
    assert event.pgh_context.metadata["import_sha256"] == run.sha256
    assert event.pgh_context.metadata["reason"] == "Moving the 2024 spreadsheet in"
    assert event.pgh_context.metadata["user"] == technician.pk

    # The same file again changes nothing.
    versions = dict(m.SecretomeBatch.objects.filter(lab=lab).values_list("code", "version"))
    events = history_model(m.SecretomeBatch).objects.count()
    again = _start(lab, technician, sheet, dry_run=False)
    assert again.status == m.ImportStatus.COMMITTED
    assert again.result["totals"] == {"create": 0, "update": 0, "unchanged": 1072}
    assert dict(m.SecretomeBatch.objects.filter(lab=lab).values_list("code", "version")) == versions
    assert history_model(m.SecretomeBatch).objects.count() == events

    # One changed cell updates exactly that field, with the import's reason.
    changed = _change_cell(sheet, heading="Batch conditioning time (h)", row=2 + 42, value="24")  # batch B-0042
    run = _start(lab, technician, changed, dry_run=False, reason="Conditioning time re-read from the notebook")
    assert run.status == m.ImportStatus.COMMITTED
    assert run.result["totals"] == {"create": 0, "update": 1, "unchanged": 1071}
    assert run.result["changes"] == [
        {
            "row": 44,
            "record": "Batch",
            "label": "B-0042",
            "action": "update",
            "changes": {"conditioning_time_h": ["48", "24"]},
        }
    ]
    assert m.SecretomeBatch.objects.get(lab=lab, code="B-0042").conditioning_time_h == 24
    updates = history_model(m.SecretomeBatch).objects.filter(pgh_label="update")
    assert updates.count() == 1
    assert updates.get().pgh_context.metadata["reason"] == "Conditioning time re-read from the notebook"
    assert updates.get().pgh_context.metadata["import_id"] == str(run.pk)
    assert history_model(m.Aliquot).objects.filter(pgh_label="update").count() == 0
