"""The demo: the Pain Pharmacology Lab received two batches from the Demo Lab and used them in its study."""

import pytest
from django.core.management import call_command

from batches import models as m
from batches.shipments.selectors import trace_downstream

pytestmark = pytest.mark.django_db


def test_the_partner_lab_received_two_demo_batches_and_used_them_in_its_own_study(capsys):
    call_command("seed_demo")
    assert "pharm-tech" in capsys.readouterr().out
    shipment = m.Shipment.objects.get(code="SH-25-001")
    assert (shipment.lab.name, shipment.receiver.name, shipment.status) == (
        "Demo Lab",
        "Pain Pharmacology Lab",
        "received",
    )
    assert sorted(m.ProvenanceSnapshot.objects.values_list("batch_code", flat=True)) == ["SB-25-005", "SB-25-006"]
    study = m.Study.objects.get(lab=shipment.receiver)
    used = study.administrations.filter(received_aliquot__isnull=False)
    assert sorted(used.values_list("batch__code", flat=True)) == ["SB-25-005", "SB-25-006"]
    assert {a.freeze_thaw_count for a in m.ReceivedAliquot.objects.filter(status="consumed")} == {1}
    trace = trace_downstream(root="batch", root_id=used.first().batch_id, lab_ids=[shipment.lab_id])
    assert "Pain Pharmacology Lab" in trace.labs and study.title in [use.study for use in trace.studies]


def test_seeding_twice_ships_nothing_more():
    call_command("seed_demo")
    counts = (m.Shipment.objects.count(), m.ReceivedAliquot.objects.count(), m.Administration.objects.count())
    call_command("seed_demo")
    assert (m.Shipment.objects.count(), m.ReceivedAliquot.objects.count(), m.Administration.objects.count()) == counts
