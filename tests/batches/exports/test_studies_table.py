"""The studies summary table: one row per study and group, N/A where nothing was recorded, lab-scoped."""

import csv
import io
import json

import pytest
from docx import Document
from rest_framework.test import APIClient

from batches.exports import studies_table
from batches.models import Study
from tests import factories as f
from tests.batches.exports.sparse import batch_with_only_its_product_type, irregular_schedule, three_routes

pytestmark = pytest.mark.django_db
URL = "/api/v1/exports/studies-table"


@pytest.fixture
def client(lab):
    membership = f.MembershipFactory(lab=lab)
    api = APIClient()
    api.force_authenticate(membership.user)
    return api


def _rows(study, lab) -> list[dict]:
    return studies_table.table_rows(study_ids=[study.pk], scope=Study.objects.filter(lab=lab))


def test_each_group_of_a_study_is_one_row_with_its_route_and_volume(lab):
    rows = _rows(three_routes(lab), lab)
    assert [row["group"] for row in rows] == ["IT", "IV", "Local"]
    by_group = {row["group"]: row for row in rows}
    assert by_group["IV"]["route_volume"] == "intravenous, 200 µL"
    assert by_group["Local"]["route_volume"] == "directly to the injured nerve, 5 µL"
    assert by_group["IV"]["dose"] == "1 × 10¹⁰ particles"
    assert by_group["IV"]["pain_model"] == "chronic constriction injury of the sciatic nerve (rat)"
    assert by_group["IV"]["source"] == "human, umbilical cord"
    assert by_group["IV"]["product"] == "extracellular vesicles"
    assert by_group["IV"]["timing"] == "day 7, single dose"
    assert "von Frey" in by_group["IV"]["outcomes"] and "Hargreaves" in by_group["IV"]["outcomes"]


def test_values_that_were_not_recorded_read_n_a(lab):
    (row,) = _rows(batch_with_only_its_product_type(lab), lab)
    assert row["product"] == "extracellular vesicles"
    for key in ("pain_model", "source", "processing_storage", "timing", "dose", "route_volume", "outcomes"):
        assert row[key] == "N/A", key


def test_an_irregular_schedule_lists_its_days(lab):
    treated, vehicle = _rows(irregular_schedule(lab), lab)
    assert treated["timing"] == "days −1, 7 and 11, three doses"
    assert (vehicle["group"], vehicle["product"], vehicle["dose"]) == ("Vehicle", "none (vehicle control)", "N/A")


def test_the_api_answers_every_format(client, lab):
    study = three_routes(lab)
    markdown = client.post(URL, {"studies": [study.pk], "format": "md"}, format="json")
    assert markdown.status_code == 200 and markdown["Content-Type"].startswith("text/markdown")
    text = markdown.content.decode()
    assert text.startswith("| Study | Group | Pain model (species) |")
    assert text.count("\n") == 2 + 3
    table = client.post(URL, {"studies": [study.pk], "format": "csv"}, format="json")
    rows = list(csv.reader(io.StringIO(table.content.decode())))
    assert rows[0][2] == "Pain model (species)" and len(rows) == 4
    data = client.post(URL, {"studies": [study.pk], "format": "json"}, format="json").json()
    assert [row["group"] for row in data["rows"]] == ["IT", "IV", "Local"]
    docx = client.post(URL, {"studies": [study.pk], "format": "docx"}, format="json")
    document = Document(io.BytesIO(docx.content))
    assert len(document.tables[0].rows) == 4
    assert document.core_properties.author.endswith(f"({lab.name})")


def test_the_buttons_form_post_works_with_a_session_and_csrf(lab):
    from django.test import Client

    membership = f.MembershipFactory(lab=lab)
    study = three_routes(lab)
    browser = Client(enforce_csrf_checks=True)
    browser.force_login(membership.user)
    page = browser.get("/studies/")
    assert page.status_code == 200
    html = page.content.decode()
    assert 'action="/api/v1/exports/studies-table"' in html and 'name="format" value="csv"' in html
    token = page.context["csrf_token"]
    response = browser.post(
        "/api/v1/exports/studies-table", {"studies": [study.pk], "format": "csv", "csrfmiddlewaretoken": str(token)}
    )
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/csv")
    detail = browser.get(f"/studies/{study.pk}/").content.decode()
    assert f'name="studies" value="{study.pk}"' in detail


def test_another_labs_study_is_refused_naming_the_field(client, lab, other_lab):
    theirs = three_routes(other_lab)
    response = client.post(URL, {"studies": [theirs.pk], "format": "md"}, format="json")
    assert response.status_code == 400
    assert "studies" in response.json()
    assert theirs.title not in response.content.decode()


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"studies": [], "format": "md"}, "studies"),
        ({"studies": ["x"], "format": "md"}, "studies"),
        ({"format": "md"}, "studies"),
        ({"studies": [1], "format": "pdf"}, "format"),
    ],
)
def test_bad_input_answers_400_naming_the_field(client, body, field):
    response = client.post(URL, body, format="json")
    assert response.status_code == 400
    errors = json.loads(response.content)
    assert any(key == field or key.startswith(f"{field}.") for key in errors), errors


def test_the_route_is_in_the_openapi_schema(client):
    schema = client.get("/api/schema/", {"format": "json"})
    assert schema.status_code == 200
    paths = json.loads(schema.content)["paths"]
    assert any(path.rstrip("/").endswith("/exports/studies-table") for path in paths)
