"""Two people receive the same shipment at the same moment on two database connections: one receipt."""

import threading

import pytest
from django.core.exceptions import ValidationError
from django.db import connection

from batches.models import ReceivedAliquot, ShipmentReceipt
from batches.shipments.services import shipment_create, shipment_dispatch, shipment_receive
from lims.models import Role
from tests.shipments.conftest import PASSWORD, member

pytestmark = pytest.mark.django_db(transaction=True)


def test_two_simultaneous_receipts_of_one_shipment_make_one_receipt(
    partners, lab, technician, reviewer, receiving_lab, receiver_tech, shipped_aliquots
):
    second_receiver = member(receiving_lab, "rosa", Role.TECHNICIAN)
    shipment = shipment_create(
        lab=lab,
        actor=technician,
        receiver_id=receiving_lab.pk,
        aliquot_ids=[a.pk for a in shipped_aliquots],
        shipping_condition="ln2_dry_shipper",
    )
    shipment_dispatch(shipment=shipment, actor=reviewer, password=PASSWORD)
    items = [{"item": item.pk, "accepted": True} for item in shipment.items.all()]
    barrier = threading.Barrier(2)
    outcomes: list[str] = []

    def receive(actor) -> None:
        try:
            barrier.wait(timeout=10)
            shipment_receive(shipment=shipment, actor=actor, items=items, condition_on_arrival="intact")
            outcomes.append("received")
        except ValidationError as refused:
            outcomes.append(refused.message_dict["shipment"][0])
        finally:
            connection.close()

    threads = [threading.Thread(target=receive, args=(user,)) for user in (receiver_tech, second_receiver)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(outcomes)[-1] == "received"
    assert outcomes.count("received") == 1
    assert any("was already received" in outcome for outcome in outcomes)
    assert ShipmentReceipt.objects.filter(shipment=shipment).count() == 1
    assert ReceivedAliquot.objects.count() == len(shipped_aliquots)
