"""Per-record sheets: headings as people write them, unknown columns reported, codes linking records."""

import io

import pytest
from django.core.exceptions import PermissionDenied
from openpyxl import load_workbook

from batches import models as m
from batches.choices import BatchStatus
from batches.imports.services import import_start, import_template
from tests import factories as f

pytestmark = pytest.mark.django_db


def _csv(text: str) -> bytes:
    return text.encode("utf-8")


def _import(lab, actor, kind, text, *, dry_run=False, reason=""):
    return import_start(
        lab=lab, actor=actor, kind=kind, filename=f"{kind}.csv", content=_csv(text), dry_run=dry_run, reason=reason
    )


def test_headings_match_whatever_the_case_spaces_units_or_label(lab, technician):
    run = _import(
        lab,
        technician,
        "donors",
        "  DONOR_code ,Species,tissue source,Age (yrs),Sex,Favourite colour\n"
        'D-1,human,Bone marrow (BM-MSC),"41,5",Female,blue\n',
    )

    assert run.status == m.ImportStatus.COMMITTED, run.errors
    assert run.result["unknown_columns"] == ["Favourite colour (F)"]
    donor = m.Donor.objects.get(lab=lab, code="D-1")
    assert (donor.species, donor.tissue_source, donor.age_years, donor.sex) == ("human", "bone_marrow", 41.5, "female")


def test_a_sheet_without_a_required_column_says_which(lab, technician):
    run = _import(lab, technician, "cell-lines", "Code,Isolation method\nCL-1,Explant culture\n")

    assert run.status == m.ImportStatus.FAILED
    assert {
        "row": 1,
        "column": "",
        "heading": "Donor code",
        "message": "The sheet has no 'Donor code' column; it is required.",
    } in run.errors


def test_a_code_that_names_no_record_is_reported_on_its_cell(lab, technician):
    run = _import(
        lab,
        technician,
        "cell-lines",
        "Code,Donor code,Isolation method,Basal medium,Antibiotics,Supplement\n"
        "CL-1,D-404,Explant culture,α-MEM,None,FBS\n",
    )

    assert run.errors == [
        {
            "row": 2,
            "column": "B",
            "heading": "Donor code",
            "message": "No donor 'D-404' in the lab; add it first (or use the lineage sheet).",
        }
    ]


def test_an_auditor_may_not_import(lab, auditor):
    with pytest.raises(PermissionDenied, match="Importing records needs one of these roles"):
        _import(lab, auditor, "donors", "Code,Species,Tissue source\nD-1,human,Bone marrow\n")
    assert not m.ImportRun.objects.exists()


def test_a_submitted_batch_changes_only_with_a_reason(lab, technician):
    batch = f.SecretomeBatchFactory(lab=lab, code="B-1", status=BatchStatus.SUBMITTED, conditioning_time_h=48)
    passage = batch.passage
    text = (
        "Code,Cell line code,Passage number,Product type,Intended use,Conditioning time (h)\n"
        f"B-1,{passage.cell_line.code},{passage.number},{batch.product_type},{batch.intended_use},24\n"
    )

    refused = _import(lab, technician, "batches", text)
    accepted = _import(lab, technician, "batches", text, reason="Notebook says 24 h")

    assert refused.status == m.ImportStatus.FAILED
    assert "Batch B-1 is submitted for review; say why this change is made." in refused.errors[0]["message"]
    assert accepted.status == m.ImportStatus.COMMITTED, accepted.errors
    batch.refresh_from_db()
    assert batch.conditioning_time_h == 24


def test_a_released_batch_is_not_changed_by_an_import(lab, technician):
    batch = f.SecretomeBatchFactory(lab=lab, code="B-2", status=BatchStatus.RELEASED, conditioning_time_h=48)
    passage = batch.passage
    run = _import(
        lab,
        technician,
        "batches",
        "Code,Cell line code,Passage number,Product type,Intended use,Conditioning time (h)\n"
        f"B-2,{passage.cell_line.code},{passage.number},{batch.product_type},{batch.intended_use},24\n",
        reason="try",
    )

    assert run.status == m.ImportStatus.FAILED
    assert "Batch B-2 is released; a released batch cannot be edited." in run.errors[0]["message"]


def test_a_parent_written_twice_with_different_values_is_a_clash(lab, technician):
    run = _import(
        lab,
        technician,
        "lineage",
        "Donor code,Donor species,Donor tissue source\nD-1,human,Bone marrow\nD-1,mouse,Bone marrow\n",
    )

    assert run.errors == [
        {
            "row": 3,
            "column": "B",
            "heading": "Donor species",
            "message": "Donor D-1 is given as 'human' in row 2; a record written twice must say the same thing.",
        }
    ]


def test_another_labs_records_are_not_found_by_code(lab, technician, outsider, other_lab):
    f.DonorFactory(lab=other_lab, code="D-9")
    run = _import(
        lab,
        technician,
        "cell-lines",
        "Code,Donor code,Isolation method,Basal medium,Antibiotics,Supplement\n"
        "CL-1,D-9,Explant culture,α-MEM,None,FBS\n",
    )

    assert run.errors[0]["message"].startswith("No donor 'D-9' in the lab")


def test_the_xlsx_template_has_units_drop_downs_and_a_columns_sheet():
    content, content_type, name = import_template(kind="lineage", file_format="xlsx")
    workbook = load_workbook(io.BytesIO(content))
    data = workbook.worksheets[0]
    headings = [cell.value for cell in data[1]]

    assert name == "secretome-lims-lineage-template.xlsx" and content_type.endswith("spreadsheetml.sheet")
    assert headings[0] == "Donor code" and "Passage area (cm²)" in headings and "Aliquot volume (µL)" in headings
    order = ["Donor code", "Cell line code", "Passage number", "Priming name", "Batch code", "Step 1 kind", "Aliquots"]
    assert [headings.index(h) for h in order] == sorted(headings.index(h) for h in order)
    validated = {str(rng) for validation in data.data_validations.dataValidation for rng in validation.sqref.ranges}
    species = headings.index("Donor species") + 1
    assert any(rng.startswith(f"{data.cell(row=2, column=species).column_letter}2:") for rng in validated)
    columns = workbook["Columns"]
    described = {row[0]: row for row in columns.iter_rows(min_row=2, values_only=True) if row and row[0]}
    assert described["Passage cells seeded (cells)"][4] == "whole number"
    assert workbook["Lists"].sheet_state == "hidden"


def test_the_csv_template_is_the_heading_row_in_utf8_with_bom():
    content, _, _ = import_template(kind="donors", file_format="csv")

    assert content.startswith(b"\xef\xbb\xbf")
    (line,) = content.decode("utf-8-sig").splitlines()
    headings = line.split(",")
    assert headings[:2] == ["Code", "Species"]
    assert {"Tissue source", "Age (years)", "Number of donors", "Ethics approval reference"} <= set(headings)


def test_a_number_too_large_for_the_database_is_a_cell_error_not_a_crash(lab, technician):
    run = _import(
        lab,
        technician,
        "passages",
        "Cell line code,Number,Cells seeded (cells)\nCL-1,3,100000000000000000000000\n",
    )

    assert run.status == m.ImportStatus.FAILED
    assert [(e["row"], e["heading"]) for e in run.errors] == [(2, "Cell line code")]
    f.CellLineFactory(lab=lab, code="CL-1")
    run = _import(
        lab,
        technician,
        "passages",
        "Cell line code,Number,Cells seeded (cells)\nCL-1,3,100000000000000000000000\n",
    )
    assert [(e["row"], e["column"], e["heading"]) for e in run.errors] == [(2, "C", "Cells seeded (cells)")]
    assert "less than or equal to" in run.errors[0]["message"]
