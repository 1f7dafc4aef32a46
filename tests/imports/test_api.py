"""The import API: templates, upload with dry run, the run, its error file; roles and labs."""

import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from openpyxl import load_workbook

from batches import models as m
from tests.imports.support import read_csv

pytestmark = pytest.mark.django_db

DONORS = "Code,Species,Tissue source,Age (years)\nD-1,human,Bone marrow,41\nD-2,mouse,Adipose,n.d.\n"
BAD_DONORS = "Code,Species,Tissue source,Age (years)\nD-1,human,Bone marrow,old\n"


def _upload(client, text, *, kind="donors", dry_run="true", name="donors.csv", **extra):
    upload = SimpleUploadedFile(name, text.encode() if isinstance(text, str) else text, content_type="text/csv")
    return client.post(
        "/api/v1/imports/", {"file": upload, "kind": kind, "dry_run": dry_run, **extra}, format="multipart"
    )


def test_the_templates_download_as_xlsx_and_csv(api, technician):
    xlsx = api(technician).get("/api/v1/imports/templates/lineage/?format=xlsx")
    csv = api(technician).get("/api/v1/imports/templates/donors/?format=csv")

    assert xlsx.status_code == 200 and xlsx["Content-Disposition"].endswith('lineage-template.xlsx"')
    assert load_workbook(io.BytesIO(xlsx.content)).sheetnames == ["Lineage (one row per batch)", "Columns", "Lists"]
    headings = read_csv(csv.content)[0]
    assert csv.status_code == 200 and headings[:2] == ["Code", "Species"] and "Tissue source" in headings


def test_an_unknown_template_kind_or_format_is_a_clear_answer(api, technician):
    unknown = api(technician).get("/api/v1/imports/templates/plasmids/")
    assert unknown.status_code == 404
    assert unknown.json() == {
        "detail": "'plasmids' is not an import kind; choose one of: donors, cell-lines, passages, primings, "
        "batches, processing-steps, aliquots, qc-results, lineage."
    }
    assert api(technician).get("/api/v1/imports/templates/donors/?format=pdf").status_code == 400


def test_a_dry_run_previews_and_the_commit_keeps(api, technician):
    client = api(technician)
    dry = _upload(client, DONORS)

    assert dry.status_code == 201, dry.json()
    body = dry.json()
    assert body["status"] == "checked" and body["errors"] == []
    assert body["preview"]["totals"] == {"create": 2, "update": 0, "unchanged": 0}
    assert not m.Donor.objects.exists()

    committed = client.post(f"/api/v1/imports/{body['id']}/commit/", {"reason": "first import"}, format="json")

    assert committed.status_code == 201, committed.json()
    assert committed.json()["status"] == "committed" and committed.json()["checked_run"] == body["id"]
    assert sorted(m.Donor.objects.values_list("code", flat=True)) == ["D-1", "D-2"]
    assert m.Donor.objects.get(code="D-2").age_years is None
    assert client.get(f"/api/v1/imports/{body['id']}/").json()["status"] == "checked"


def test_errors_are_listed_and_downloadable(api, technician):
    client = api(technician)
    run = _upload(client, BAD_DONORS, dry_run="false").json()

    assert run["status"] == "failed"
    assert run["errors"] == [
        {
            "row": 2,
            "column": "D",
            "heading": "Age (years)",
            "message": "'old' is not a number; write digits, e.g. 12.5 or 12,5.",
        }
    ]
    csv_file = client.get(f"/api/v1/imports/{run['id']}/errors/?format=csv")
    xlsx_file = client.get(f"/api/v1/imports/{run['id']}/errors/?format=xlsx")
    assert csv_file.status_code == 200 and csv_file.content.startswith(b"\xef\xbb\xbf")
    assert read_csv(csv_file.content)[1][-1] == "Age (years): 'old' is not a number; write digits, e.g. 12.5 or 12,5."
    assert load_workbook(io.BytesIO(xlsx_file.content)).active["D2"].fill.fgColor.rgb == "00FFC7CE"
    assert not m.Donor.objects.exists()


def test_a_file_that_is_not_a_sheet_answers_400_naming_it(api, technician):
    response = _upload(api(technician), b"\x89PNG\r\n\x1a\n" + b"\x00" * 100, name="photo.csv")

    assert response.status_code == 400
    assert response.json() == {"file": ["photo.csv is a PNG image, not a CSV or XLSX sheet."]}
    assert not m.ImportRun.objects.exists()


def test_an_oversized_upload_answers_400_with_the_limit(api, technician, settings):
    settings.IMPORT_MAX_BYTES = 50
    response = _upload(api(technician), DONORS)

    assert response.status_code == 400
    assert "imports take at most 50 bytes (setting IMPORT_MAX_BYTES)" in response.json()["file"][0]


def test_auditors_read_imports_but_do_not_import(api, technician, auditor):
    run = _upload(api(technician), DONORS).json()

    assert _upload(api(auditor), DONORS).status_code == 403
    assert api(auditor).get(f"/api/v1/imports/{run['id']}/").status_code == 200
    assert api(auditor).post(f"/api/v1/imports/{run['id']}/commit/").status_code == 403


def test_another_labs_import_is_not_found(api, technician, outsider):
    run = _upload(api(technician), DONORS).json()

    assert api(outsider).get(f"/api/v1/imports/{run['id']}/").status_code == 404
    assert api(outsider).get(f"/api/v1/imports/{run['id']}/errors/").status_code == 404
    assert api(outsider).get("/api/v1/imports/").json()["results"] == []


def test_anonymous_clients_are_refused(api):
    assert api().get("/api/v1/imports/templates/donors/").status_code in (401, 403)
    assert api().post("/api/v1/imports/").status_code in (401, 403)


def test_the_management_command_imports_a_file_and_reports_errors(tmp_path, lab, technician):
    from django.core.management import CommandError, call_command

    good = tmp_path / "donors.csv"
    good.write_text(DONORS)
    bad = tmp_path / "bad.csv"
    bad.write_text(BAD_DONORS)
    out = io.StringIO()

    call_command("import_records", str(good), kind="donors", lab="pain-lab", actor="tina", stdout=out)
    assert "2 new, 0 changed, 0 unchanged records · Checked (dry run, nothing saved)" in out.getvalue()
    assert not m.Donor.objects.exists()

    call_command("import_records", str(good), "--commit", kind="donors", lab="pain-lab", actor="tina", stdout=out)
    assert m.Donor.objects.count() == 2

    err = io.StringIO()
    with pytest.raises(CommandError, match=r"1 problem\(s\); nothing was saved"):
        call_command(
            "import_records", str(bad), "--commit", kind="donors", lab="pain-lab", actor="tina", stdout=out, stderr=err
        )
    assert "row 2, column D (Age (years)): 'old' is not a number" in err.getvalue()


def test_an_nta_export_becomes_qc_results_linked_to_the_kept_raw_file(api, technician):
    from pathlib import Path

    from tests import factories as f

    batch = f.SecretomeBatchFactory(lab=technician.memberships.get().lab, code="B-NTA")
    content = (Path(__file__).parent / "files" / "nta-3.2-ExperimentSummary.csv").read_bytes()
    client = api(technician)

    def post(dry_run):
        upload = SimpleUploadedFile("ExperimentSummary.csv", content, content_type="text/csv")
        return client.post(
            "/api/v1/qc-results/import-instrument/",
            {"file": upload, "batch": batch.pk, "instrument": "nta", "performed_on": "2025-03-12", "dry_run": dry_run},
            format="multipart",
        )

    preview = post("true")
    assert preview.status_code == 200, preview.json()
    assert preview.json()["results"][0]["value"] == pytest.approx(2.45e11)
    assert not m.QCResult.objects.exists() and not m.InstrumentFile.objects.exists()

    committed = post("false")
    assert committed.status_code == 201, committed.json()
    raw = m.InstrumentFile.objects.get()
    assert raw.sha256 == committed.json()["sha256"] and bytes(raw.content) == content
    results = m.QCResult.objects.filter(batch=batch).order_by("assay", "analyte")
    assert [(r.assay, r.analyte, r.unit) for r in results] == [
        ("particle_concentration", "", "particles/mL"),
        ("particle_size", "D50", "nm"),
        ("particle_size", "mean", "nm"),
        ("particle_size", "mode", "nm"),
    ]
    assert all(r.raw_data == f"sha256:{raw.sha256} ExperimentSummary.csv" for r in results)
    assert results[0].method == "nta" and results[0].performed_on.isoformat() == "2025-03-12"


def test_an_instrument_file_that_is_not_one_answers_400(api, technician, auditor):
    from tests import factories as f

    batch = f.SecretomeBatchFactory(lab=technician.memberships.get().lab)
    upload = SimpleUploadedFile("ExperimentSummary.csv", b"\x89PNG\r\n\x1a\n\x00\x00", content_type="text/csv")
    response = api(technician).post(
        "/api/v1/qc-results/import-instrument/",
        {"file": upload, "batch": batch.pk, "instrument": "nta", "dry_run": "false"},
        format="multipart",
    )
    assert response.status_code == 400
    assert response.json() == {"file": ["ExperimentSummary.csv is a binary file, not a text export."]}
    upload = SimpleUploadedFile("x.csv", b"a", content_type="text/csv")
    refused = api(auditor).post(
        "/api/v1/qc-results/import-instrument/",
        {"file": upload, "batch": batch.pk, "instrument": "nta"},
        format="multipart",
    )
    assert refused.status_code == 403
    assert not m.QCResult.objects.exists()
