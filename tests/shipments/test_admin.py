"""The shipment pages of the admin: read-only, for lab administrators, each side seeing only its own part."""

import pytest
from django.test import Client
from django.urls import reverse

from batches import models as m
from batches.shipments.services import shipment_create
from tests import factories as f
from tests.shipments.conftest import released_and_verified, ship_and_receive

pytestmark = pytest.mark.django_db


def _admin(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def _url(model, view: str, *args) -> str:
    return reverse(f"admin:batches_{model._meta.model_name}_{view}", args=args)


@pytest.fixture
def shipped(partners, lab, technician, reviewer, receiving_lab, receiver_tech):
    batch = released_and_verified(lab, technician, reviewer)
    shipment = ship_and_receive(lab, technician, reviewer, receiving_lab, receiver_tech, list(batch.aliquots.all()))
    packed = shipment_create(
        lab=lab, actor=technician, receiver_id=receiving_lab.pk, shipping_condition="ambient",
        aliquot_ids=[f.AliquotFactory(lab=lab, batch=batch, code="SB-PACKED-1").pk],
    )  # fmt: skip
    return shipment, packed


def test_each_labs_admin_reads_its_side_of_a_shipment_and_changes_nothing(
    shipped, lab_admin, receiver_admin, technician, receiver_tech
):
    shipment, packed = shipped
    snapshot = shipment.snapshots.get()
    received = m.ReceivedAliquot.objects.filter(receipt__shipment=shipment).first()

    producer = _admin(lab_admin)
    listing = producer.get(_url(m.Shipment, "changelist")).content.decode()
    assert shipment.code in listing and packed.code in listing
    assert producer.get(_url(m.ProvenanceSnapshot, "change", snapshot.pk)).status_code == 200
    assert producer.get(_url(m.ReceivedAliquot, "change", received.pk)).status_code in (302, 404)
    assert received.code not in producer.get(_url(m.ReceivedAliquot, "changelist")).content.decode()

    receiver = _admin(receiver_admin)
    listing = receiver.get(_url(m.Shipment, "changelist")).content.decode()
    assert shipment.code in listing and packed.code not in listing  # a packed shipment is the sender's own
    page = receiver.get(_url(m.ProvenanceSnapshot, "change", snapshot.pk))
    assert page.status_code == 200 and snapshot.fingerprint in page.content.decode()
    assert 'name="_save"' not in page.content.decode()
    assert receiver.get(_url(m.ReceivedAliquot, "change", received.pk)).status_code == 200
    assert receiver.get(_url(m.SecretomeBatch, "change", snapshot.batch_id)).status_code in (302, 404)
    assert receiver.post(_url(m.ReceivedAliquot, "change", received.pk), {"code": "X"}).status_code == 403
    received.refresh_from_db()
    assert received.code != "X"

    for member in (technician, receiver_tech):
        assert _admin(member).get(_url(m.Shipment, "changelist")).status_code == 302
