"""Filling the downloaded templates the way a lab would."""

import csv
import io
from typing import Any

from openpyxl import load_workbook

from batches.imports import workbooks
from batches.imports.sheets import sheet_for


def lineage_row(i: int) -> dict[str, Any]:
    """Row i of a realistic lineage sheet: 10 rows per cell line, 2 cell lines per donor, passages 3 → 4."""
    cell_line = i // 10
    number = 3 if i % 10 < 5 else 4
    primed = i % 2 == 1
    return {
        "Donor code": f"D-{cell_line // 2:03d}",
        "Donor species": "Human",
        "Donor tissue source": "Umbilical cord (UC-MSC)",
        "Donor age (years)": "34" if cell_line % 2 == 0 else None,
        "Cell line code": f"CL-{cell_line:03d}",
        "Cell line isolation method": "Explant culture",
        "Cell line basal medium": "α-MEM",
        "Cell line antibiotics": "None",
        "Cell line supplement": "Human platelet lysate (hPL)",
        "Cell line supplement (%)": "5",
        "Passage number": number,
        "Passage parent number": 3 if number == 4 else None,
        "Passage started on": "01/03/2024" if number == 3 else "2024-03-08",
        "Passage vessel": "T175 flask",
        "Passage area (cm²)": "175",
        "Passage cells seeded (cells)": "875,000",
        "Priming name": "IFN-γ 25 ng/mL 48 h" if primed else "No priming",
        "Priming kind": "Cytokine priming" if primed else "No priming",
        "Priming agent 1": "IFN-γ" if primed else None,
        "Priming agent 1 concentration": "25" if primed else None,
        "Priming agent 1 concentration unit": "ng/mL" if primed else None,
        "Batch code": f"B-{i:04d}",
        "Batch product type": "Whole conditioned medium (CM)",
        "Batch intended use": "In vivo (animals)",
        "Batch conditioning volume (mL)": "20,5",
        "Batch conditioning time (h)": "48",
        "Batch serum free": "yes",
        "Batch collected at": "12/03/2024 14:30",
        "Step 1 kind": "Centrifugation",
        "Step 1 g-force (× g)": "2 000",
        "Step 1 duration (min)": "10",
        "Step 1 temperature (°C)": "4",
        "Step 2 kind": "Filtration",
        "Step 2 pore size (µm)": "0.22",
        "Aliquots": 2,
        "Aliquot volume (µL)": "500",
        "Aliquot container": "Cryovial",
        "Aliquot state": "Frozen",
        "Aliquot temperature (°C)": "-80",
    }


def filled_xlsx(kind: str, rows: list[dict[str, Any]]) -> bytes:
    """The XLSX template of `kind` as downloaded, with `rows` typed under the matching headings."""
    workbook = load_workbook(io.BytesIO(workbooks.template_xlsx(sheet_for(kind))))
    sheet = workbook.worksheets[0]
    positions = {cell.value: cell.column for cell in sheet[1]}
    for offset, row in enumerate(rows, start=2):
        for heading, value in row.items():
            if value is not None:
                sheet.cell(row=offset, column=positions[heading], value=value)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def filled_csv(kind: str, rows: list[dict[str, Any]], *, delimiter: str = ",", encoding: str = "utf-8-sig") -> bytes:
    headings = next(csv.reader(io.StringIO(workbooks.template_csv(sheet_for(kind)).decode("utf-8-sig"))))
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    writer.writerow(headings)
    for row in rows:
        writer.writerow(["" if row.get(h) is None else row[h] for h in headings])
    return buffer.getvalue().encode(encoding)


def read_csv(content: bytes) -> list[list[str]]:
    return list(csv.reader(io.StringIO(content.decode("utf-8-sig"))))
