"""Files that are not what they claim are refused with a message naming the file and where it breaks."""

import io

import pytest
from openpyxl import Workbook

from batches.imports.files import ImportFileError, read_table

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + b"\x00" * 64


def _xlsx(rows) -> bytes:
    workbook = Workbook()
    for row in rows:
        workbook.active.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def test_an_image_renamed_csv_is_named_as_an_image():
    with pytest.raises(ImportFileError, match=r"^donors\.csv is a PNG image, not a CSV or XLSX sheet\."):
        read_table(filename="donors.csv", content=PNG)


def test_an_image_renamed_xlsx_is_not_a_workbook():
    with pytest.raises(ImportFileError, match=r"donors\.xlsx is not an Excel workbook \(it is a PNG image\)"):
        read_table(filename="donors.xlsx", content=PNG)


def test_a_truncated_workbook_is_called_damaged():
    content = _xlsx([["Donor code"], ["D-1"]])
    with pytest.raises(ImportFileError, match=r"donors\.xlsx is damaged or incomplete"):
        read_table(filename="donors.xlsx", content=content[: len(content) // 2])


def test_a_file_over_the_size_limit_is_refused_before_it_is_read():
    with pytest.raises(ImportFileError, match=r"big\.csv: the file is 200\.0 MB; imports take at most 50\.0 MB"):
        read_table(filename="big.csv", content=b"a" * 200_000_000)


def test_the_size_limit_is_a_setting(settings):
    settings.IMPORT_MAX_BYTES = 100
    with pytest.raises(ImportFileError, match="IMPORT_MAX_BYTES"):
        read_table(filename="small.csv", content=b"Donor code\n" + b"D-1\n" * 30)


def test_a_formula_is_named_by_its_cell():
    content = _xlsx([["Donor code", "Donor age (years)"], ["D-1", "=2024-1990"]])
    with pytest.raises(ImportFileError, match=r"donors\.xlsx, sheet 'Sheet', cell B2 holds a formula \(=2024-1990\)"):
        read_table(filename="donors.xlsx", content=content)


def test_ten_thousand_columns_are_refused_with_the_limit():
    content = (",".join(f"c{i}" for i in range(10_000)) + "\n").encode()
    with pytest.raises(ImportFileError, match=r"wide\.csv, row 1: 10000 columns; a sheet may have at most 300"):
        read_table(filename="wide.csv", content=content)


def test_the_row_limit_is_a_setting(settings):
    settings.IMPORT_MAX_ROWS = 3
    with pytest.raises(ImportFileError, match=r"long\.csv: more than 3 rows"):
        read_table(filename="long.csv", content=b"Donor code\n" + b"D-1\n" * 5)


def test_mixed_encodings_name_the_lines():
    content = "Donor code,Donor anatomical site\nD-1,Crête iliaque\n".encode() + "D-2,Fémur\n".encode("cp1252")
    with pytest.raises(ImportFileError, match=r"mixed\.csv mixes text encodings: line 2 is UTF-8 but line 3 is not"):
        read_table(filename="mixed.csv", content=content)


def test_a_windows_1252_file_with_semicolons_is_read():
    content = "Donor code;Donor anatomical site\nD-1;Fémur\n".encode("cp1252")
    table = read_table(filename="legacy.csv", content=content)
    assert table.encoding == "cp1252" and table.delimiter == ";"
    assert table.rows == [(2, ["D-1", "Fémur"])]


def test_a_utf8_file_with_bom_is_read_without_the_bom():
    table = read_table(filename="bom.csv", content="Donor code\nD-1\n".encode("utf-8-sig"))
    assert table.headings == ["Donor code"]


def test_an_empty_file_is_refused():
    with pytest.raises(ImportFileError, match=r"empty\.csv: the file is empty"):
        read_table(filename="empty.csv", content=b"")
