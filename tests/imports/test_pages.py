"""The Import pages: menu, upload → preview → import, errors with downloads, history; roles and labs."""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from batches import models as m

pytestmark = pytest.mark.django_db

DONORS = "Code,Species,Tissue source\nD-1,human,Bone marrow\nD-2,rat,Adipose\n"


def _signed_in(client, user):
    client.force_login(user)
    return client


def test_import_is_in_the_menu_and_offers_every_template(client, technician):
    page = _signed_in(client, technician).get("/imports/")

    html = page.content.decode()
    assert page.status_code == 200
    assert '<a href="/imports/">Import</a>' in html
    assert 'href="/imports/templates/lineage.xlsx"' in html and 'href="/imports/templates/qc-results.csv"' in html
    assert client.get("/imports/templates/lineage.xlsx")["Content-Disposition"].endswith('.xlsx"')


def test_upload_shows_the_preview_then_imports_and_the_history_lists_both(client, technician):
    _signed_in(client, technician)
    upload = SimpleUploadedFile("donors.csv", DONORS.encode(), content_type="text/csv")

    response = client.post("/imports/", {"kind": "donors", "file": upload, "reason": "legacy sheet"})

    checked = m.ImportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/imports/{checked.pk}/"
    preview = client.get(f"/imports/{checked.pk}/").content.decode()
    assert "No error. Nothing is saved until you import it." in preview
    assert 'id="import-commit"' in preview and not m.Donor.objects.exists()

    response = client.post(f"/imports/{checked.pk}/commit/", {"reason": "legacy sheet"})

    committed = m.ImportRun.objects.exclude(pk=checked.pk).get()
    assert response["Location"] == f"/imports/{committed.pk}/"
    assert "Every row was imported in one transaction." in client.get(response["Location"]).content.decode()
    assert m.Donor.objects.count() == 2
    history = client.get("/imports/").content.decode()
    assert history.count(">donors.csv</a>") == 2 and "Imported" in history
    assert 'id="import-commit"' not in client.get(f"/imports/{checked.pk}/").content.decode()


def test_errors_are_shown_with_their_rows_and_the_files_download(client, technician):
    _signed_in(client, technician)
    upload = SimpleUploadedFile("bad.csv", b"Code,Species,Tissue source\nD-1,dragon,Bone marrow\n")
    client.post("/imports/", {"kind": "donors", "file": upload})
    run = m.ImportRun.objects.get()

    page = client.get(f"/imports/{run.pk}/").content.decode()

    assert "Nothing was saved." in page and "&#x27;dragon&#x27; is not one of the allowed values" in page
    assert 'id="import-commit"' not in page
    assert client.get(f"/imports/{run.pk}/errors.csv").content.startswith(b"\xef\xbb\xbf")
    assert client.get(f"/imports/{run.pk}/errors.xlsx").status_code == 200
    assert client.get(f"/imports/{run.pk}/errors.pdf").status_code == 404


def test_a_file_that_is_not_a_sheet_is_an_error_on_the_form(client, technician):
    _signed_in(client, technician)
    upload = SimpleUploadedFile("photo.xlsx", b"\xff\xd8\xff\xe0" + b"\x00" * 50)

    page = client.post("/imports/", {"kind": "donors", "file": upload})

    assert page.status_code == 200
    assert "photo.xlsx is not an Excel workbook (it is a JPEG image)." in page.content.decode()
    assert not m.ImportRun.objects.exists()


def test_auditors_see_the_history_but_no_upload_form(client, technician, auditor):
    _signed_in(client, technician).post(
        "/imports/", {"kind": "donors", "file": SimpleUploadedFile("donors.csv", DONORS.encode())}
    )
    run = m.ImportRun.objects.get()
    _signed_in(client, auditor)

    page = client.get("/imports/").content.decode()

    assert 'id="import-upload"' not in page and "donors.csv" in page
    assert 'id="import-commit"' not in client.get(f"/imports/{run.pk}/").content.decode()
    client.post(f"/imports/{run.pk}/commit/")
    assert not m.Donor.objects.exists()


def test_another_labs_import_is_not_found(client, technician, outsider):
    _signed_in(client, technician).post(
        "/imports/", {"kind": "donors", "file": SimpleUploadedFile("donors.csv", DONORS.encode())}
    )
    run = m.ImportRun.objects.get()

    _signed_in(client, outsider)

    assert client.get(f"/imports/{run.pk}/").status_code == 404
    assert client.get(f"/imports/{run.pk}/errors.csv").status_code == 404
