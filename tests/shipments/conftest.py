"""Two labs that work together: the producing lab (the fixed cast's "Pain Lab") and a pharmacology lab."""

import pytest

from batches.models import SecretomeBatch
from batches.shipments.services import partner_lab_declare
from lims.models import Role
from tests import factories as f

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
