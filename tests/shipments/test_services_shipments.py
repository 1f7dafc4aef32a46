"""Packing, signing and receiving a shipment between partner labs; the snapshot the receiver can trust."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, connection, transaction

from batches.models import Aliquot, AliquotEvent, ProvenanceSnapshot, ReceivedAliquot, Shipment
from batches.shipments.services import (
    partner_lab_declare,
    received_aliquot_thaw,
    shipment_create,
    shipment_dispatch,
    shipment_receive,
    shipment_refuse,
)
from batches.shipments.snapshots import provenance_fingerprint
from lims.signatures import Signature
from tests import factories as f
from tests.shipments.conftest import PASSWORD, released_batch

pytestmark = pytest.mark.django_db


def _pack(lab, technician, receiving_lab, aliquots, **extra):
    return shipment_create(
        lab=lab,
        actor=technician,
        receiver_id=receiving_lab.pk,
        aliquot_ids=[a.pk for a in aliquots],
        shipping_condition="dry_ice",
        courier="World Courier",
        tracking_reference="WC-123",
        **extra,
    )


def _dispatched(lab, technician, reviewer, receiving_lab, aliquots):
    shipment = _pack(lab, technician, receiving_lab, aliquots)
    return shipment_dispatch(shipment=shipment, actor=reviewer, password=PASSWORD)


def _accept_all(shipment, actor, location=None):
    return [
        {"item": item.pk, "accepted": True, "location": location, "position": f"A{n}" if location else ""}
        for n, item in enumerate(shipment.items.order_by("aliquot_code"), start=1)
    ]


# --- Partner labs --------------------------------------------------------------------------------


def test_only_a_lab_admin_declares_a_partner_lab(lab, technician, receiving_lab):
    with pytest.raises(PermissionDenied):
        partner_lab_declare(lab=lab, actor=technician, partner=receiving_lab)


def test_a_lab_cannot_be_its_own_partner(lab, lab_admin):
    with pytest.raises(ValidationError) as refused:
        partner_lab_declare(lab=lab, actor=lab_admin, partner=lab)
    assert "partner" in refused.value.message_dict


def test_declaring_again_changes_the_declaration(lab, lab_admin, receiving_lab):
    first = partner_lab_declare(lab=lab, actor=lab_admin, partner=receiving_lab)
    second = partner_lab_declare(lab=lab, actor=lab_admin, partner=receiving_lab, sends_to=False)
    assert first.pk == second.pk and second.sends_to is False
    assert second.version == first.version + 1


def test_declaring_again_goes_through_the_write_path_rules(lab, lab_admin, receiving_lab):
    first = partner_lab_declare(lab=lab, actor=lab_admin, partner=receiving_lab, note="MTA 2025-07")
    with pytest.raises(ValidationError) as refused:
        partner_lab_declare(lab=lab, actor=lab_admin, partner=receiving_lab, note="x" * 301)
    assert "note" in refused.value.message_dict
    first.refresh_from_db()
    assert first.note == "MTA 2025-07"


# --- Packing -------------------------------------------------------------------------------------


def test_a_technician_packs_available_aliquots_of_released_batches_which_become_reserved(
    partners, lab, technician, receiving_lab, shipped_aliquots
):
    shipment = _pack(lab, technician, receiving_lab, shipped_aliquots)
    assert shipment.status == "packed" and shipment.code == "SH-0001" and shipment.packed_by == technician
    assert [i.aliquot_code for i in shipment.items.order_by("aliquot_code")] == [a.code for a in shipped_aliquots]
    assert set(Aliquot.objects.filter(pk__in=[a.pk for a in shipped_aliquots]).values_list("status", flat=True)) == {
        "reserved"
    }


def test_shipping_to_a_lab_that_is_not_a_partner_is_refused(lab, technician, receiving_lab, shipped_aliquots):
    with pytest.raises(ValidationError) as refused:
        _pack(lab, technician, receiving_lab, shipped_aliquots)
    assert "partner" in refused.value.message_dict["receiver"][0]


def test_shipping_needs_the_receivers_side_of_the_partnership_too(
    lab, lab_admin, technician, receiving_lab, shipped_aliquots
):
    partner_lab_declare(lab=lab, actor=lab_admin, partner=receiving_lab)
    with pytest.raises(ValidationError) as refused:
        _pack(lab, technician, receiving_lab, shipped_aliquots)
    assert refused.value.message_dict["receiver"] == [
        "The receiving lab has not declared that it receives from this lab."
    ]


@pytest.mark.parametrize("status", ["consumed", "reserved", "discarded"])
def test_an_aliquot_that_is_not_available_is_refused_by_code(
    partners, lab, technician, receiving_lab, shipped_aliquots, status
):
    Aliquot.objects.filter(pk=shipped_aliquots[0].pk).update(status=status)
    with pytest.raises(ValidationError) as refused:
        _pack(lab, technician, receiving_lab, shipped_aliquots)
    assert refused.value.message_dict["aliquots"] == [
        f"Aliquot {shipped_aliquots[0].code} is {status}; only an available aliquot can be shipped."
    ]
    assert not Shipment.objects.exists()


def test_an_aliquot_of_another_lab_is_refused_without_saying_what_it_is(
    partners, lab, technician, receiving_lab, other_lab
):
    foreign = f.AliquotFactory(lab=other_lab, batch=released_batch(other_lab), code="THEIRS-1")
    with pytest.raises(ValidationError) as refused:
        _pack(lab, technician, receiving_lab, [foreign])
    assert refused.value.message_dict["aliquots"] == [f"Aliquot id {foreign.pk} is not one of Pain Lab's aliquots."]


def test_an_aliquot_of_an_unreleased_batch_is_refused(partners, lab, technician, receiving_lab):
    draft = f.AliquotFactory(lab=lab, batch=f.SecretomeBatchFactory(lab=lab, code="SB-DRAFT"))
    with pytest.raises(ValidationError) as refused:
        _pack(lab, technician, receiving_lab, [draft])
    assert "only released batches are shipped" in refused.value.message_dict["aliquots"][0]


def test_an_aliquot_cannot_be_packed_twice(partners, lab, technician, receiving_lab, shipped_aliquots):
    _pack(lab, technician, receiving_lab, shipped_aliquots[:1])
    with pytest.raises(ValidationError) as refused:
        _pack(lab, technician, receiving_lab, shipped_aliquots[:1])
    assert "is reserved" in refused.value.message_dict["aliquots"][0]


# --- Dispatch ------------------------------------------------------------------------------------


def test_a_reviewer_signs_the_dispatch_and_each_batch_is_frozen_as_a_fingerprinted_snapshot(
    partners, lab, technician, reviewer, receiving_lab, shipped_aliquots
):
    shipment = _dispatched(lab, technician, reviewer, receiving_lab, shipped_aliquots)
    assert shipment.status == "dispatched" and shipment.dispatched_by == reviewer and shipment.sent_at
    signature = Signature.objects.get(object_id=shipment.pk, content_type__model="shipment")
    assert signature.meaning == "approved" and "Dispatch of shipment SH-0001" in signature.comment
    snapshot = ProvenanceSnapshot.objects.get(shipment=shipment)
    assert snapshot.snapshot_version == 1 and snapshot.receiver == receiving_lab
    assert snapshot.fingerprint == provenance_fingerprint(snapshot.content)
    content = snapshot.content
    assert content["producer"]["name"] == "Pain Lab" and content["batch"] == "SB-SHIP-1"
    assert content["records"]["batches"][0]["code"] == "SB-SHIP-1"
    assert {"cell_lines", "donors", "primings", "protocols"} <= set(content["records"])
    assert [a["code"] for a in content["shipment"]["aliquots"]] == [a.code for a in shipped_aliquots]
    assert set(Aliquot.objects.filter(pk__in=[a.pk for a in shipped_aliquots]).values_list("status", flat=True)) == {
        "consumed"
    }
    assert AliquotEvent.objects.filter(aliquot=shipped_aliquots[0], kind="moved").exists()


def test_dispatch_with_a_wrong_password_signs_nothing_and_changes_nothing(
    partners, lab, technician, reviewer, receiving_lab, shipped_aliquots
):
    shipment = _pack(lab, technician, receiving_lab, shipped_aliquots)
    with pytest.raises(ValidationError) as refused:
        shipment_dispatch(shipment=shipment, actor=reviewer, password="wrong")
    assert "password" in refused.value.message_dict
    shipment.refresh_from_db()
    assert shipment.status == "packed" and not ProvenanceSnapshot.objects.exists()


def test_a_technician_cannot_sign_a_dispatch(partners, lab, technician, receiving_lab, shipped_aliquots):
    shipment = _pack(lab, technician, receiving_lab, shipped_aliquots)
    with pytest.raises(PermissionDenied):
        shipment_dispatch(shipment=shipment, actor=technician, password=PASSWORD)


def test_the_database_refuses_to_change_or_delete_a_snapshot(
    partners, lab, technician, reviewer, receiving_lab, shipped_aliquots
):
    _dispatched(lab, technician, reviewer, receiving_lab, shipped_aliquots)
    snapshot = ProvenanceSnapshot.objects.get()
    for sql in (
        "UPDATE batches_provenancesnapshot SET content = '{}' WHERE id = %s",
        "DELETE FROM batches_provenancesnapshot WHERE id = %s",
    ):
        with pytest.raises(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
            cursor.execute(sql, [snapshot.pk])
    snapshot.refresh_from_db()
    assert snapshot.fingerprint == provenance_fingerprint(snapshot.content)


# --- Receipt -------------------------------------------------------------------------------------


def test_the_receiver_accepts_every_aliquot_into_its_own_box_and_the_history_continues(
    partners, lab, technician, reviewer, receiving_lab, receiver_tech, shipped_aliquots
):
    Aliquot.objects.filter(pk=shipped_aliquots[0].pk).update(freeze_thaw_count=1)
    shipment = _dispatched(lab, technician, reviewer, receiving_lab, shipped_aliquots)
    box = f.StorageLocationFactory(lab=receiving_lab, name="Rx box")
    receipt = shipment_receive(
        shipment=shipment,
        actor=receiver_tech,
        items=_accept_all(shipment, receiver_tech, box),
        condition_on_arrival="intact",
        logger_temperature_c=-72.5,
    )
    shipment.refresh_from_db()
    assert shipment.status == "received" and receipt.lab == receiving_lab
    received = list(ReceivedAliquot.objects.order_by("code"))
    assert [r.code for r in received] == [a.code for a in shipped_aliquots]
    assert all(r.lab == receiving_lab and r.location == box and r.status == "available" for r in received)
    assert received[0].source_aliquot_id == shipped_aliquots[0].pk and received[0].freeze_thaw_count == 1
    thawed = received_aliquot_thaw(aliquot=received[0], actor=receiver_tech)
    assert thawed.freeze_thaw_count == 2
    assert [e.kind for e in thawed.events.order_by("at", "pk")] == ["moved", "thawed"]


def test_a_partial_receipt_rejects_an_aliquot_with_its_reason(
    partners, lab, technician, reviewer, receiving_lab, receiver_tech, shipped_aliquots
):
    shipment = _dispatched(lab, technician, reviewer, receiving_lab, shipped_aliquots)
    items = _accept_all(shipment, receiver_tech)
    items[1] = {"item": items[1]["item"], "accepted": False, "rejection_reason": "Cracked vial"}
    shipment_receive(shipment=shipment, actor=receiver_tech, items=items, condition_on_arrival="damaged")
    shipment.refresh_from_db()
    assert shipment.status == "partially_received"
    rejected = ReceivedAliquot.objects.get(accepted=False)
    assert (rejected.status, rejected.rejection_reason) == ("discarded", "Cracked vial")


def test_a_rejected_aliquot_needs_a_reason_and_every_aliquot_must_be_answered(
    partners, lab, technician, reviewer, receiving_lab, receiver_tech, shipped_aliquots
):
    shipment = _dispatched(lab, technician, reviewer, receiving_lab, shipped_aliquots)
    items = _accept_all(shipment, receiver_tech)[:2]
    items[0]["accepted"] = False
    with pytest.raises(ValidationError) as refused:
        shipment_receive(shipment=shipment, actor=receiver_tech, items=items, condition_on_arrival="intact")
    errors = refused.value.message_dict
    assert errors["items.0.rejection_reason"] == ["Say why this aliquot is rejected."]
    assert "missing: SB-SHIP-1-A3" in errors["items"][0]


def test_a_shipment_received_twice_is_refused(
    partners, lab, technician, reviewer, receiving_lab, receiver_tech, shipped_aliquots
):
    shipment = _dispatched(lab, technician, reviewer, receiving_lab, shipped_aliquots)
    items = _accept_all(shipment, receiver_tech)
    shipment_receive(shipment=shipment, actor=receiver_tech, items=items, condition_on_arrival="intact")
    with pytest.raises(ValidationError) as refused:
        shipment_receive(shipment=shipment, actor=receiver_tech, items=items, condition_on_arrival="intact")
    assert "was already received" in refused.value.message_dict["shipment"][0]


def test_the_receiver_cannot_place_an_aliquot_in_the_producers_freezer(
    partners, lab, technician, reviewer, receiving_lab, receiver_tech, shipped_aliquots
):
    shipment = _dispatched(lab, technician, reviewer, receiving_lab, shipped_aliquots)
    items = _accept_all(shipment, receiver_tech, f.StorageLocationFactory(lab=lab))
    with pytest.raises(ValidationError) as refused:
        shipment_receive(shipment=shipment, actor=receiver_tech, items=items, condition_on_arrival="intact")
    assert refused.value.message_dict["items.0.location"] == ["Choose a storage location of your own lab."]


def test_only_the_receiving_lab_receives(partners, lab, technician, reviewer, receiving_lab, shipped_aliquots):
    shipment = _dispatched(lab, technician, reviewer, receiving_lab, shipped_aliquots)
    with pytest.raises(PermissionDenied):
        shipment_receive(shipment=shipment, actor=technician, items=[], condition_on_arrival="intact")


def test_a_refused_shipment_enters_no_storage(
    partners, lab, technician, reviewer, receiving_lab, receiver_tech, shipped_aliquots
):
    shipment = _dispatched(lab, technician, reviewer, receiving_lab, shipped_aliquots)
    with pytest.raises(ValidationError) as refused:
        shipment_refuse(shipment=shipment, actor=receiver_tech, reason=" ", condition_on_arrival="thawed")
    assert refused.value.message_dict == {"reason": ["Say why the shipment is refused."]}
    receipt = shipment_refuse(
        shipment=shipment,
        actor=receiver_tech,
        reason="Dry ice gone, logger at +12 °C",
        condition_on_arrival="thawed",
        logger_temperature_c=12,
    )
    shipment.refresh_from_db()
    assert receipt.refused and shipment.status == "refused" and not ReceivedAliquot.objects.exists()
    with pytest.raises(ValidationError):
        shipment_receive(
            shipment=shipment,
            actor=receiver_tech,
            items=_accept_all(shipment, receiver_tech),
            condition_on_arrival="intact",
        )


# --- What the database allows across labs, and what the lab did not record -------------------------


def test_an_administrations_batch_may_be_another_labs_only_when_it_was_given_as_a_received_aliquot(
    partners, lab, technician, reviewer, receiving_lab, receiver_tech, shipped_aliquots
):
    shipment = _dispatched(lab, technician, reviewer, receiving_lab, shipped_aliquots)
    shipment_receive(
        shipment=shipment,
        actor=receiver_tech,
        items=_accept_all(shipment, receiver_tech),
        condition_on_arrival="intact",
    )
    received = ReceivedAliquot.objects.order_by("code").first()
    administration = f.AdministrationFactory(lab=receiving_lab)
    producers_batch = shipped_aliquots[0].batch_id

    def update(received_aliquot_id):
        with connection.cursor() as cursor:
            cursor.execute(
                "UPDATE batches_administration SET batch_id = %s, received_aliquot_id = %s WHERE id = %s",
                [producers_batch, received_aliquot_id, administration.pk],
            )
            return cursor.rowcount

    with pytest.raises(DatabaseError, match="another lab"), transaction.atomic():
        update(None)
    assert update(received.pk) == 1
    administration.refresh_from_db()
    assert administration.batch_id == producers_batch and administration.received_aliquot_id == received.pk


def test_an_unrecorded_freeze_thaw_count_is_shipped_and_thawed_as_unknown_never_as_zero(
    partners, lab, technician, reviewer, receiving_lab, receiver_tech, shipped_aliquots
):
    Aliquot.objects.filter(pk=shipped_aliquots[0].pk).update(freeze_thaw_count=None)
    shipment = _dispatched(lab, technician, reviewer, receiving_lab, shipped_aliquots)
    item = shipment.items.get(aliquot=shipped_aliquots[0])
    assert item.freeze_thaw_count is None
    shipment_receive(
        shipment=shipment,
        actor=receiver_tech,
        items=_accept_all(shipment, receiver_tech),
        condition_on_arrival="intact",
    )
    received = ReceivedAliquot.objects.get(item=item)
    assert received.freeze_thaw_count is None
    thawed = received_aliquot_thaw(aliquot=received, actor=receiver_tech)
    assert thawed.freeze_thaw_count is None
    event = thawed.events.get(kind="thawed")
    assert "not recorded" in event.note
