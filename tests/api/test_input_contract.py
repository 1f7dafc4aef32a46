"""What the schema states is what the API accepts: bounds from the database's rules, JSON types as written,
query parameters that hold a value of their type, and JSON for every answer under /api/."""

import pytest
from django.test import Client

from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_setup, django_db_blocker):
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


def _property(schema, component: str, name: str) -> dict:
    return schema["components"]["schemas"][component]["properties"][name]


def _parameter(schema, path: str, name: str) -> dict:
    return next(p for p in schema["paths"][path]["get"]["parameters"] if p["name"] == name)["schema"]


def _states(schema: dict, **expected) -> bool:
    return schema.items() >= expected.items()


def test_the_schema_states_the_bounds_the_database_enforces(schema):
    assert _states(_property(schema, "StudyRequest", "n_per_group"), minimum=0, exclusiveMinimum=True)
    assert _states(_property(schema, "ImmunophenotypeRequest", "percent_positive"), minimum=0, maximum=100)
    assert _states(_property(schema, "PrimingAgentRequest", "concentration"), minimum=0, exclusiveMinimum=True)
    assert _states(_parameter(schema, "/api/v1/batches/", "passage"), minimum=1)
    assert _states(_parameter(schema, "/api/v1/batches/", "page_size"), minimum=1)


def test_a_partial_update_cannot_leave_out_its_body(schema):
    assert schema["paths"]["/api/v1/donors/{id}/"]["patch"]["requestBody"]["required"] is True


def test_a_value_outside_the_database_range_is_refused_by_the_serializer(api, lab, technician):
    study = f.StudyFactory(lab=lab)
    response = api(technician).patch(
        f"/api/v1/studies/{study.pk}/", {"version": study.version, "n_per_group": 0}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"n_per_group": ["Must be greater than zero."]}


def test_a_group_without_its_name_is_a_400_naming_it(api, lab, technician):
    study = f.StudyFactory(lab=lab)
    response = api(technician).patch(
        f"/api/v1/studies/{study.pk}/", {"version": study.version, "groups": [{"role": "treatment"}]}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"groups.0.name": ["This field is required."]}


def test_a_number_is_not_taken_for_a_text(api, lab, technician):
    donor = f.DonorFactory(lab=lab)
    response = api(technician).patch(
        f"/api/v1/donors/{donor.pk}/", {"version": donor.version, "reason": 0}, format="json"
    )
    assert response.status_code == 400
    assert response.json() == {"reason": ["Expected a string."]}


@pytest.mark.parametrize(
    "query, field",
    [
        ({"status": ""}, "status"),
        ({"qc_out_of_spec": "768"}, "qc_out_of_spec"),
        ({"created_after": "2025-1-1"}, "created_after"),
        ({"page_size": "null"}, "page_size"),
        ({"page_size": "0"}, "page_size"),
        ({"passage": "0"}, "passage"),
    ],
)
def test_a_query_parameter_must_hold_a_value_of_its_type(api, technician, query, field):
    response = api(technician).get("/api/v1/batches/", query)
    assert response.status_code == 400
    assert list(response.json()) == [field]


def test_well_formed_filters_still_filter(api, lab, technician):
    f.SecretomeBatchFactory(lab=lab, status="draft")
    response = api(technician).get(
        "/api/v1/batches/",
        {"status": "draft", "qc_out_of_spec": "false", "created_after": "2000-01-01", "page_size": 5},
    )
    assert response.status_code == 200
    assert response.json()["count"] == 1


@pytest.mark.parametrize(
    "method, path, status",
    [
        ("get", "/api/v1/no-such-resource/", 404),
        ("get", "/api/v1/batches/1.5/", 404),
        ("get", "/api/nowhere", 404),
        ("put", "/api/v1/exports/methods/", 405),
    ],
)
def test_every_answer_under_api_is_json(technician, method, path, status):
    client = Client()
    client.force_login(technician)
    response = getattr(client, method)(path)
    assert response.status_code == status
    assert response["Content-Type"] == "application/json"
    assert set(response.json()) == {"detail"}


def test_pages_outside_api_keep_their_html_404(technician):
    client = Client()
    client.force_login(technician)
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
