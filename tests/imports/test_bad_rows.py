"""A file with bad rows saves nothing, lists exactly those rows and columns, and its error file round-trips."""

import csv
import io

import pytest
from openpyxl import load_workbook

from batches import models as m
from batches.imports.files import IGNORED_HEADING
from batches.imports.services import import_errors_file, import_start
from tests.imports.support import filled_csv, filled_xlsx, lineage_row, read_csv

pytestmark = pytest.mark.django_db

BAD_CELLS = {
    3: ("Batch conditioning volume (mL)", "twenty", "'twenty' is not a number"),
    5: ("Passage started on", "31/02/2024", "'31/02/2024' is not a real date"),
    6: ("Batch product type", "Plasma", "'Plasma' is not one of the allowed values"),
    8: ("Aliquot temperature (°C)", "-300", "Must be between -200 and 40."),
    10: ("Batch serum free", "maybe", "'maybe' is not yes or no"),
}
FIXES = {3: "20", 5: "01/03/2024", 6: "EV", 8: "-80", 10: "no"}


def _rows():
    rows = [lineage_row(i) for i in range(10)]
    for row_number, (heading, value, _) in BAD_CELLS.items():
        rows[row_number - 2][heading] = value
    return rows


def _counts(lab):
    return [model.objects.filter(lab=lab).count() for model in (m.Donor, m.CellLine, m.SecretomeBatch, m.Aliquot)]


def test_five_bad_rows_are_listed_exactly_and_nothing_is_saved(lab, technician):
    run = import_start(
        lab=lab,
        actor=technician,
        kind="lineage",
        filename="bad.csv",
        content=filled_csv("lineage", _rows()),
        dry_run=False,
    )

    assert run.status == m.ImportStatus.FAILED
    assert [(error["row"], error["heading"]) for error in run.errors] == [
        (row, heading) for row, (heading, _, _) in sorted(BAD_CELLS.items())
    ]
    for error in run.errors:
        assert BAD_CELLS[error["row"]][2] in error["message"]
    assert _counts(lab) == [0, 0, 0, 0]


def test_the_csv_error_file_is_the_original_with_an_error_column_and_comes_back_fixed(lab, technician):
    run = import_start(
        lab=lab,
        actor=technician,
        kind="lineage",
        filename="bad.csv",
        content=filled_csv("lineage", _rows()),
        dry_run=True,
    )
    content, content_type, name = import_errors_file(run=run, file_format="csv")

    assert content.startswith(b"\xef\xbb\xbf") and content_type.startswith("text/csv") and name == "bad-errors.csv"
    rows = read_csv(content)
    assert rows[0][-1] == IGNORED_HEADING
    flagged = {number for number, row in enumerate(rows, start=1) if number > 1 and row[-1]}
    assert flagged == set(BAD_CELLS)
    assert "Passage started on: '31/02/2024' is not a real date" in rows[4][-1]

    headings = rows[0]
    for number, value in FIXES.items():
        rows[number - 1][headings.index(BAD_CELLS[number][0])] = value
    buffer = io.StringIO()
    csv.writer(buffer).writerows(rows)
    fixed = import_start(
        lab=lab,
        actor=technician,
        kind="lineage",
        filename="bad-errors.csv",
        content=buffer.getvalue().encode("utf-8-sig"),
        dry_run=False,
    )

    assert fixed.status == m.ImportStatus.COMMITTED, fixed.errors
    assert fixed.result["unknown_columns"] == []
    assert _counts(lab) == [1, 1, 10, 20]
    assert m.SecretomeBatch.objects.get(lab=lab, code="B-0004").product_type == "EV"


def test_the_xlsx_error_file_highlights_the_bad_cells_and_comes_back_fixed(lab, technician):
    run = import_start(
        lab=lab,
        actor=technician,
        kind="lineage",
        filename="bad.xlsx",
        content=filled_xlsx("lineage", _rows()),
        dry_run=True,
    )
    content, _, name = import_errors_file(run=run, file_format="xlsx")

    assert name == "bad-errors.xlsx"
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    positions = {cell.value: cell.column for cell in sheet[1]}
    red = {
        (cell.row, sheet.cell(row=1, column=cell.column).value)
        for row in sheet.iter_rows(min_row=2)
        for cell in row
        if cell.fill.fgColor.rgb == "00FFC7CE"
    }
    assert red == {(row, heading) for row, (heading, _, _) in BAD_CELLS.items()}
    assert sheet.cell(row=8, column=positions[IGNORED_HEADING]).value.startswith("Aliquot temperature (°C): Must be")
    assert workbook.sheetnames[:2] == ["Lineage (one row per batch)", "Columns"]

    for number, value in FIXES.items():
        sheet.cell(row=number, column=positions[BAD_CELLS[number][0]], value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    fixed = import_start(
        lab=lab, actor=technician, kind="lineage", filename="bad-errors.xlsx", content=buffer.getvalue(), dry_run=True
    )

    assert fixed.status == m.ImportStatus.CHECKED, fixed.errors
    assert fixed.result["totals"]["create"] > 0
