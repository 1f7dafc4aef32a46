"""GET batches/{id}/methods|rocrate|label and POST exports/methods: formats, lab scoping, clear errors."""

import io
import json
import zipfile

import pytest
from docx import Document
from rest_framework.test import APIClient

from tests import factories as f

pytestmark = pytest.mark.django_db


def _url(batch, what: str) -> str:
    return f"/api/v1/batches/{batch.pk}/{what}"


@pytest.fixture
def client_for():
    def make(user) -> APIClient:
        client = APIClient()
        client.force_authenticate(user)
        return client

    return make


@pytest.fixture
def batch(lab):
    return f.SecretomeBatchFactory(lab=lab, code="SB-API-1")


def test_the_methods_of_a_batch_download_as_markdown_by_default(client_for, technician, batch):
    response = client_for(technician).get(_url(batch, "methods"))
    assert response.status_code == 200
    assert response["Content-Type"] == "text/markdown; charset=utf-8"
    assert response.content.decode().startswith("# Methods\n\n## Cell source and donors")
    assert 'filename="methods-SB-API-1.md"' in response["Content-Disposition"]


def test_the_methods_download_as_docx_and_json(client_for, auditor, batch):
    client = client_for(auditor)
    docx = client.get(_url(batch, "methods"), {"format": "docx"})
    assert docx.status_code == 200
    assert Document(io.BytesIO(docx.content)).paragraphs[0].text == "Methods"
    body = client.get(_url(batch, "methods"), {"format": "json"})
    assert body.status_code == 200
    export = json.loads(body.content)
    assert export["subject"] == {"kind": "batch", "batches": ["SB-API-1"], "study": None}


def test_an_unknown_format_answers_400_naming_the_field(client_for, technician, batch):
    response = client_for(technician).get(_url(batch, "methods"), {"format": "pdf"})
    assert response.status_code == 400
    assert "format" in response.json()


def test_another_labs_batch_answers_404(client_for, outsider, batch):
    client = client_for(outsider)
    for what in ("methods", "rocrate", "label"):
        assert client.get(_url(batch, what)).status_code == 404
    response = client.post("/api/v1/exports/methods", {"batches": [batch.pk]}, format="json")
    assert response.status_code == 400
    assert "batches" in response.json()


def test_anonymous_users_are_refused(batch):
    client = APIClient()
    assert client.get(_url(batch, "methods")).status_code in {401, 403}
    assert client.post("/api/v1/exports/methods", {"batches": [batch.pk]}, format="json").status_code in {401, 403}


def test_several_batches_export_together(client_for, technician, lab, batch):
    other = f.SecretomeBatchFactory(lab=lab, code="SB-API-2")
    response = client_for(technician).post(
        "/api/v1/exports/methods", {"batches": [other.pk, batch.pk], "format": "json"}, format="json"
    )
    assert response.status_code == 200
    assert json.loads(response.content)["subject"]["batches"] == ["SB-API-1", "SB-API-2"]


def test_a_study_exports_with_its_dose_and_outcomes(demo_client, demo):
    response = demo_client.post("/api/v1/exports/methods", {"study": demo.pk, "format": "md"}, format="json")
    assert response.status_code == 200
    text = response.content.decode()
    assert "## Dose and administration" in text and "## Outcomes and statistics" in text


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({}, "batches"),
        ({"batches": [], "format": "md"}, "batches"),
        ({"batches": ["x"]}, "batches.0"),
        ({"batches": [1], "study": 1}, "batches"),
        ({"batches": [1], "format": "pdf"}, "format"),
        ({"study": 999999}, "study"),
    ],
)
def test_bad_export_requests_answer_400_naming_the_field(client_for, technician, body, field):
    response = client_for(technician).post("/api/v1/exports/methods", body, format="json")
    assert response.status_code == 400
    assert field in response.json()


def test_a_study_without_administrations_answers_400(client_for, technician, lab):
    study = f.StudyFactory(lab=lab)
    response = client_for(technician).post("/api/v1/exports/methods", {"study": study.pk}, format="json")
    assert response.status_code == 400
    assert "study" in response.json()


def test_the_rocrate_of_a_batch_is_a_zip_with_its_metadata(client_for, technician, batch):
    response = client_for(technician).get(_url(batch, "rocrate"))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/zip"
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert {"ro-crate-metadata.json", "methods.md", "methods.docx", "methods.json"} <= set(names)


def test_a_study_rocrate_comes_from_the_post_endpoint(demo_client, demo):
    response = demo_client.post("/api/v1/exports/methods", {"study": demo.pk, "format": "rocrate"}, format="json")
    assert response.status_code == 200
    names = zipfile.ZipFile(io.BytesIO(response.content)).namelist()
    assert any(name.startswith("protocols/") for name in names)


def test_the_label_is_an_svg_with_the_batch_code_or_a_png(client_for, technician, batch):
    client = client_for(technician)
    svg = client.get(_url(batch, "label"))
    assert svg.status_code == 200
    assert svg["Content-Type"] == "image/svg+xml"
    assert b"SB-API-1" in svg.content and svg.content.startswith(b"<svg")
    png = client.get(_url(batch, "label"), {"format": "png"})
    assert png.status_code == 200
    assert png.content.startswith(b"\x89PNG")
    assert client.get(_url(batch, "label"), {"format": "gif"}).status_code == 400


def test_the_paths_answer_with_or_without_a_trailing_slash(client_for, technician, batch):
    client = client_for(technician)
    assert client.get(_url(batch, "methods")).status_code == 200
    assert client.get(_url(batch, "methods") + "/").status_code == 200
    assert client.post("/api/v1/exports/methods/", {"batches": [batch.pk]}, format="json").status_code == 200
