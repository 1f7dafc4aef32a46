"""Record what the lab knows: every writable resource accepts a record with only its identity and its links.

Generated from the API router: a resource that can be created must be listed in IDENTITY with the
fields that say what the record is and what it hangs from; nothing else may be asked for. The
records built that way then show up in the checklist as missing items, and nothing the lab did not
send is stored as if it had been recorded.
"""

import pytest

from batches.checklist import evaluate_batch, evaluate_study
from batches.models import SecretomeBatch, Study
from lims.api.urls import router

pytestmark = pytest.mark.django_db

# What each creatable resource needs: its identity and its links ("@prefix" = the record made for that prefix).
IDENTITY: dict[str, dict] = {
    "donors": {"code": "D-SPARSE"},
    "cell-lines": {"code": "CL-SPARSE", "donor": "@donors"},
    "immunophenotypes": {"cell_line": "@cell-lines", "marker": "CD73"},
    "differentiations": {"cell_line": "@cell-lines", "lineage": "osteogenic"},
    "passages": {"cell_line": "@cell-lines", "number": 3},
    "primings": {"name": "As published", "kind": "none"},
    "batches": {"code": "SB-SPARSE", "passage": "@passages", "product_type": "CM"},
    "processing-steps": {"batch": "@batches", "order": 1, "kind": "centrifugation"},
    "storage-locations": {"name": "Freezer 2", "kind": "freezer"},
    "aliquots": {"batch": "@batches", "code": "SB-SPARSE-A01"},
    # A specification is a rule, not an observation: what it limits is part of what it is.
    "qc-specifications": {"assay": "endotoxin", "effective_from": "2025-01-01", "max_value": 0.5},
    "qc-results": {"batch": "@batches", "assay": "endotoxin"},
    "studies": {"title": "Secretome in MIA knee OA, as published"},
    "administrations": {"study": "@studies", "batch": "@batches", "group": "CM"},
    "outcome-measures": {"study": "@studies", "test": "von_frey"},
    "protocols": {"code": "SOP-CM-001", "title": "Conditioning", "category": "conditioning"},
    # A protocol version is its text.
    "protocol-versions": {"protocol": "@protocols", "body": "1. Wash twice with PBS."},
    # A member is invited (by e-mail or user name) and joins on accepting: POST /memberships/ is an invitation.
    "memberships": {"invitee": "new.member@example.org", "role": "auditor"},
    "invitations": {"invitee": "guest@example.org", "role": "auditor"},
}

# Creatable endpoints that are not a record built from its identity, each with the reason.
NOT_RECORDS = {
    # Uploads: a file becomes many records of the other resources (dry run, then all-or-nothing commit).
    "imports",
    "qc-results/import-instrument",
    # Acts between two labs, not observations of one: a partnership names another lab, and a shipment packs
    # available aliquots of released batches for a declared partner (tests/shipments covers both).
    "partner-labs",
    "shipments",
}

# Values a record may hold without anyone recording them: lifecycle and bookkeeping, computed or
# derived values, the recording user, and flags whose default is the ordinary case.
NOT_OBSERVATIONS = {
    "id",
    "lab",
    "version",
    "created_at",
    "created_by",
    "updated_at",
    "status",
    "outcome",
    "operator",
    "performed_by",
    "path",
    "number",
    "qc_out_of_spec",
    "is_primary",
    "primed_with_ifng",
    "sample",
    "value_type",
    "parameters",
    "spec_version",
    "user",
    "username",
    "full_name",
    "email",
    "joined_at",
    "role",
    "lab_name",
}


def _creatable() -> list[str]:
    return [
        prefix
        for prefix, viewset, _ in router.registry
        if hasattr(viewset, "create") and "post" in getattr(viewset, "http_method_names", ["post"])
    ]


def test_every_creatable_resource_says_what_its_identity_is():
    assert sorted(_creatable()) == sorted([*IDENTITY, *NOT_RECORDS])


def _empty(value) -> bool:
    return value is None or value == "" or value == [] or value == {}


def _create_all(api, lab, technician, lab_admin, other_user) -> dict[str, dict]:
    made: dict[str, dict] = {}
    for prefix in IDENTITY:  # ordered so that links point to records made before
        payload = {}
        for name, value in IDENTITY[prefix].items():
            if value == "@user":
                value = other_user.pk
            elif isinstance(value, str) and value.startswith("@"):
                value = made[value[1:]]["id"]
            payload[name] = value
        writer = lab_admin if prefix in ("memberships", "invitations", "qc-specifications") else technician
        response = api(writer).post(f"/api/v1/{prefix}/", payload, format="json")
        assert response.status_code == 201, (prefix, response.data)
        made[prefix] = {**response.data, "_payload": payload}
    return made


def test_a_record_with_only_its_identity_and_links_is_created_and_invents_nothing(
    api, lab, technician, lab_admin, other_lab
):
    from tests import factories as f

    other_user = f.UserFactory(username="newcomer")
    made = _create_all(api, lab, technician, lab_admin, other_user)
    invented = {
        prefix: {
            name: value
            for name, value in data.items()
            if name not in data["_payload"]
            and name != "_payload"
            and name not in NOT_OBSERVATIONS
            and not _empty(value)
            and value is not False
        }
        for prefix, data in made.items()
    }
    assert {prefix: values for prefix, values in invented.items() if values} == {}


def test_a_boolean_nobody_recorded_is_null_not_false(api, lab, technician):
    from tests import factories as f

    donor = api(technician).post("/api/v1/donors/", {"code": "D-BOOL"}, format="json").data
    batch = f.SecretomeBatchFactory(lab=lab)
    response = api(technician).post(
        "/api/v1/batches/", {"code": "SB-BOOL", "passage": batch.passage_id, "product_type": "EV"}, format="json"
    )
    assert (donor["pooled"], donor["genetically_modified"], donor["consent_obtained"]) == (None, None, None)
    assert (response.data["serum_free"], response.data["used_fresh"]) == (None, None)


def test_the_sparse_records_appear_in_the_checklist_as_missing_items(api, lab, technician, lab_admin):
    from tests import factories as f

    made = _create_all(api, lab, technician, lab_admin, f.UserFactory(username="newcomer"))
    batch = SecretomeBatch.objects.get(pk=made["batches"]["id"])
    study = Study.objects.get(pk=made["studies"]["id"])

    batch_items = {item.item_id: item for item in evaluate_batch(batch).items}
    satisfied = {item_id for item_id, item in batch_items.items() if item.status == "satisfied"}
    # Only what identity and links already say can be satisfied: the donor's code, the passage number, the
    # product type, and the processing kind of the one step.
    assert satisfied <= {"cs_donor", "ie_passage_number", "sp_product_type"}
    assert {item.status for item in batch_items.values()} <= {"satisfied", "missing", "not_applicable"}
    for item_id in ("cs_tissue_source", "ie_isolation_method", "ie_incubator", "sp_conditioning_time"):
        assert batch_items[item_id].status == "missing", batch_items[item_id].message
    for item_id in ("st_state", "st_temperature", "st_freeze_thaw", "st_buffer_container"):
        assert batch_items[item_id].status == "missing", batch_items[item_id].message
        assert "used fresh" in batch_items[item_id].message

    study_items = evaluate_study(study).items
    assert {item.status for item in study_items} <= {"missing", "not_applicable"}
    by_id = {item.item_id: item for item in study_items}
    for item_id in ("da_dose", "da_route", "da_volume", "da_schedule", "da_vehicle_controls"):
        assert by_id[item_id].status == "missing", by_id[item_id].message
        assert by_id[item_id].subject.startswith("administration #")


def test_values_given_are_still_checked_against_what_is_possible(api, lab, technician):
    donor = api(technician).post("/api/v1/donors/", {"code": "D-BAD", "species": "dragon"}, format="json")
    assert donor.status_code == 400
    assert "species" in donor.data

    ok = api(technician).post("/api/v1/donors/", {"code": "D-OK"}, format="json").data
    line = api(technician).post("/api/v1/cell-lines/", {"code": "CL-OK", "donor": ok["id"]}, format="json").data
    response = api(technician).post(
        "/api/v1/passages/",
        {"cell_line": line["id"], "number": 2, "started_on": "2025-02-06", "harvested_on": "2025-02-01"},
        format="json",
    )
    assert response.status_code == 400
    assert "harvested_on" in response.data
    response = api(technician).post(
        "/api/v1/passages/", {"cell_line": line["id"], "number": 2, "harvested_on": "2025-02-01"}, format="json"
    )
    assert response.status_code == 201, "a harvest day alone is not compared with a seeding day nobody recorded"


def _sparse_administration(api, lab, technician, **values):
    from tests import factories as f

    study = f.StudyFactory(lab=lab)
    batch = f.SecretomeBatchFactory(lab=lab)
    return api(technician).post(
        "/api/v1/administrations/", {"study": study.pk, "batch": batch.pk, "group": "CM", **values}, format="json"
    )


def test_an_irregular_schedule_sets_the_number_of_doses_and_the_first_day(api, lab, technician):
    response = _sparse_administration(api, lab, technician, schedule_days=[-1, 7, 11])
    assert response.status_code == 201, response.data
    assert (response.data["schedule_days"], response.data["n_doses"], response.data["day_after_induction"]) == (
        [-1, 7, 11],
        3,
        -1,
    )


@pytest.mark.parametrize(
    ("values", "field"),
    [
        ({"schedule_days": [7, -1, 11]}, "schedule_days"),
        ({"schedule_days": [7, 7]}, "schedule_days"),
        ({"schedule_days": ["day 7"]}, "schedule_days"),
        ({"schedule_days": [-1, 7, 11], "n_doses": 2}, "n_doses"),
        ({"schedule_days": [-1, 7, 11], "day_after_induction": 0}, "day_after_induction"),
    ],
)
def test_a_schedule_that_contradicts_itself_is_refused_naming_the_field(api, lab, technician, values, field):
    response = _sparse_administration(api, lab, technician, **values)
    assert response.status_code == 400
    assert any(key == field or key.startswith(f"{field}.") for key in response.data), response.data


def test_an_empty_schedule_means_not_recorded(api, lab, technician):
    response = _sparse_administration(api, lab, technician, schedule_days=[])
    assert response.status_code == 201, response.data
    assert response.data["schedule_days"] is None
    assert response.data["n_doses"] is None


def test_changing_the_schedule_moves_the_number_of_doses_with_it(api, lab, technician):
    created = _sparse_administration(api, lab, technician, schedule_days=[-1, 7, 11]).data
    response = api(technician).patch(
        f"/api/v1/administrations/{created['id']}/",
        {"schedule_days": [1, 3, 5, 7], "version": created["version"]},
        format="json",
    )
    assert response.status_code == 200, response.data
    assert (response.data["n_doses"], response.data["day_after_induction"]) == (4, 1)


@pytest.mark.parametrize(
    ("prefix", "field", "details"),
    [
        ("donors", "tissue_source", "tissue_source_details"),
        ("studies", "pain_model", "pain_model_details"),
    ],
)
def test_an_open_list_takes_other_with_its_details(api, lab, technician, prefix, field, details):
    identity = {"donors": {"code": "D-OTHER"}, "studies": {"title": "TMJ study"}}[prefix]
    response = api(technician).post(
        f"/api/v1/{prefix}/", {**identity, field: "other", details: "TMJ osteoarthritis (MIA)"}, format="json"
    )
    assert response.status_code == 201, response.data
    assert (response.data[field], response.data[details]) == ("other", "TMJ osteoarthritis (MIA)")


def test_a_date_nobody_recorded_stays_empty(api, lab, technician):
    from tests import factories as f

    batch = f.SecretomeBatchFactory(lab=lab)
    response = api(technician).post("/api/v1/qc-results/", {"batch": batch.pk, "assay": "sterility"}, format="json")
    assert response.status_code == 201, response.data
    assert response.data["performed_on"] is None
    assert response.data["performed_by"] == technician.pk
