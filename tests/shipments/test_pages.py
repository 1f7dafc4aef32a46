"""The shipment pages: pack, sign, receive, read the snapshot, see the impact; another lab's pages are 404."""

import re

import pytest
from django.test import Client

from batches.models import ImpactNotice, ReceivedAliquot, Shipment
from batches.services.lifecycle import batch_retire
from tests import factories as f
from tests.shipments.conftest import PASSWORD, released_and_verified, ship_and_receive

pytestmark = pytest.mark.django_db


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


def test_a_shipment_is_packed_signed_received_and_its_impact_shown_through_the_pages(
    partners, lab, technician, reviewer, receiving_lab, receiver_tech, shipped_aliquots
):
    tech = client_for(technician)
    form = tech.get("/shipments/new/")
    assert form.status_code == 200 and b"Pain Pharmacology Lab" in form.content and b"SB-SHIP-1-A1" in form.content
    response = tech.post(
        "/shipments/new/",
        {"receiver": receiving_lab.pk, "shipping_condition": "dry_ice", "courier": "World Courier",
         "aliquots": [a.pk for a in shipped_aliquots]},
    )  # fmt: skip
    shipment = Shipment.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/shipments/{shipment.pk}/"

    pi = client_for(reviewer)
    assert b"dispatch-form" in pi.get(f"/shipments/{shipment.pk}/").content
    pi.post(f"/shipments/{shipment.pk}/dispatch/", {"password": PASSWORD})
    shipment.refresh_from_db()
    assert shipment.status == "dispatched"

    receiver = client_for(receiver_tech)
    box = f.StorageLocationFactory(lab=receiving_lab, name="Rx")
    page = receiver.get(f"/shipments/{shipment.pk}/")
    assert b"receive-form" in page.content and b"Rx" in page.content
    items = list(shipment.items.order_by("aliquot_code"))
    data = {"condition_on_arrival": "intact", "logger_temperature_c": "-71"}
    for n, item in enumerate(items, start=1):
        data |= {f"location-{item.pk}": box.pk, f"position-{item.pk}": f"a{n}"}
        if n < 3:
            data[f"accepted-{item.pk}"] = "on"
        else:
            data[f"reason-{item.pk}"] = "Label unreadable"
    receiver.post(f"/shipments/{shipment.pk}/receive/", data)
    shipment.refresh_from_db()
    assert shipment.status == "partially_received"
    assert list(ReceivedAliquot.objects.order_by("code").values_list("position", "accepted")) == [
        ("A1", True), ("A2", True), ("", False)
    ]  # fmt: skip

    snapshot = shipment.snapshots.get()
    viewer = receiver.get(f"/shipments/snapshots/{snapshot.pk}/")
    assert viewer.status_code == 200 and snapshot.fingerprint.encode() in viewer.content
    assert b"Pain Lab" in viewer.content

    batch = shipped_aliquots[0].batch
    study = f.StudyFactory(lab=receiving_lab, title="Rx study", groups=[])
    from batches.shipments.services import received_aliquot_administer

    received_aliquot_administer(
        aliquot=ReceivedAliquot.objects.filter(accepted=True).first(), actor=receiver_tech, study=study,
        data={"group": "CM", "dose_value": 1, "dose_unit": "ug_protein", "route": "intra_articular", "volume_ul": 5},
    )  # fmt: skip
    batch_retire(batch=batch, actor=reviewer, reason="Late QC failure")
    impact = pi.get(f"/shipments/impact/{batch.pk}/")
    assert impact.status_code == 200 and b"Rx study" in impact.content and b"not acknowledged yet" in impact.content

    listing = receiver.get("/shipments/")
    assert b"Acknowledge" in listing.content and shipment.code.encode() in listing.content
    notice = ImpactNotice.objects.get()
    receiver.post(f"/shipments/notices/{notice.pk}/acknowledge/")
    notice.refresh_from_db()
    assert notice.acknowledged_by == receiver_tech


def test_another_labs_shipment_snapshot_and_impact_pages_are_not_found(
    partners, lab, technician, reviewer, receiving_lab, outsider, receiver_tech, shipped_aliquots
):
    from batches.shipments.services import shipment_create, shipment_dispatch

    shipment = shipment_create(
        lab=lab, actor=technician, receiver_id=receiving_lab.pk, aliquot_ids=[shipped_aliquots[0].pk],
        shipping_condition="ambient",
    )  # fmt: skip
    assert client_for(receiver_tech).get(f"/shipments/{shipment.pk}/").status_code == 404  # still packed
    shipment_dispatch(shipment=shipment, actor=reviewer, password=PASSWORD)
    snapshot = shipment.snapshots.get()
    other = client_for(outsider)
    for path in (
        f"/shipments/{shipment.pk}/",
        f"/shipments/snapshots/{snapshot.pk}/",
        f"/shipments/impact/{shipped_aliquots[0].batch_id}/",
    ):
        assert other.get(path).status_code == 404, path
    assert client_for(receiver_tech).get(f"/shipments/impact/{shipped_aliquots[0].batch_id}/").status_code == 404


def test_a_lab_admin_declares_a_partner_lab_on_the_page(lab, lab_admin, receiving_lab):
    admin = client_for(lab_admin)
    admin.post("/shipments/partners/", {"lab": lab.pk, "partner": "pain-pharmacology", "sends_to": "on"})
    page = admin.get("/shipments/partners/")
    assert b"Pain Pharmacology Lab" in page.content
    refused = admin.post("/shipments/partners/", {"lab": lab.pk, "partner": lab.slug}, follow=True)
    assert [str(m) for m in refused.context["messages"]] == ["partner: A lab cannot be its own partner."]


def test_the_receiving_labs_dashboard_shows_a_notice_until_it_is_acknowledged(
    partners, lab, technician, reviewer, receiving_lab, receiver_tech, outsider
):
    batch = released_and_verified(lab, technician, reviewer)
    shipment = ship_and_receive(lab, technician, reviewer, receiving_lab, receiver_tech, list(batch.aliquots.all()))
    receiver = client_for(receiver_tech)
    assert b"shipment-notices" not in receiver.get("/").content
    batch_retire(batch=batch, actor=reviewer, reason="Late sterility failure")

    dashboard = receiver.get("/").content.decode()
    notice = ImpactNotice.objects.get()
    assert 'id="shipment-notices"' in dashboard
    assert f"{batch.code} from Pain Lab ({shipment.code})" in dashboard
    assert f'action="/shipments/notices/{notice.pk}/acknowledge/"' in dashboard
    for other in (technician, outsider):
        assert b"shipment-notices" not in client_for(other).get("/").content

    receiver.post(f"/shipments/notices/{notice.pk}/acknowledge/")
    assert b"shipment-notices" not in receiver.get("/").content


def test_the_receiving_labs_study_links_a_received_batch_to_its_snapshot_not_to_the_producers_page(
    partners, lab, technician, reviewer, receiving_lab, receiver_tech, shipped_aliquots
):
    from tests.shipments.conftest import use_in_study

    ship_and_receive(lab, technician, reviewer, receiving_lab, receiver_tech, shipped_aliquots[:2])
    study = use_in_study(receiving_lab, receiver_tech)
    receiver = client_for(receiver_tech)
    page = receiver.get(f"/studies/{study.pk}/")
    assert page.status_code == 200
    batch = shipped_aliquots[0].batch
    assert f"/batches/{batch.pk}/".encode() not in page.content  # the producer's page is not the receiver's
    links = re.findall(r'href="(/shipments/snapshots/\d+/)"', page.content.decode())
    assert len(links) == 2 and b"received aliquot SB-SHIP-1-A1" in page.content
    for link in set(links):
        snapshot = receiver.get(link)
        assert snapshot.status_code == 200 and batch.code.encode() in snapshot.content


def test_a_read_only_role_is_offered_no_packing_and_a_posted_packing_is_refused(
    partners, lab, auditor, technician, receiving_lab, shipped_aliquots
):
    reader = client_for(auditor)
    assert b"Pack a shipment</a>" not in reader.get("/shipments/").content
    assert b"Pack a shipment</a>" in client_for(technician).get("/shipments/").content
    assert reader.get("/shipments/new/").status_code == 403
    response = reader.post(
        "/shipments/new/",
        {"receiver": receiving_lab.pk, "shipping_condition": "dry_ice", "aliquots": [a.pk for a in shipped_aliquots]},
    )
    assert response.status_code == 403 and not Shipment.objects.exists()
