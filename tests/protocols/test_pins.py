"""New work follows an effective SOP: a step cannot pin a draft, a retired version, another lab's or the wrong kind."""

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction

from batches.models import ProcessingStep, SecretomeBatch
from protocols.services import (
    protocol_version_create_draft,
    protocol_version_publish,
    protocol_version_require_pinnable,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

SIGNING_PASSWORD = "correct-horse-battery"  # every tests.factories.UserFactory user's password


@pytest.fixture
def sop_v1(publish_sop):
    return publish_sop(category="conditioning")


@pytest.fixture
def sop_v2(sop_v1, technician, reviewer):
    """v2 published: v1 is now retired."""
    draft = protocol_version_create_draft(protocol=sop_v1.protocol, actor=technician, body="Condition for 48 h.")
    return protocol_version_publish(version=draft, actor=reviewer, password=SIGNING_PASSWORD)


def test_the_effective_version_is_pinnable(sop_v1, lab):
    protocol_version_require_pinnable(sop_v1, record=SecretomeBatch, lab=lab)
    batch = f.SecretomeBatchFactory(lab=lab, protocol_version=sop_v1)
    assert batch.protocol_version == sop_v1


def test_the_service_refuses_a_draft_naming_the_field(lab, technician, sop_v1):
    draft = protocol_version_create_draft(protocol=sop_v1.protocol, actor=technician, body="Condition for 72 h.")
    with pytest.raises(ValidationError) as refused:
        protocol_version_require_pinnable(draft, record=SecretomeBatch, lab=lab)
    assert "still a draft" in refused.value.message_dict["protocol_version"][0]


def test_the_service_refuses_a_retired_version(lab, sop_v1, sop_v2):
    sop_v1.refresh_from_db()
    with pytest.raises(ValidationError, match="was retired"):
        protocol_version_require_pinnable(sop_v1, record=SecretomeBatch, lab=lab)


def test_the_service_refuses_a_protocol_of_the_wrong_kind(lab, sop_v1):
    with pytest.raises(ValidationError, match="needs a processing one"):
        protocol_version_require_pinnable(sop_v1, record=ProcessingStep, lab=lab)


def test_the_service_refuses_another_labs_version(lab, other_lab, publish_sop):
    foreign = publish_sop(owner=other_lab)
    with pytest.raises(ValidationError, match="another lab"):
        protocol_version_require_pinnable(foreign, record=SecretomeBatch, lab=lab)


def test_the_database_refuses_to_insert_a_step_pinned_to_a_draft(lab, technician, sop_v1):
    draft = protocol_version_create_draft(protocol=sop_v1.protocol, actor=technician, body="Condition for 72 h.")
    with pytest.raises(IntegrityError, match="only an effective protocol version can be pinned"), transaction.atomic():
        f.SecretomeBatchFactory(lab=lab, protocol_version=draft)


def test_the_database_refuses_to_repin_a_step_to_a_retired_version(lab, sop_v1, sop_v2):
    batch = f.SecretomeBatchFactory(lab=lab, protocol_version=sop_v2)
    with pytest.raises(IntegrityError, match="is retired"), transaction.atomic():
        SecretomeBatch.objects.filter(pk=batch.pk).update(protocol_version=sop_v1)
    batch.refresh_from_db()
    assert batch.protocol_version_id == sop_v2.pk


def test_a_step_keeps_the_version_it_pinned_after_that_version_retires(lab, sop_v1, technician, reviewer):
    batch = f.SecretomeBatchFactory(lab=lab, protocol_version=sop_v1)
    draft = protocol_version_create_draft(protocol=sop_v1.protocol, actor=technician)
    protocol_version_publish(version=draft, actor=reviewer, password=SIGNING_PASSWORD)
    batch.final_volume_ml = 17
    batch.save()  # other fields still change; the old pin is history, not new work
    batch.refresh_from_db()
    assert batch.protocol_version_id == sop_v1.pk


def test_the_database_refuses_a_protocol_of_the_wrong_kind(lab, publish_sop):
    storage_sop = publish_sop(category="storage", parameters=())
    with pytest.raises(IntegrityError, match="needs a conditioning protocol"), transaction.atomic():
        f.SecretomeBatchFactory(lab=lab, protocol_version=storage_sop)


def test_the_database_refuses_another_labs_version(lab, other_lab, publish_sop):
    foreign = publish_sop(owner=other_lab)
    with pytest.raises(IntegrityError, match="another lab"), transaction.atomic():
        f.SecretomeBatchFactory(lab=lab, protocol_version=foreign)


@pytest.mark.parametrize(
    ("factory", "category"),
    [
        (f.CellLineFactory, "isolation"),
        (f.PassageFactory, "expansion"),
        (f.PrimingConditionFactory, "priming"),
        (f.ProcessingStepFactory, "processing"),
        (f.AliquotFactory, "storage"),
        (f.QCResultFactory, "qc"),
    ],
)
def test_every_step_record_refuses_a_draft_and_accepts_the_effective_version(
    lab, technician, publish_sop, factory, category
):
    effective = publish_sop(category=category, parameters=())
    draft = protocol_version_create_draft(protocol=effective.protocol, actor=technician)
    with pytest.raises(IntegrityError, match="draft"), transaction.atomic():
        factory(lab=lab, protocol_version=draft)
    assert factory(lab=lab, protocol_version=effective).protocol_version_id == effective.pk
