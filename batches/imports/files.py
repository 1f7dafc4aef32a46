"""Reading an uploaded spreadsheet (CSV or XLSX) into headings and rows, refusing what is not one.

Every refusal names the file and, where it applies, the row, the column or the part that is wrong, and
the limits (size, rows, columns) come from settings.
"""

import csv
import io
import zipfile
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

IGNORED_HEADING = "Import errors"  # the column the error file adds; ignored when the file comes back

_SIGNATURES = [
    (b"\x89PNG\r\n\x1a\n", "a PNG image"),
    (b"\xff\xd8\xff", "a JPEG image"),
    (b"GIF8", "a GIF image"),
    (b"%PDF", "a PDF document"),
    (b"II*\x00", "a TIFF image"),
    (b"MM\x00*", "a TIFF image"),
    (b"\xd0\xcf\x11\xe0", "an old Excel (.xls) or Word file; save it as .xlsx or .csv"),
    (b"\x1f\x8b", "a gzip archive"),
    (b"BM", None),  # bitmap: checked with the header length below
]


class ImportFileError(ValueError):
    """The file cannot be read as a sheet; the message names the file and where it breaks."""


@dataclass
class Table:
    filename: str
    format: str  # "csv" | "xlsx"
    headings: list[str]
    rows: list[tuple[int, list[Any]]]  # (row number as the spreadsheet shows it, cells)
    sheet_name: str = ""
    delimiter: str = ","
    encoding: str = "utf-8"
    warnings: list[str] = field(default_factory=list)


def _limits() -> tuple[int, int, int]:
    return settings.IMPORT_MAX_BYTES, settings.IMPORT_MAX_ROWS, settings.IMPORT_MAX_COLUMNS


def _megabytes(size: int) -> str:
    return f"{size / 1_000_000:.1f} MB" if size >= 100_000 else f"{size:,} bytes"


def check_size(*, filename: str, size: int) -> None:
    max_bytes, _, _ = _limits()
    if size > max_bytes:
        raise ImportFileError(
            f"{filename}: the file is {_megabytes(size)}; imports take at most {_megabytes(max_bytes)} "
            "(setting IMPORT_MAX_BYTES). Split it into several files."
        )
    if size == 0:
        raise ImportFileError(f"{filename}: the file is empty.")


def _what_it_is(content: bytes) -> str | None:
    for signature, name in _SIGNATURES:
        if content.startswith(signature):
            if signature == b"BM":
                return "a BMP image" if len(content) > 26 and content[6:10] == b"\x00\x00\x00\x00" else None
            return name
    return None


def read_table(*, filename: str, content: bytes) -> Table:
    """The sheet in `content`, by what the bytes are rather than what the name says."""
    check_size(filename=filename, size=len(content))
    lowered = filename.lower()
    if content.startswith(b"PK\x03\x04"):
        return _read_xlsx(filename=filename, content=content)
    if lowered.endswith((".xlsx", ".xlsm")):
        what = _what_it_is(content)
        raise ImportFileError(
            f"{filename} is not an Excel workbook" + (f" (it is {what})." if what else " (it is not a zip archive).")
        )
    what = _what_it_is(content)
    if what:
        raise ImportFileError(f"{filename} is {what}, not a CSV or XLSX sheet.")
    if b"\x00" in content[:65536]:
        raise ImportFileError(f"{filename} is a binary file, not a CSV or XLSX sheet.")
    return _read_csv(filename=filename, content=content)


def lines_at_most(*, filename: str, content: bytes) -> int | None:
    """The sheet's lines, heading included, counted without reading a cell (an upper bound for CSV, the
    workbook's recorded size for XLSX); None when the file does not say (read it to know)."""
    if not content.startswith(b"PK\x03\x04"):
        return content.count(b"\n") + (0 if content.endswith(b"\n") else 1)
    try:
        workbook = open_workbook(filename=filename, content=content)
    except ImportFileError:
        return None
    try:
        return data_sheet(workbook).max_row
    finally:
        workbook.close()


# --- CSV -----------------------------------------------------------------------------------------


def decode_text(*, filename: str, content: bytes) -> tuple[str, str]:
    """(text, encoding): UTF-8 (with or without BOM), else Windows-1252 / Latin-1; mixed files are refused."""
    if content.startswith(b"\xef\xbb\xbf"):
        content_body, bom = content[3:], True
    else:
        content_body, bom = content, False
    try:
        return content_body.decode("utf-8"), "utf-8-sig" if bom else "utf-8"
    except UnicodeDecodeError:
        pass
    utf8_line = legacy_line = None
    for number, line in enumerate(content_body.split(b"\n"), start=1):
        if line.isascii():
            continue
        try:
            line.decode("utf-8")
            utf8_line = utf8_line or number
        except UnicodeDecodeError:
            legacy_line = legacy_line or number
        if utf8_line and legacy_line:
            raise ImportFileError(
                f"{filename} mixes text encodings: line {utf8_line} is UTF-8 but line {legacy_line} is not. "
                "Open it in a spreadsheet program and save it again as CSV UTF-8."
            )
    for encoding in ("cp1252", "latin-1"):
        try:
            return content_body.decode(encoding), encoding
        except UnicodeDecodeError:
            continue
    raise ImportFileError(f"{filename}: the text encoding could not be recognised; save it as CSV UTF-8.")


def _sniff_delimiter(sample: str) -> str:
    first_line = sample.split("\n", 1)[0]
    counts = {delimiter: first_line.count(delimiter) for delimiter in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] else ","


def _read_csv(*, filename: str, content: bytes) -> Table:
    _, max_rows, max_columns = _limits()
    text, encoding = decode_text(filename=filename, content=content)
    delimiter = _sniff_delimiter(text[:65536])
    csv.field_size_limit(1_000_000)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    headings: list[str] | None = None
    rows: list[tuple[int, list[Any]]] = []
    try:
        for line, cells in enumerate(reader, start=1):  # numbered as a spreadsheet program shows the rows
            if len(cells) > max_columns:
                raise ImportFileError(
                    f"{filename}, row {line}: {len(cells)} columns; a sheet may have at most {max_columns} "
                    "(setting IMPORT_MAX_COLUMNS)."
                )
            if headings is None:
                if not any(cell.strip() for cell in cells):
                    continue
                headings = [cell.strip() for cell in cells]
                continue
            if not any(cell.strip() for cell in cells):
                continue
            rows.append((line, cells))
            if len(rows) > max_rows:
                raise ImportFileError(
                    f"{filename}: more than {max_rows} rows; split the file (setting IMPORT_MAX_ROWS)."
                )
    except csv.Error as exc:
        raise ImportFileError(f"{filename}, line {reader.line_num}: not readable as CSV ({exc}).") from None
    if headings is None:
        raise ImportFileError(f"{filename} has no heading row.")
    return Table(filename=filename, format="csv", headings=headings, rows=rows, delimiter=delimiter, encoding=encoding)


# --- XLSX ----------------------------------------------------------------------------------------


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA."""
    letters = ""
    index += 1
    while index:
        index, remainder = divmod(index - 1, 26)
        letters = chr(65 + remainder) + letters
    return letters


def open_workbook(*, filename: str, content: bytes, read_only: bool = True):
    import openpyxl

    try:
        with zipfile.ZipFile(io.BytesIO(content)) as archive:
            broken = archive.testzip()
            names = set(archive.namelist())
    except (zipfile.BadZipFile, EOFError, OSError, ValueError):
        raise ImportFileError(
            f"{filename} is damaged or incomplete (not a whole XLSX workbook); save it again or re-download it."
        ) from None
    if broken is not None:
        raise ImportFileError(f"{filename} is damaged: its part {broken} is corrupt; save the workbook again.")
    if "xl/workbook.xml" not in names:
        raise ImportFileError(f"{filename} is a zip archive but not an Excel workbook.")
    try:
        return openpyxl.load_workbook(io.BytesIO(content), read_only=read_only, data_only=False)
    except Exception as exc:  # openpyxl raises many kinds of error on a damaged workbook
        raise ImportFileError(f"{filename} could not be read as an XLSX workbook ({type(exc).__name__}).") from None


def data_sheet(workbook, preferred: str | None = None):
    """The sheet holding the data: one named like the kind, else the first visible one."""
    if preferred:
        for sheet in workbook.worksheets:
            if sheet.title.casefold() == preferred.casefold():
                return sheet
    for sheet in workbook.worksheets:
        if getattr(sheet, "sheet_state", "visible") == "visible":
            return sheet
    return workbook.worksheets[0]


def _read_xlsx(*, filename: str, content: bytes, preferred_sheet: str | None = None) -> Table:
    _, max_rows, max_columns = _limits()
    workbook = open_workbook(filename=filename, content=content)
    try:
        sheet = data_sheet(workbook, preferred_sheet)
        headings: list[str] | None = None
        rows: list[tuple[int, list[Any]]] = []
        try:
            for number, cells in enumerate(sheet.iter_rows(values_only=True), start=1):
                cells = list(cells)
                while cells and (cells[-1] is None or cells[-1] == ""):
                    cells.pop()
                if len(cells) > max_columns:
                    raise ImportFileError(
                        f"{filename}, sheet '{sheet.title}', row {number}: {len(cells)} columns; a sheet may have "
                        f"at most {max_columns} (setting IMPORT_MAX_COLUMNS)."
                    )
                if not cells:
                    continue
                for index, cell in enumerate(cells):
                    if isinstance(cell, str) and cell.startswith("="):
                        raise ImportFileError(
                            f"{filename}, sheet '{sheet.title}', cell {column_letter(index)}{number} holds a formula "
                            f"({cell[:40]}); imports take values only: copy the column and paste it as values."
                        )
                if headings is None:
                    headings = ["" if cell is None else str(cell).strip() for cell in cells]
                    continue
                rows.append((number, cells))
                if len(rows) > max_rows:
                    raise ImportFileError(
                        f"{filename}: more than {max_rows} rows; split the file (setting IMPORT_MAX_ROWS)."
                    )
        except ImportFileError:
            raise
        except Exception as exc:  # a damaged sheet part surfaces only while the rows are read
            raise ImportFileError(
                f"{filename}, sheet '{sheet.title}': the sheet is damaged and could not be read ({type(exc).__name__})."
            ) from None
    finally:
        workbook.close()
    if headings is None:
        raise ImportFileError(f"{filename}, sheet '{sheet.title}' is empty: it has no heading row.")
    return Table(filename=filename, format="xlsx", headings=headings, rows=rows, sheet_name=sheet.title)
