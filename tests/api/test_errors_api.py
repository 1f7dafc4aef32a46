"""Errors: 400 with {"field": ["message"]}, the right 401/403/404/405/406/409/415, and never a 500."""

import json

import pytest

from batches.models import Donor, PrimingCondition
from tests import factories as f

pytestmark = pytest.mark.django_db


def _post_raw(client, url, body: bytes, content_type="application/json"):
    return client.generic("POST", url, body, content_type=content_type)


def test_malformed_json_answers_400_under_non_field_errors(api, technician):
    response = _post_raw(api(technician), "/api/v1/donors/", b'{"code": ')
    assert response.status_code == 400
    assert list(response.data) == ["non_field_errors"]


def test_json_nested_beyond_reason_answers_400(api, technician):
    response = _post_raw(api(technician), "/api/v1/donors/", b"[" * 100_000 + b"]" * 100_000)
    assert response.status_code == 400


def test_a_form_body_answers_415(api, technician):
    response = _post_raw(api(technician), "/api/v1/donors/", b"code=D1", "application/x-www-form-urlencoded")
    assert response.status_code == 415


def test_asking_for_html_answers_406(api, technician):
    assert api(technician).get("/api/v1/donors/", HTTP_ACCEPT="text/html").status_code == 406


def test_delete_is_not_allowed_on_records(api, lab, technician):
    donor = f.DonorFactory(lab=lab)
    assert api(technician).delete(f"/api/v1/donors/{donor.pk}/").status_code == 405
    assert Donor.objects.filter(pk=donor.pk).exists()


def test_every_missing_field_is_named(api, technician):
    # Only identity and links are required (a cell line: its code and its donor).
    response = api(technician).post("/api/v1/cell-lines/", {}, format="json")
    assert response.status_code == 400
    assert set(response.data) == {"code", "donor"}
    assert all(isinstance(m, str) for messages in response.data.values() for m in messages)


def test_nested_errors_are_flattened_to_dotted_fields(api, technician):
    payload = {
        "name": "Bad",
        "kind": "cytokine",
        "agents": [{"agent": "ifn_gamma", "concentration": "plenty"}, {"agent": "x", "concentration": 1}],
    }
    response = api(technician).post("/api/v1/primings/", payload, format="json")
    assert response.status_code == 400
    assert {"agents.0.concentration", "agents.1.agent"} <= set(response.data)
    assert not PrimingCondition.objects.exists()


def test_a_database_rule_answers_400_naming_the_field(api, lab, technician):
    payload = {"code": "D-P", "species": "human", "tissue_source": "adipose", "pooled": True, "n_donors": 1}
    response = api(technician).post("/api/v1/donors/", payload, format="json")
    assert response.status_code == 400
    assert "n_donors" in response.data


def test_a_duplicate_code_answers_400_naming_code(api, lab, technician):
    f.DonorFactory(lab=lab, code="D-DUP")
    response = api(technician).post(
        "/api/v1/donors/", {"code": "D-DUP", "species": "human", "tissue_source": "adipose"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.data) == ["code"]


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("age_years", "NaN"),
        ("age_years", "Infinity"),
        ("age_years", 10**400),
        ("code", "D\x00X"),
        ("code", "x" * 500),
        ("n_donors", 2**70),
        ("n_donors", -1),
        ("pooled", "maybe"),
        ("tissue_source", "moon_rock"),
        ("species", ["human"]),
        ("anatomical_site", {"a": 1}),
    ],
)
def test_impossible_values_answer_400_naming_the_field(api, technician, field, value):
    payload = {"code": "D-V", "species": "human", "tissue_source": "adipose", field: value}
    response = api(technician).post("/api/v1/donors/", payload, format="json")
    assert response.status_code == 400, response.data
    assert field in response.data


@pytest.mark.parametrize(
    ("field", "raw"), [("age_years", "1e309"), ("age_years", "-1e309"), ("code", '"D\\ud800"'), ("code", '"\\udfff"')]
)
def test_values_json_can_carry_but_python_cannot_store_answer_400(api, technician, field, raw):
    body = f'{{"species": "human", "tissue_source": "adipose", "code": "D-R", "{field}": {raw}}}'
    response = _post_raw(api(technician), "/api/v1/donors/", body.encode())
    assert response.status_code == 400, response.data
    assert field in response.data


@pytest.mark.parametrize("value", [True, "abc", 10**30, -5, 1.5, [1], {"id": 1}, None])
def test_a_foreign_key_that_is_not_an_id_of_the_lab_answers_400(api, lab, technician, value):
    payload = {"code": "C-1", "donor": value, "isolation_method": "explant", "basal_medium": "alpha_mem",
               "antibiotics": "none", "supplement": "fbs"}  # fmt: skip
    response = api(technician).post("/api/v1/cell-lines/", payload, format="json")
    assert response.status_code == 400
    assert "donor" in response.data


def test_nul_and_surrogates_in_study_groups_answer_400(api, technician):
    body = '{"title": "T", "groups": [{"name": "A\\u0000", "role": "treatment"}, {"name": "\\ud800", "role": "sham"}]}'
    response = _post_raw(api(technician), "/api/v1/studies/", body.encode())
    assert response.status_code == 400
    assert {"groups.0.name", "groups.1.name"} <= set(response.data)


@pytest.mark.parametrize("path", ["99999999999999999999999", "0", "-1", "abc", "1.5", "%00"])
def test_an_id_that_cannot_exist_answers_404(api, technician, path):
    assert api(technician).get(f"/api/v1/batches/{path}/").status_code == 404


@pytest.mark.parametrize(
    "params",
    [{"page": "abc"}, {"page": 0}, {"page": 10**30}, {"page_size": -1}, {"page_size": "x"}, {"ordering": "password"}],
)
def test_odd_paging_and_ordering_never_break_the_list(api, technician, params):
    assert api(technician).get("/api/v1/batches/", params).status_code in {200, 400, 404}


def test_the_conflict_body_carries_the_current_version(api, lab, technician):
    donor = f.DonorFactory(lab=lab)
    response = api(technician).patch(f"/api/v1/donors/{donor.pk}/", {"lot": "L", "version": 7}, format="json")
    assert response.status_code == 409
    assert json.loads(response.content) == {"detail": response.data["detail"], "current_version": 1}


@pytest.mark.parametrize(
    ("url", "field"),
    [("/api/v1/donors/", "species"), ("/api/v1/cell-lines/", "donor"), ("/api/v1/batches/", "passage")],
)
def test_an_error_that_echoes_a_lone_surrogate_still_renders(api, technician, url, field):
    response = _post_raw(api(technician), url, f'{{"{field}": "\\ud83d"}}'.encode())
    assert response.status_code == 400
    assert field in json.loads(response.content)


def test_a_nul_byte_in_the_query_string_answers_400_in_json(api, technician):
    response = api(technician).get("/api/v1/storage-locations/?ordering=a%00b")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "non_field_errors" in response.json()


def test_a_database_rule_broken_by_a_nested_row_names_the_row(api, technician):
    payload = {
        "name": "DFO",
        "kind": "hypoxia_mimetic",
        "agents": [{"agent": "deferoxamine", "concentration": 150, "concentration_unit": "ng/mL"}],
    }
    response = api(technician).post("/api/v1/primings/", payload, format="json")
    assert response.status_code == 400
    assert response.data == {"agents.0.concentration_unit": ["Deferoxamine is dosed in µM or mM."]}
    assert not PrimingCondition.objects.exists()
