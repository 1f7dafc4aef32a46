"""Protocol versions: a draft is edited freely; publishing freezes it and retires its predecessor."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction

from lims.services.signatures import signature_is_valid, signatures_for_record
from protocols.models import ProtocolParameter, ProtocolVersion
from protocols.services import (
    protocol_create,
    protocol_update,
    protocol_version_create_draft,
    protocol_version_delete_draft,
    protocol_version_publish,
    protocol_version_retire,
    protocol_version_update_draft,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

SIGNING_PASSWORD = "correct-horse-battery"  # every tests.factories.UserFactory user's password

UF_3KDA = {"name": "mwco_kda", "value_type": "number", "unit": "kDa", "default": "3", "min_value": 3, "max_value": 3}


@pytest.fixture
def protocol(lab, technician):
    return protocol_create(
        lab=lab, actor=technician, code="SOP-UF-001", title="Ultrafiltration of CM", category="processing"
    )


@pytest.fixture
def draft(protocol, technician):
    return protocol_version_create_draft(
        protocol=protocol, actor=technician, body="Concentrate 10× on a 3 kDa filter.", parameters=[UF_3KDA]
    )


def test_a_draft_is_numbered_after_the_last_version_and_holds_typed_parameters(draft):
    assert draft.number == 1
    assert draft.status == "draft"
    parameter = draft.parameters.get()
    assert (parameter.name, parameter.unit, parameter.min_value, parameter.max_value) == ("mwco_kda", "kDa", 3, 3)


def test_a_draft_can_be_edited_freely(draft, technician):
    edited = protocol_version_update_draft(
        version=draft,
        actor=technician,
        body="Concentrate 10× on a 3 kDa filter at 4 °C.",
        change_summary="temperature stated",
        parameters=[UF_3KDA, {"name": "temperature_c", "unit": "°C", "min_value": 2, "max_value": 8}],
    )
    assert edited.body.endswith("at 4 °C.")
    assert edited.change_summary == "temperature stated"
    assert sorted(edited.parameters.values_list("name", flat=True)) == ["mwco_kda", "temperature_c"]
    assert edited.version > draft.version


def test_publishing_makes_the_draft_effective_signed_by_the_reviewer(draft, reviewer):
    published = protocol_version_publish(version=draft, actor=reviewer, password=SIGNING_PASSWORD)
    assert published.status == "effective"
    assert published.approved_by == reviewer
    assert published.approved_at is not None


def test_publishing_retires_the_previous_effective_version(protocol, draft, reviewer, technician):
    first = protocol_version_publish(version=draft, actor=reviewer, password=SIGNING_PASSWORD)
    second = protocol_version_create_draft(protocol=protocol, actor=technician, change_summary="5 kDa filter")
    assert second.number == 2
    assert second.body == first.body, "a new draft starts from the latest text"
    assert list(second.parameters.values_list("name", flat=True)) == ["mwco_kda"]
    protocol_version_publish(version=second, actor=reviewer, password=SIGNING_PASSWORD)
    first.refresh_from_db()
    assert first.status == "retired"
    assert first.approved_by == reviewer, "retiring keeps the signature of the original approval"
    assert ProtocolVersion.objects.filter(protocol=protocol, status="effective").get().pk == second.pk


def test_publishing_is_an_electronic_signature_over_the_text_and_parameters(draft, reviewer):
    protocol_version_publish(version=draft, actor=reviewer, password=SIGNING_PASSWORD)
    (signature,) = signatures_for_record(record=draft)
    assert (signature.user, signature.meaning) == (reviewer, "published")
    assert signature.record_content["related"]["parameters"][0]["fields"]["name"] == "mwco_kda"
    assert signature_is_valid(signature)


def test_a_wrong_password_publishes_nothing(draft, reviewer):
    with pytest.raises(ValidationError) as refused:
        protocol_version_publish(version=draft, actor=reviewer, password="wrong")
    assert "password" in refused.value.message_dict
    draft.refresh_from_db()
    assert (draft.status, draft.approved_by) == ("draft", None)
    assert signatures_for_record(record=draft) == []


def test_publishing_twice_changes_nothing_the_second_time(draft, reviewer):
    once = protocol_version_publish(version=draft, actor=reviewer, password=SIGNING_PASSWORD)
    twice = protocol_version_publish(version=draft, actor=reviewer, password=SIGNING_PASSWORD)
    assert (twice.version, twice.approved_at) == (once.version, once.approved_at)


def test_publishing_is_recorded_in_the_audit_trail_with_the_reviewer(draft, reviewer):
    protocol_version_publish(version=draft, actor=reviewer, password=SIGNING_PASSWORD)
    event = draft.history.filter(pgh_label="update").latest("pgh_id")
    assert event.status == "effective"
    assert event.pgh_context.metadata["user"] == reviewer.pk
    assert "Publish" in event.pgh_context.metadata["reason"]


@pytest.mark.parametrize("role", ["technician", "auditor", "lab_admin", "outsider"])
def test_only_a_reviewer_may_publish(draft, role, request):
    with pytest.raises(PermissionDenied):
        protocol_version_publish(version=draft, actor=request.getfixturevalue(role), password=SIGNING_PASSWORD)
    draft.refresh_from_db()
    assert draft.status == "draft"


def test_a_retired_version_cannot_be_published_again(protocol, draft, reviewer, technician):
    protocol_version_publish(version=draft, actor=reviewer, password=SIGNING_PASSWORD)
    successor = protocol_version_create_draft(protocol=protocol, actor=technician)
    protocol_version_publish(version=successor, actor=reviewer, password=SIGNING_PASSWORD)
    with pytest.raises(ValidationError, match="retired"):
        protocol_version_publish(version=draft, actor=reviewer, password=SIGNING_PASSWORD)


def test_a_protocol_has_one_draft_at_a_time(protocol, draft, technician):
    with pytest.raises(ValidationError, match="already has a draft"):
        protocol_version_create_draft(protocol=protocol, actor=technician)


def test_the_service_refuses_to_edit_an_effective_version(draft, reviewer, technician):
    protocol_version_publish(version=draft, actor=reviewer, password=SIGNING_PASSWORD)
    with pytest.raises(ValidationError) as refused:
        protocol_version_update_draft(version=draft, actor=technician, body="Use a 10 kDa filter.")
    assert "status" in refused.value.message_dict
    assert "cannot be edited" in refused.value.message_dict["status"][0]
    draft.refresh_from_db()
    assert draft.body == "Concentrate 10× on a 3 kDa filter."


def test_the_service_refuses_to_delete_an_effective_version(draft, reviewer, technician):
    protocol_version_publish(version=draft, actor=reviewer, password=SIGNING_PASSWORD)
    with pytest.raises(ValidationError, match="cannot be deleted"):
        protocol_version_delete_draft(version=draft, actor=technician)


def test_a_draft_can_be_deleted(draft, technician):
    protocol_version_delete_draft(version=draft, actor=technician)
    assert not ProtocolVersion.objects.filter(pk=draft.pk).exists()


@pytest.mark.parametrize(
    "change",
    [
        {"body": "tampered"},
        {"change_summary": "tampered"},
        {"number": 7},
        {"status": "draft"},
    ],
)
def test_the_database_refuses_any_change_to_an_effective_versions_content(draft, reviewer, change):
    protocol_version_publish(version=draft, actor=reviewer, password=SIGNING_PASSWORD)
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        ProtocolVersion.objects.filter(pk=draft.pk).update(**change)


def test_the_database_refuses_to_change_a_published_versions_parameters(draft, reviewer):
    protocol_version_publish(version=draft, actor=reviewer, password=SIGNING_PASSWORD)
    with pytest.raises(IntegrityError, match="cannot change"), transaction.atomic():
        ProtocolParameter.objects.filter(protocol_version=draft).update(max_value=10)
    with pytest.raises(IntegrityError, match="cannot change"), transaction.atomic():
        ProtocolParameter.objects.create(lab=draft.lab, protocol_version=draft, name="temperature_c")
    with pytest.raises(IntegrityError, match="cannot change"), transaction.atomic():
        ProtocolParameter.objects.filter(protocol_version=draft).delete()
    assert draft.parameters.get().max_value == 3


def test_the_database_refuses_to_delete_a_published_version(publish_sop):
    version = publish_sop(parameters=())
    with pytest.raises(DatabaseError, match="Cannot delete"), transaction.atomic():
        ProtocolVersion.objects.filter(pk=version.pk).delete()
    assert ProtocolVersion.objects.filter(pk=version.pk).exists()


def test_retiring_without_a_successor_needs_a_reviewer_and_a_reason(draft, reviewer, technician):
    protocol_version_publish(version=draft, actor=reviewer, password=SIGNING_PASSWORD)
    with pytest.raises(PermissionDenied):
        protocol_version_retire(
            version=draft, actor=technician, reason="superseded by vendor kit", password=SIGNING_PASSWORD
        )
    with pytest.raises(ValidationError, match="Say why"):
        protocol_version_retire(version=draft, actor=reviewer, reason=" ", password=SIGNING_PASSWORD)
    retired = protocol_version_retire(
        version=draft, actor=reviewer, reason="superseded by vendor kit", password=SIGNING_PASSWORD
    )
    assert retired.status == "retired"
    assert [s.meaning for s in signatures_for_record(record=retired)] == ["published", "retired"]


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        ({"name": "mwco_kda", "min_value": 10, "max_value": 3}, "above max_value"),
        ({"name": "mwco_kda", "min_value": "three"}, "not a number"),
        ({"name": "rpm_of_the_moon"}, "has no field 'rpm_of_the_moon'"),
        ({"name": "Bad Name"}, "snake_case"),
        ({"name": "lyoprotectant", "value_type": "choice", "choices": ["sugar"]}, "sugar not a value"),
        ({"name": "lyoprotectant", "value_type": "choice", "choices": []}, "list the allowed choices"),
        ({"name": "kind", "value_type": "number"}, "not a number field"),
        ({"name": "mwco_kda", "default": "30", "min_value": 3, "max_value": 10}, "default 30 is outside"),
    ],
)
def test_a_bad_parameter_is_refused_with_a_message_naming_it(protocol, technician, parameter, message):
    with pytest.raises(ValidationError) as refused:
        protocol_version_create_draft(protocol=protocol, actor=technician, body="text", parameters=[parameter])
    errors = refused.value.message_dict["parameters"]
    assert any(message in error for error in errors), errors
    assert not protocol.versions.exists(), "nothing half-written"


def test_a_text_parameter_may_document_something_no_field_holds(protocol, technician):
    version = protocol_version_create_draft(
        protocol=protocol,
        actor=technician,
        body="text",
        parameters=[{"name": "filter_device", "value_type": "text", "default": "Amicon Ultra-15"}],
    )
    assert version.parameters.get().default == "Amicon Ultra-15"


def test_a_protocol_keeps_its_category_once_a_version_was_published(protocol, draft, reviewer, technician):
    protocol_version_publish(version=draft, actor=reviewer, password=SIGNING_PASSWORD)
    with pytest.raises(ValidationError, match="cannot change category"):
        protocol_update(protocol=protocol, actor=technician, category="storage")
    renamed = protocol_update(protocol=protocol, actor=technician, title="Ultrafiltration of conditioned medium")
    assert renamed.title == "Ultrafiltration of conditioned medium"


def test_a_protocol_code_is_unique_in_the_lab(protocol, technician, lab):
    with pytest.raises(ValidationError, match="already has a protocol"):
        protocol_create(lab=lab, actor=technician, code="SOP-UF-001", title="again", category="processing")


def test_an_auditor_cannot_draft(protocol, auditor):
    with pytest.raises(PermissionDenied):
        protocol_version_create_draft(protocol=protocol, actor=auditor, body="text")


def test_the_factory_trait_makes_an_effective_version(lab):
    version = f.ProtocolVersionFactory(lab=lab, effective=True)
    assert version.status == "effective"
