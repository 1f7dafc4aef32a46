"""The OpenAPI schema: complete, valid, without generator warnings, served with Swagger UI."""

import pytest
import yaml
from django.core.management import call_command

pytestmark = pytest.mark.django_db

RESOURCES = (
    "donors", "cell-lines", "passages", "primings", "batches", "processing-steps", "aliquots", "storage-locations",
    "qc-specifications", "qc-results", "studies", "administrations", "protocols", "protocol-versions", "deviations",
    "checklist-reports",
)  # fmt: skip


@pytest.fixture(scope="module")
def schema(tmp_path_factory, django_db_blocker):
    target = tmp_path_factory.mktemp("schema") / "schema.yaml"
    with django_db_blocker.unblock():
        call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(target))
    return yaml.safe_load(target.read_text())


def test_the_schema_is_valid_and_generates_without_a_warning(schema):
    assert schema["openapi"].startswith("3.")


@pytest.mark.parametrize("resource", RESOURCES)
def test_every_resource_of_the_design_is_in_the_schema(schema, resource):
    assert f"/api/v1/{resource}/" in schema["paths"]
    assert f"/api/v1/{resource}/{{id}}/" in schema["paths"]


@pytest.mark.parametrize(
    "action",
    ["batches/{id}/submit/", "batches/{id}/release/", "batches/{id}/reject/", "batches/{id}/check/",
     "batches/{id}/lineage/", "qc-results/{id}/verify/", "protocol-versions/{id}/publish/"],
)  # fmt: skip
def test_every_action_of_the_design_is_in_the_schema(schema, action):
    assert f"/api/v1/{action}" in schema["paths"]


def test_every_operation_documents_its_errors(schema):
    for path, operations in schema["paths"].items():
        for method, operation in operations.items():
            codes = set(operation["responses"])
            assert {"401", "403", "406"} <= codes or path == "/api/v1/auth/token/", (method, path)
            if method in {"post", "put", "patch", "delete"}:
                assert {"400", "409"} <= codes, (method, path)
            if "{id}" in path:
                assert "404" in codes, (method, path)


def test_every_update_requires_the_version(schema):
    updates = [
        operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].rsplit("/", 1)[1]
        for operations in schema["paths"].values()
        for method, operation in operations.items()
        if method in {"put", "patch"} and "requestBody" in operation
    ]
    versioned = [name for name in updates if "version" in schema["components"]["schemas"][name]["properties"]]
    assert len(versioned) >= 2 * 15
    for name in versioned:
        assert "version" in schema["components"]["schemas"][name]["required"], name


def test_the_error_shapes_are_components(schema):
    components = schema["components"]["schemas"]
    assert components["ValidationError"]["additionalProperties"] == {"type": "array", "items": {"type": "string"}}
    assert components["Conflict"]["required"] == ["detail"]


def test_schema_and_swagger_ui_are_served(client):
    assert client.get("/api/schema/").status_code == 200
    response = client.get("/api/docs/")
    assert response.status_code == 200
    assert b"swagger" in response.content.lower()
