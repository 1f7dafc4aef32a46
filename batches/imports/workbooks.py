"""The files people download: a template per sheet (XLSX with drop-downs and a Columns sheet, or CSV) and
the uploaded file given back with an error column (CSV in UTF-8 with BOM; XLSX with the bad cells
highlighted), ready to be fixed and uploaded again."""

import csv
import io
from collections import defaultdict
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.styles import Alignment, Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from batches.imports import values
from batches.imports.files import IGNORED_HEADING, data_sheet, decode_text, open_workbook
from batches.imports.sheets import Sheet

TEMPLATE_ROWS = 5000  # rows the drop-down lists cover
REQUIRED_FILL = PatternFill("solid", fgColor="FFE8D5")
HEADING_FILL = PatternFill("solid", fgColor="DDE7F0")
BAD_FILL = PatternFill("solid", fgColor="FFC7CE")
BAD_FONT = Font(color="9C0006")
BOOLEAN_LIST = '"yes,no,unknown"'

_KIND_OF_VALUE = {
    values.number: "number (decimal point or comma)",
    values.whole_number: "whole number",
    values.date: "date: 2024-12-31 or 31/12/2024 (day first)",
    values.date_time: "date and time: 2024-12-31 14:30",
    values.boolean: "yes / no / unknown",
}


def _what_to_write(column) -> str:
    if column.choices:
        return "one of: " + "; ".join(label for _, label in column.choices)
    return _KIND_OF_VALUE.get(column.reader, "text")


def template_csv(sheet: Sheet) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer).writerow([column.heading for column in sheet.columns])
    return buffer.getvalue().encode("utf-8-sig")


def template_xlsx(sheet: Sheet) -> bytes:
    workbook = Workbook()
    data = workbook.active
    data.title = sheet.title[:31].replace("/", " ")
    explained = workbook.create_sheet("Columns")
    lists = workbook.create_sheet("Lists")
    lists.sheet_state = "hidden"
    list_column = 0
    for index, column in enumerate(sheet.columns, start=1):
        cell = data.cell(row=1, column=index, value=column.heading)
        cell.font = Font(bold=True)
        cell.fill = REQUIRED_FILL if column.required else HEADING_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.comment = Comment(column.help[:500] or column.heading, "Secretome LIMS")
        data.column_dimensions[get_column_letter(index)].width = max(12, min(40, len(column.heading) + 2))
        letter = get_column_letter(index)
        target = f"{letter}2:{letter}{TEMPLATE_ROWS + 1}"
        if column.choices:
            list_column += 1
            list_letter = get_column_letter(list_column)
            lists.cell(row=1, column=list_column, value=column.heading)
            for offset, (_, label) in enumerate(column.choices, start=2):
                lists.cell(row=offset, column=list_column, value=label)
            formula = f"=Lists!${list_letter}$2:${list_letter}${len(column.choices) + 1}"
            validation = DataValidation(type="list", formula1=formula, allow_blank=True)
        elif column.reader is values.boolean:
            validation = DataValidation(type="list", formula1=BOOLEAN_LIST, allow_blank=True)
        else:
            continue
        validation.error = f"Choose a value from the list for '{column.heading}' (or leave it empty)."
        validation.errorTitle = "Not an allowed value"
        validation.showErrorMessage = True
        data.add_data_validation(validation)
        validation.add(target)
    data.freeze_panes = "A2"
    explained.append(["Heading", "Section", "Unit", "Required for a new record", "What to write", "Description"])
    for cell in explained[1]:
        cell.font = Font(bold=True)
    for section in sheet.sections:
        for column in section.columns:
            explained.append(
                [
                    column.heading,
                    section.title,
                    column.unit,
                    "yes" if column.required else "",
                    _what_to_write(column),
                    column.help,
                ]
            )
    explained.append([])
    explained.append(
        [
            "Empty cells, N/A, n.d. and - mean not recorded. Records are matched by their codes: importing the "
            "same file again changes nothing. Dates: 2024-12-31 or 31/12/2024 (day first). Numbers may use a "
            "decimal comma and thousands separators."
        ]
    )
    for letter, width in zip("ABCDEF", (34, 18, 10, 12, 50, 70), strict=True):
        explained.column_dimensions[letter].width = width
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


# --- The error file -----------------------------------------------------------------------------------


def _messages_by_row(errors: list[dict[str, Any]]) -> dict[int, list[dict[str, Any]]]:
    by_row: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for error in errors:
        by_row[error["row"]].append(error)
    return by_row


def _row_text(errors: list[dict[str, Any]]) -> str:
    return " | ".join(f"{e['heading']}: {e['message']}" if e["heading"] else e["message"] for e in errors)


def _grid(*, filename: str, content: bytes, delimiter: str) -> tuple[list[list[Any]], str]:
    if content.startswith(b"PK\x03\x04"):
        workbook = open_workbook(filename=filename, content=content)
        try:
            rows = [list(row) for row in data_sheet(workbook).iter_rows(values_only=True)]
        finally:
            workbook.close()
        return rows, ","
    text, _ = decode_text(filename=filename, content=content)
    return list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)), delimiter


def _without_error_column(rows: list[list[Any]]) -> tuple[list[list[Any]], int]:
    """Drop the error column of an earlier error file, so the new one replaces it; (rows, its width)."""
    heading = rows[0] if rows else []
    drop = [i for i, value in enumerate(heading) if isinstance(value, str) and value.strip() == IGNORED_HEADING]
    if drop:
        rows = [[value for i, value in enumerate(row) if i not in drop] for row in rows]
    return rows, max((len(row) for row in rows), default=0)


def errors_csv(*, filename: str, content: bytes, errors: list[dict[str, Any]], delimiter: str = ",") -> bytes:
    rows, delimiter = _grid(filename=filename, content=content, delimiter=delimiter)
    rows, width = _without_error_column(rows)
    by_row = _messages_by_row(errors)
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=delimiter)
    for number, row in enumerate(rows, start=1):
        padded = ["" if value is None else value for value in row] + [""] * (width - len(row))
        if number == 1:
            writer.writerow([*padded, IGNORED_HEADING])
        else:
            writer.writerow([*padded, _row_text(by_row.get(number, []))])
    return buffer.getvalue().encode("utf-8-sig")


def errors_xlsx(*, filename: str, content: bytes, errors: list[dict[str, Any]], delimiter: str = ",") -> bytes:
    """The workbook as uploaded (or the CSV as a workbook), bad cells filled red with the message as a note."""
    by_row = _messages_by_row(errors)
    if content.startswith(b"PK\x03\x04"):
        workbook = open_workbook(filename=filename, content=content, read_only=False)
        sheet = data_sheet(workbook)
        heading = [cell.value for cell in sheet[1]]
        for index, value in enumerate(heading, start=1):
            if isinstance(value, str) and value.strip() == IGNORED_HEADING:
                sheet.delete_cols(index)
                break
        error_column = sheet.max_column + 1
    else:
        rows, _ = _grid(filename=filename, content=content, delimiter=delimiter)
        rows, width = _without_error_column(rows)
        workbook = Workbook()
        sheet = workbook.active
        sheet.title = "Data"
        for row in rows:
            sheet.append(list(row))
        error_column = width + 1
    header = sheet.cell(row=1, column=error_column, value=IGNORED_HEADING)
    header.font = Font(bold=True, color="9C0006")
    sheet.column_dimensions[get_column_letter(error_column)].width = 60
    for number, row_errors in by_row.items():
        if number < 2:
            continue
        sheet.cell(row=number, column=error_column, value=_row_text(row_errors)).font = BAD_FONT
        for error in row_errors:
            if not error["column"]:
                continue
            cell = sheet[f"{error['column']}{number}"]
            cell.fill = BAD_FILL
            cell.comment = Comment(error["message"][:500], "Import")
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
