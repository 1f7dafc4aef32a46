"""Two labs that work together: the producing lab (the fixed cast's "Pain Lab") and a pharmacology lab."""

import pytest

from batches.models import ReceivedAliquot, SecretomeBatch
from batches.services.lifecycle import batch_release, batch_submit
from batches.shipments.services import (
    partner_lab_declare,
    received_aliquot_administer,
    shipment_create,
    shipment_dispatch,
    shipment_receive,
)
from lims.models import Role
from tests import factories as f
from tests.batches.checklist.builders import complete_batch

PASSWORD = "correct-horse-battery"


def member(lab, username: str, role: str):
    user = f.UserFactory(username=username, first_name=username.title(), last_name="Receiver")
    f.MembershipFactory(user=user, lab=lab, role=role)
    return user


@pytest.fixture
def receiving_lab(db):
    return f.LabFactory(name="Pain Pharmacology Lab", slug="pain-pharmacology")


@pytest.fixture
def receiver_tech(receiving_lab):
    return member(receiving_lab, "rita", Role.TECHNICIAN)


@pytest.fixture
def receiver_admin(receiving_lab):
    return member(receiving_lab, "rolf", Role.LAB_ADMIN)


@pytest.fixture
def partners(lab, lab_admin, receiving_lab, receiver_admin):
    """Both sides declared: the producing lab ships to the pharmacology lab, which receives from it."""
    partner_lab_declare(lab=lab, actor=lab_admin, partner=receiving_lab, sends_to=True, receives_from=False)
    partner_lab_declare(lab=receiving_lab, actor=receiver_admin, partner=lab, sends_to=False, receives_from=True)
    return lab, receiving_lab


def released_batch(lab, **kwargs) -> SecretomeBatch:
    batch = f.SecretomeBatchFactory(lab=lab, **kwargs)
    SecretomeBatch.objects.filter(pk=batch.pk).update(status="released")
    batch.refresh_from_db()
    return batch


@pytest.fixture
def shipped_aliquots(lab):
    batch = released_batch(lab, code="SB-SHIP-1")
    return [f.AliquotFactory(lab=lab, batch=batch, code=f"SB-SHIP-1-A{n}") for n in (1, 2, 3)]


def released_and_verified(lab, technician, reviewer):
    batch = complete_batch(lab, technician)
    batch.qc_results.update(status="verified", verified_by=reviewer, verified_at="2025-03-01T10:00:00Z")
    batch_submit(batch=batch, actor=technician)
    return batch_release(batch=batch, actor=reviewer, password=PASSWORD)


def ship_and_receive(lab, technician, reviewer, receiving_lab, receiver_tech, aliquots):
    shipment = shipment_create(
        lab=lab, actor=technician, receiver_id=receiving_lab.pk, aliquot_ids=[a.pk for a in aliquots],
        shipping_condition="dry_ice", courier="World Courier", tracking_reference="WC-1",
    )  # fmt: skip
    shipment = shipment_dispatch(shipment=shipment, actor=reviewer, password=PASSWORD)
    box = f.StorageLocationFactory(lab=receiving_lab, name=f"Box for {shipment.code}")
    items = [
        {"item": item.pk, "accepted": True, "location": box, "position": f"B{n}"}
        for n, item in enumerate(shipment.items.order_by("aliquot_code"), start=1)
    ]
    shipment_receive(shipment=shipment, actor=receiver_tech, items=items, condition_on_arrival="intact",
                     logger_temperature_c=-70)  # fmt: skip
    return shipment


def use_in_study(receiving_lab, receiver_tech):
    study = f.StudyFactory(
        lab=receiving_lab, title="CM in MIA knee OA", groups=[{"name": "CM", "role": "treatment"}, {"name": "CM low"}]
    )
    received = list(ReceivedAliquot.objects.filter(lab=receiving_lab).order_by("code"))
    for aliquot, group in zip(received, ["CM", "CM low"], strict=True):
        received_aliquot_administer(
            aliquot=aliquot, actor=receiver_tech, study=study,
            data={"group": group, "dose_value": 20, "dose_unit": "ug_protein", "route": "intra_articular",
                  "volume_ul": 50},
        )  # fmt: skip
    return study
