"""Demo: "Pain Pharmacology Lab" received two batches (SB-25-005, SB-25-006) from the demo lab and used
them in its own study.

Called at the end of `seed_demo`; idempotent (a second run finds the shipment and changes nothing). The
shipment goes through the real services: packed by the demo technician, dispatch signed by the demo PI,
received and administered by the pharmacology lab's technician."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.db import transaction

from batches import models as m
from batches.services.checklist import batch_check_many
from batches.shipments.services import (
    received_aliquot_administer,
    received_aliquot_thaw,
    shipment_create,
    shipment_dispatch,
    shipment_receive,
)
from lims.audit import audit_context
from lims.models import Lab, Membership, Role
from protocols.services import deviation_sync

DEMO_PASSWORD = "demo-password"  # the printed demo login, as seed_demo's
PARTNER_USERS = (
    ("pharm-tech", "Paulo", "Mendes", Role.TECHNICIAN),
    ("pharm-pi", "Hana", "Sato", Role.REVIEWER),
    ("pharm-admin", "Lea", "Brandt", Role.LAB_ADMIN),
)
SHIPMENT_CODE = "SH-25-001"
PARTNER_BATCHES = (("SB-25-005", "2025-03-03T10:00:00", "E"), ("SB-25-006", "2025-03-04T10:00:00", "F"))


def _moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


def _users(lab: Lab) -> dict:
    User = get_user_model()
    users = {}
    for username, first, last, role in PARTNER_USERS:
        user, created = User.objects.get_or_create(
            username=username, defaults={"first_name": first, "last_name": last, "email": f"{username}@pharma.lab"}
        )
        if created:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        Membership.objects.get_or_create(user=user, lab=lab, defaults={"role": role})
        users[username] = user
    return users


def _partner_batch(producer: Lab, tech, pi, code: str, collected_at: str, row: str) -> m.SecretomeBatch:
    """A released CM batch of the demo lab made for the partner (same cells, priming and SOPs as SB-25-001),
    so that the demo lab's own records and exports stay as they were."""
    first = m.SecretomeBatch.objects.get(lab=producer, code="SB-25-001")
    batch, created = m.SecretomeBatch.objects.get_or_create(
        lab=producer,
        code=code,
        defaults={
            "created_by": tech,
            "passage": first.passage,
            "priming": first.priming,
            "product_type": "CM",
            "intended_use": "in_vivo",
            "confluence_start_percent": first.confluence_start_percent,
            "cells_at_start": first.cells_at_start,
            "conditioning_medium": first.conditioning_medium,
            "conditioning_medium_details": first.conditioning_medium_details,
            "serum_free": True,
            "conditioning_volume_ml": first.conditioning_volume_ml,
            "conditioning_time_h": first.conditioning_time_h,
            "conditioning_o2_percent": first.conditioning_o2_percent,
            "harvest_viability_percent": 93,
            "harvest_viable_cells": 12_300_000,
            "collected_at": _moment(collected_at),
            "final_volume_ml": 27,
            "mock_control": first.mock_control,
            "operator": tech,
            "protocol_version": first.protocol_version,
            "status": "released",
        },
    )
    if not created:
        return batch
    for step in first.processing_steps.order_by("order"):
        step.pk, step.id, step.batch, step.created_by = None, None, batch, tech
        step._state.adding = True
        step.save()
    for result in first.qc_results.exclude(outcome="fail").order_by("pk"):
        result.pk, result.id, result.batch, result.created_by = None, None, batch, tech
        result.performed_on = dt.date(2025, 3, 5)
        result._state.adding = True
        result.save()
    for kind, actor in (("created", tech), ("submitted", tech), ("released", pi)):
        m.BatchEvent.objects.create(lab=producer, batch=batch, kind=kind, actor=actor, data={"seed": "partner"})
    box = m.StorageLocation.objects.get(lab=producer, name="Box A1")
    storage_sop = m.Aliquot.objects.get(lab=producer, code="SB-25-001-A01").protocol_version
    for index in range(1, 4):
        m.Aliquot.objects.create(
            lab=producer,
            created_by=tech,
            batch=batch,
            code=f"{code}-A{index:02d}",
            volume_ul=500,
            container="cryovial",
            buffer="as_collected",
            state="frozen",
            temperature_c=-80,
            location=box,
            position=f"{row}{index}",
            stored_at=batch.collected_at,
            freeze_thaw_count=0,  # frozen once at collection, never thawed: the lab records it
            protocol_version=storage_sop,
        )
    deviation_sync(batch=batch, actor=tech)
    return batch


def _partners(producer: Lab, receiver: Lab, admin) -> None:
    # The demo lab has no lab admin in its cast: both sides are written as the seeder writes its rows.
    for lab, partner, sends, receives in ((producer, receiver, True, False), (receiver, producer, False, True)):
        m.PartnerLab.objects.get_or_create(
            lab=lab,
            partner=partner,
            defaults={"sends_to": sends, "receives_from": receives, "created_by": admin, "note": "Demo partnership"},
        )


def _storage(lab: Lab, tech) -> m.StorageLocation:
    freezer, _ = m.StorageLocation.objects.get_or_create(
        lab=lab,
        name="Freezer P-80",
        parent=None,
        defaults={"kind": "freezer", "temperature_c": -80, "created_by": tech},
    )
    box, _ = m.StorageLocation.objects.get_or_create(
        lab=lab, name="Received secretome", parent=freezer, defaults={"kind": "box", "rows": 9, "columns": 9}
    )
    return box


def _study(lab: Lab, tech) -> m.Study:
    study, _ = m.Study.objects.get_or_create(
        lab=lab,
        title="Intraplantar MSC secretome in CFA-induced inflammatory pain in mice",
        defaults={
            "created_by": tech,
            "pain_model": "cfa",
            "model_induction": "20 µL complete Freund's adjuvant into the left hind paw (day 0)",
            "species": "mouse",
            "strain": "C57BL/6J",
            "sex": "female",
            "age_weeks_min": 8,
            "age_weeks_max": 10,
            "supplier": "Janvier Labs",
            "design": "Randomised, blinded, vehicle-controlled; two CM batches from the Demo Lab.",
            "groups": [
                {"name": "Vehicle", "role": "vehicle"},
                {"name": "CM SB-25-005", "role": "treatment"},
                {"name": "CM SB-25-006", "role": "treatment"},
            ],
            "experimental_unit": "animal",
            "n_per_group": 8,
            "randomisation": "Block randomisation by baseline withdrawal threshold.",
            "blinding": "Injector and assessor blinded to group.",
            "ethics_ref": "PPL-2025-114",
        },
    )
    return study


def seed_shipments_demo(*, stdout=None) -> None:
    """Make the partner lab, its users, the shipment of two demo batches, its receipt and the partner's study."""
    producer = Lab.objects.filter(slug="demo-lab").first()
    if producer is None:
        return
    User = get_user_model()
    tech, pi = User.objects.get(username="tech"), User.objects.get(username="pi")
    with transaction.atomic():
        receiver, _ = Lab.objects.get_or_create(
            slug="pain-pharmacology",
            defaults={
                "name": "Pain Pharmacology Lab",
                "institution": "Secretome LIMS demonstration",
                "url": "https://pain-pharmacology.example.org/",
            },
        )
        users = _users(receiver)
        partner_tech = users["pharm-tech"]
        with audit_context(actor=users["pharm-admin"]):
            _partners(producer, receiver, users["pharm-admin"])
        if not m.Shipment.objects.filter(lab=producer, code=SHIPMENT_CODE).exists():
            with audit_context(actor=tech):
                batches = [_partner_batch(producer, tech, pi, *spec) for spec in PARTNER_BATCHES]
            codes = [f"{batch.code}-A{index:02d}" for batch in batches for index in (1, 2)]
            aliquots = list(m.Aliquot.objects.filter(lab=producer, code__in=codes).order_by("code"))
            shipment = shipment_create(
                lab=producer,
                actor=tech,
                receiver_id=receiver.pk,
                aliquot_ids=[aliquot.pk for aliquot in aliquots],
                shipping_condition="dry_ice",
                courier="World Courier",
                tracking_reference="WC-2025-031-7781",
                sent_at=_moment("2025-03-10T08:30:00"),
                code=SHIPMENT_CODE,
            )
            shipment = shipment_dispatch(shipment=shipment, actor=pi, password=DEMO_PASSWORD)
            box = _storage(receiver, partner_tech)
            items = [
                {"item": item.pk, "accepted": True, "location": box, "position": f"A{index}", "temperature_c": -80}
                for index, item in enumerate(shipment.items.order_by("aliquot_code"), start=1)
            ]
            shipment_receive(
                shipment=shipment,
                actor=partner_tech,
                items=items,
                condition_on_arrival="intact",
                received_at=_moment("2025-03-11T10:15:00"),
                logger_temperature_c=-71.5,
                notes="Dry ice present; logger maximum −71.5 °C.",
            )
            study = _study(receiver, partner_tech)
            received = {row.code: row for row in m.ReceivedAliquot.objects.filter(lab=receiver)}
            for code, group in (("SB-25-005-A01", "CM SB-25-005"), ("SB-25-006-A01", "CM SB-25-006")):
                thawed = received_aliquot_thaw(
                    aliquot=received[code], actor=partner_tech, at=_moment("2025-03-20T08:00:00")
                )
                received_aliquot_administer(
                    aliquot=thawed,
                    actor=partner_tech,
                    study=study,
                    data={
                        "group": group,
                        "dose_value": 5,
                        "dose_unit": "ug_protein",
                        "route": "intraplantar",
                        "site": "left hind paw",
                        "volume_ul": 20,
                        "day_after_induction": 1,
                        "preventive": False,
                        "vehicle": "saline",
                    },
                )
            # The seeder checked the demo lab's batches before these existed; the partner's study is checked
            # by the outbox once the seeding commits.
            batch_check_many(batch_ids=[batch.pk for batch in batches])
    if stdout is not None:
        stdout.write("Partner lab 'Pain Pharmacology Lab' received shipment SH-25-001 from 'Demo Lab':")
        for username, _first, _last, role in PARTNER_USERS:
            stdout.write(f"  {username:<11} / {DEMO_PASSWORD}   ({Role(role).label}, Pain Pharmacology Lab)")
