"""Demo data: a realistic lab with complete and incomplete batches.

Idempotent by the demo's identity: its codes (donors, cell lines, batches, aliquots, SOPs), and for records
without a code their names (the lab's slug, usernames, priming conditions, storage locations, the study's
title). A record that carries — or once carried, as its history shows — a demo identity is the demo's record
and is left as the users made it: seeding only creates what is missing, never updates, never deletes, and
reports what it did. The child rows of a record (phenotype, lineage results, passages, processing steps, QC
results, aliquots) are seeded with their parent, or when their parent has none at all; a lab that edited,
renamed, duplicated or re-made them keeps its version.
"""

import datetime as dt
from collections import Counter

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction
from django.db.models import Q

from batches import models as m
from batches.services.checklist import batch_check_many, study_check_many
from batches.shipments.demo import seed_shipments_demo
from lims.audit import history_model
from lims.management.base import AuditedCommand
from lims.models import Lab, Membership, Role
from protocols.demo import demo_protocol_version, seed_deviations, seed_protocols

DEMO_PASSWORD = "demo-password"  # printed demo login, documented in the README
DEMO_USERS = (
    ("tech", "Tomás", "Reyes", Role.TECHNICIAN),
    ("pi", "Priya", "Iyer", Role.REVIEWER),
    ("auditor", "Agnes", "Olsen", Role.AUDITOR),
    ("labadmin", "Lena", "Adler", Role.LAB_ADMIN),
)
# Earlier versions put every demo user in this group (every add/change permission); it is emptied of them.
LEGACY_STAFF_GROUP = "Lab staff"
LAB_ADMIN_GROUP = "Lab administrators"
ADMIN_APPS = ("lims", "batches", "protocols")


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


class Command(AuditedCommand):
    help = (
        "Create the demo lab, its users (password 'demo-password') and a realistic set of records; "
        "only what is missing is created, what exists is left as it is."
    )

    def handle(self, *args, **options):
        with transaction.atomic():
            seeder = DemoSeeder()
            seeder.run()
        if seeder.created:
            made = ", ".join(f"{count} {label}" for label, count in sorted(seeder.created.items()))
            self.stdout.write(self.style.SUCCESS(f"Demo data added to lab 'Demo Lab': {made}."))
        else:
            self.stdout.write(self.style.SUCCESS("Demo data complete in lab 'Demo Lab': nothing to add."))
        if seeder.kept:
            self.stdout.write(f"Left as found: {', '.join(sorted(seeder.kept))}.")
        for note in seeder.notes:
            self.stdout.write(self.style.WARNING(f"Note: {note}"))
        self.stdout.write("Sign in at http://127.0.0.1:8000/ with:")
        for username, _first, _last, role in DEMO_USERS:
            where = " — also the Django admin at /admin/" if role == Role.LAB_ADMIN else ""
            self.stdout.write(f"  {username:<8} / {DEMO_PASSWORD}   ({Role(role).label}{where})")
        seed_shipments_demo(stdout=self.stdout)


class DemoSeeder:
    def __init__(self) -> None:
        self.created: Counter[str] = Counter()  # what this run added, by kind of record
        self.kept: set[str] = set()  # kinds of demo record that were found and left alone
        self.notes: list[str] = []  # what was unexpected, and what seeding did about it
        self.new: dict[type, list[int]] = {}  # ids of the records this run created, by model

    def run(self) -> None:
        self.lab = self._lab()
        self.users = self._users()
        self.tech, self.pi = self.users["tech"], self.users["pi"]
        # SOPs first: every record created below pins the version it followed as it is inserted (released and
        # verified records are never updated afterwards).
        self.sops, created, notes = seed_protocols(lab=self.lab, tech=self.tech, pi=self.pi)
        self.created.update(created)
        self.notes.extend(notes)
        self._specifications()
        donors = self._donors()
        lines = {code: self._cell_line(donor, code) for code, (donor, _new) in donors.items()}
        primings = self._primings()
        box = self._storage()
        batches, fresh = self._batches(lines, primings)
        self._processing(batches, fresh)
        self._aliquots(batches, fresh, box)
        self._qc(batches, fresh)
        study_batches = self._study(batches)
        self.created.update(
            seed_deviations(lab=self.lab, tech=self.tech, pi=self.pi, batch_ids=self.new.get(m.SecretomeBatch, []))
        )
        self._checklist_reports(study_batches)

    # --- identity -------------------------------------------------------------------------------
    def _find(self, model, **identity):
        """The lab's record that has this identity, or had it before users renamed or moved it."""
        found = model.objects.filter(lab=self.lab, **identity).order_by("pk").first()
        if found is not None:
            return found
        former = history_model(model).objects.filter(lab_id=self.lab.pk, **identity).values("pgh_obj_id")
        return model.objects.filter(lab=self.lab, pk__in=former).order_by("pk").first()

    def _create(self, model, **values):
        if any(f.name == "protocol_version" for f in model._meta.concrete_fields):
            values.setdefault(
                "protocol_version", demo_protocol_version(model_name=model.__name__, values=values, sops=self.sops)
            )
        record = model.objects.create(lab=self.lab, created_by=self.tech, **values)
        self.created[str(model._meta.verbose_name_plural)] += 1
        self.new.setdefault(model, []).append(record.pk)
        return record

    def _ensure(self, model, identity: dict, values: dict) -> tuple:
        """(record, created): the demo's record with this identity, created only when it is missing."""
        found = self._find(model, **identity)
        if found is not None:
            self.kept.add(str(model._meta.verbose_name_plural))
            return found, False
        return self._create(model, **identity, **values), True

    def _is_new(self, record) -> bool:
        return record.pk in self.new.get(type(record), ())

    def _checklist_reports(self, study_batches: list[int]) -> None:
        # Written here, in the seeding transaction, so the demo shows reports even without a worker.
        # Only what this run created (or linked to a new study) is checked; the rest is the lab's.
        batch_ids = sorted({*self.new.get(m.SecretomeBatch, []), *study_batches})
        if batch_ids:
            batch_check_many(batch_ids=batch_ids)
        if self.new.get(m.Study):
            study_check_many(study_ids=self.new[m.Study])

    # --- people -------------------------------------------------------------------------------
    def _lab(self) -> Lab:
        lab = Lab.objects.filter(slug="demo-lab").first()
        if lab is None:
            former = history_model(Lab).objects.filter(slug="demo-lab").values("pgh_obj_id")
            lab = Lab.objects.filter(pk__in=former).order_by("pk").first()
        if lab is None:
            lab = Lab.objects.create(
                slug="demo-lab",
                name="Demo Lab",
                institution="Secretome LIMS demonstration",
                url="https://demo-lab.example.org/",
            )
            self.created["labs"] += 1
        return lab

    def _lab_admin_group(self) -> Group:
        group, created = Group.objects.get_or_create(name=LAB_ADMIN_GROUP)
        if created:
            # The admin is an administrator's tool: read every lab record, manage members and the lab.
            group.permissions.set(
                Permission.objects.filter(
                    Q(content_type__app_label__in=ADMIN_APPS, codename__startswith="view_")
                    | Q(content_type__app_label="lims", content_type__model__in=["membership", "lab"])
                    & ~Q(codename__startswith="delete_lab")
                )
            )
        return group

    def _users(self) -> dict:
        User = get_user_model()
        admin_group = self._lab_admin_group()
        legacy = Group.objects.filter(name=LEGACY_STAFF_GROUP).first()
        users = {}
        for username, first, last, role in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={
                    "first_name": first,
                    "last_name": last,
                    "email": f"{username}@demo.lab",
                    "is_staff": role == Role.LAB_ADMIN,
                },
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
                self.created["users"] += 1
            membership = Membership.objects.filter(user=user, lab=self.lab).first()
            if membership is None:
                Membership.objects.create(user=user, lab=self.lab, role=role)
                self.created["memberships"] += 1
            elif membership.role != role:
                self.notes.append(f"{username} is {Role(membership.role).label} in the demo lab now; left so.")
            self._grant_what_the_role_needs(user, admin_group=admin_group, legacy=legacy)
            users[username] = user
        return users

    def _grant_what_the_role_needs(self, user, *, admin_group: Group, legacy: Group | None) -> None:
        """Only lab administrators (and superusers) use the Django admin; the other roles work in the app."""
        if user.is_superuser:
            return
        if legacy is not None and user.groups.filter(pk=legacy.pk).exists():
            user.groups.remove(legacy)
            self.notes.append(f"{user.username} no longer has the '{LEGACY_STAFF_GROUP}' permissions.")
        lab_admin = Membership.objects.filter(user=user, role=Role.LAB_ADMIN).exists()
        if user.is_staff != lab_admin:
            user.is_staff = lab_admin
            user.save(update_fields=["is_staff"])
            self.notes.append(f"{user.username} {'may' if lab_admin else 'may no longer'} sign in to the admin.")
        if lab_admin and not user.groups.filter(pk=admin_group.pk).exists():
            user.groups.add(admin_group)

    # --- specifications -----------------------------------------------------------------------
    def _specifications(self) -> None:
        since = day("2024-01-01")
        specs = [
            ({"assay": "sterility", "analyte": "", "product_type": ""}, {"expected_text": "negative"}),
            ({"assay": "mycoplasma", "analyte": "", "product_type": ""}, {"expected_text": "negative"}),
            (
                {"assay": "endotoxin", "analyte": "", "product_type": ""},
                {"max_value": 0.5, "warn_max": 0.25, "unit": "EU/mL"},
            ),
            (
                {"assay": "total_protein", "analyte": "", "product_type": "CM"},
                {"min_value": 20, "warn_min": 50, "unit": "µg/mL"},
            ),
            (
                {"assay": "particle_concentration", "analyte": "", "product_type": "EV"},
                {"min_value": 1e9, "warn_min": 5e9, "unit": "particles/mL"},
            ),
            (
                {"assay": "potency", "analyte": "TNF-α", "product_type": ""},
                {"min_value": 30, "warn_min": 40, "unit": "% inhibition"},
            ),
        ]
        for lookup, values in specs:
            # Any version of the specification counts: a lab that issued version 2 keeps it.
            self._ensure(m.QCSpecification, lookup, {"spec_version": 1, "effective_from": since, **values})

    # --- cells ----------------------------------------------------------------------------------
    def _donors(self) -> dict:
        common = {"species": "human", "health_status": "healthy", "consent_obtained": True}
        return {
            "BM01": self._ensure(
                m.Donor,
                {"code": "HD-BM-01"},
                {
                    **common,
                    "tissue_source": "bone_marrow",
                    "anatomical_site": "iliac crest",
                    "sex": "female",
                    "age_years": 34,
                    "ethics_approval_ref": "EC-2023-114",
                },
            ),
            "AD02": self._ensure(
                m.Donor,
                {"code": "HD-AD-02"},
                {
                    **common,
                    "tissue_source": "adipose",
                    "anatomical_site": "abdominal subcutaneous lipoaspirate",
                    "sex": "male",
                    "age_years": 41,
                    "ethics_approval_ref": "EC-2023-115",
                },
            ),
            "UC03": self._ensure(
                m.Donor,
                {"code": "HD-UC-03"},
                {
                    **common,
                    "tissue_source": "whartons_jelly",
                    "anatomical_site": "umbilical cord, full-term birth",
                    "sex": "female",
                    "age_years": 0,
                    "ethics_approval_ref": "EC-2024-009",
                },
            ),
        }

    def _cell_line(self, donor: m.Donor, code: str) -> m.CellLine:
        explant = code == "UC03"
        line, new = self._ensure(
            m.CellLine,
            {"code": f"MSC-{code}"},
            {
                "donor": donor,
                "isolation_method": "explant" if explant else "enzymatic",
                "isolation_enzyme": "" if explant else "collagenase_i",
                "isolation_enzyme_mg_per_ml": None if explant else 1.0,
                "isolation_digestion_min": None if explant else 60,
                "isolated_on": day("2025-01-13"),
                "basal_medium": "alpha_mem",
                "antibiotics": "pen_strep",
                "supplement": "hpl",
                "supplement_percent": 5,
                "supplement_lot": "HPL-24-0711",
                "heparin_u_per_ml": 2,
                "culture_format": "2d",
                "plastic_adherent": True,
            },
        )
        phenotype = {
            "CD73": 99.1,
            "CD90": 98.7,
            "CD105": 97.2,
            "CD45": 0.4,
            "CD34": 0.6,
            "CD14": 0.3,
            "CD19": 0.2,
            "HLA-DR": 0.5,
        }
        if code == "AD02":
            phenotype["CD105"] = 93.0  # below the ISCT threshold: gate 1 fails for this line
        # A line's rows are the lab's once it has any: edited, duplicated or re-made rows stay as they are.
        if new or not m.Immunophenotype.objects.filter(cell_line=line).exists():
            for marker, percent in phenotype.items():
                self._create(
                    m.Immunophenotype,
                    cell_line=line,
                    marker=marker,
                    percent_positive=percent,
                    passage_number=3,
                    measured_on=day("2025-02-20"),
                )
        if new or not m.Differentiation.objects.filter(cell_line=line).exists():
            for lineage, method in (
                ("osteogenic", "alizarin_red"),
                ("adipogenic", "oil_red_o"),
                ("chondrogenic", "alcian_blue"),
            ):
                self._create(
                    m.Differentiation,
                    cell_line=line,
                    lineage=lineage,
                    result="positive",
                    method=method,
                    passage_number=3,
                    assessed_on=day("2025-03-05"),
                )
        if new or not m.Passage.objects.filter(cell_line=line).exists():
            self._passages(line)
        return line

    def _passages(self, line: m.CellLine) -> None:
        counts = [
            (1, "2025-01-20", "2025-01-27", 1_750_000, 6_100_000),
            (2, "2025-01-27", "2025-02-02", 1_750_000, 7_400_000),
            (3, "2025-02-02", "2025-02-07", 3_500_000, 13_300_000),
            (4, "2025-02-07", "2025-02-12", 3_500_000, 12_600_000),
        ]
        parent = None
        for number, started, harvested, seeded, harvested_cells in counts:
            parent = self._create(
                m.Passage,
                cell_line=line,
                number=number,
                **{
                    "parent": parent,
                    "started_on": day(started),
                    "harvested_on": day(harvested),
                    "vessel": "t175",
                    "area_cm2": 175.0 * (1 if seeded < 2_000_000 else 2),
                    "cells_seeded": seeded,
                    "cells_harvested": harvested_cells,
                    "viability_percent": 96,
                    "confluence_percent": 85,
                    "temperature_c": 37,
                    "co2_percent": 5,
                    "o2_percent": 21,
                    "mycoplasma_result": "negative",
                },
            )

    def _passage(self, line: m.CellLine, number: int) -> m.Passage | None:
        """The line's passage with this number, else its latest (the lab renumbered or re-made them)."""
        passages = m.Passage.objects.filter(cell_line=line)
        return passages.filter(number=number).order_by("pk").first() or passages.order_by("-number", "pk").first()

    def _primings(self) -> dict:
        none = self._priming("No priming", {"kind": "none"}, [])
        cytokine = self._priming(
            "IFN-γ 25 ng/mL + TNF-α 10 ng/mL, 48 h",
            {"kind": "cytokine", "duration_h": 48, "washout": True, "washes": 3, "delay_to_conditioning_h": 0},
            [
                {"agent": agent, "concentration": conc, "concentration_unit": "ng/mL", "exposure": 48}
                for agent, conc in (("ifn_gamma", 25), ("tnf_alpha", 10))
            ],
        )
        hypoxia = self._priming(
            "Hypoxia 1 % O₂, 48 h",
            {
                "kind": "hypoxia",
                "o2_percent": 1,
                "duration_h": 48,
                "device": "tri_gas_incubator",
                "washout": False,
                "delay_to_conditioning_h": 0,
            },
            [],
        )
        dfo = self._priming(
            "Deferoxamine 150 µM, 24 h",
            {"kind": "hypoxia_mimetic", "duration_h": 24, "washout": True, "washes": 2, "delay_to_conditioning_h": 0},
            [{"agent": "deferoxamine", "concentration": 150, "concentration_unit": "µM", "exposure": 24}],
        )
        return {"none": none, "cytokine": cytokine, "hypoxia": hypoxia, "dfo": dfo}

    def _priming(self, name: str, values: dict, agents: list[dict]) -> m.PrimingCondition:
        priming, new = self._ensure(m.PrimingCondition, {"name": name}, values)
        if agents and (new or not m.PrimingAgent.objects.filter(priming=priming).exists()):
            for agent in agents:
                self._create(m.PrimingAgent, priming=priming, exposure_unit="h", **agent)
        return priming

    def _storage(self) -> m.StorageLocation:
        freezer, _ = self._ensure(
            m.StorageLocation, {"name": "Freezer F-80-1", "parent": None}, {"kind": "freezer", "temperature_c": -80}
        )
        rack, _ = self._ensure(m.StorageLocation, {"name": "Rack A", "parent": freezer}, {"kind": "rack"})
        box, _ = self._ensure(
            m.StorageLocation, {"name": "Box A1", "parent": rack}, {"kind": "box", "rows": 9, "columns": 9}
        )
        return box

    # --- batches --------------------------------------------------------------------------------
    def _batches(self, lines: dict, primings: dict) -> tuple[dict, set[str]]:
        production = {
            "confluence_start_percent": 80,
            "cells_at_start": 12_000_000,
            "conditioning_medium": "dmem_f12",
            "conditioning_medium_details": "phenol-red-free DMEM/F-12, no supplements",
            "serum_free": True,
            "conditioning_volume_ml": 30,
            "conditioning_time_h": 48,
            "conditioning_o2_percent": 21,
            "harvest_viability_percent": 94,
            "harvest_viable_cells": 12_600_000,
            "final_volume_ml": 28,
        }
        mock, _ = self._ensure(
            m.SecretomeBatch,
            {"code": "SB-25-000-MOCK"},
            {
                **production,
                "passage": self._passage(lines["BM01"], 4),
                "priming": primings["none"],
                "product_type": "CM",
                "intended_use": "in_vivo",
                "collected_at": moment("2025-02-14T10:00:00"),
                "operator": self.tech,
                "cells_at_start": None,
                "harvest_viability_percent": None,
                "harvest_viable_cells": None,
                "conditioning_medium_details": "unconditioned medium incubated in a cell-free flask and processed "
                "identically",
            },
        )
        batches = {
            "complete": self._ensure(
                m.SecretomeBatch,
                {"code": "SB-25-001"},
                {
                    **production,
                    "passage": self._passage(lines["BM01"], 4),
                    "priming": primings["cytokine"],
                    "product_type": "CM",
                    "intended_use": "in_vivo",
                    "collected_at": moment("2025-02-14T10:00:00"),
                    "operator": self.tech,
                    "mock_control": mock,
                    "data_repository_ids": "ZENODO:10.5281/zenodo.0000001",
                    "status": "released",
                },
            ),
            "ev": self._ensure(
                m.SecretomeBatch,
                {"code": "SB-25-002"},
                {
                    **production,
                    "passage": self._passage(lines["AD02"], 3),
                    "priming": primings["hypoxia"],
                    "product_type": "EV",
                    "intended_use": "in_vivo",
                    "conditioning_o2_percent": 1,
                    "collected_at": moment("2025-02-09T09:30:00"),
                    "final_volume_ml": 0.5,
                    "operator": self.tech,
                    "status": "submitted",
                },
            ),
            "lyo": self._ensure(
                m.SecretomeBatch,
                {"code": "SB-25-003"},
                {
                    **production,
                    "passage": self._passage(lines["UC03"], 3),
                    "priming": primings["dfo"],
                    "product_type": "LYO",
                    "intended_use": "in_vivo",
                    "conditioning_o2_percent": None,
                    "collected_at": moment("2025-02-09T15:00:00"),
                    "final_volume_ml": 3,
                    "operator": self.tech,
                    "status": "submitted",
                },
            ),
            "draft": self._ensure(
                m.SecretomeBatch,
                {"code": "SB-25-004"},
                {
                    "passage": self._passage(lines["BM01"], 3),
                    "priming": primings["none"],
                    "product_type": "CM",
                    "intended_use": "in_vitro",
                    "conditioning_medium": "dmem_f12",
                    "serum_free": True,
                    "conditioning_volume_ml": 30,
                    "conditioning_time_h": 24,
                    "operator": self.tech,
                },
            ),
        }
        batches = {key: batch for key, (batch, _new) in batches.items()} | {"mock": mock}
        fresh = {key for key, batch in batches.items() if self._is_new(batch)}
        for key in sorted(fresh):
            # A demo batch's lifecycle so far; events are appended once, with the batch, never rewritten.
            for kind, actor in self._events_for(batches[key].status):
                m.BatchEvent.objects.create(
                    lab=self.lab, batch=batches[key], kind=kind, actor=actor, data={"seed": key}
                )
        return batches, fresh

    def _events_for(self, status: str) -> list[tuple[str, object]]:
        events = [("created", self.tech)]
        if status in {"submitted", "released", "rejected"}:
            events.append(("submitted", self.tech))
        if status == "released":
            events.append(("released", self.pi))
        return events

    def _processing(self, batches: dict, fresh: set[str]) -> None:
        clearing = [
            {"kind": "centrifugation", "g_force": 300, "duration_min": 10, "temperature_c": 4},
            {"kind": "centrifugation", "g_force": 2000, "duration_min": 20, "temperature_c": 4},
            {"kind": "filtration", "pore_size_um": 0.22, "temperature_c": 20},
        ]
        plans = {
            "complete": clearing,
            "mock": clearing,
            "draft": clearing[:1],
            "ev": [
                *clearing,
                {
                    "kind": "ultracentrifugation",
                    "g_force": 100_000,
                    "duration_min": 70,
                    "temperature_c": 4,
                    "rotor": "Type 70 Ti",
                    "k_factor": 44,
                    "final_volume_ml": 0.5,
                    "details": "pellet washed once in PBS and spun again at the same settings",
                },
            ],
            "lyo": [
                *clearing,
                {
                    "kind": "ultrafiltration",
                    "mwco_kda": 3,
                    "concentration_factor": 10,
                    "final_volume_ml": 3,
                    "temperature_c": 4,
                    "details": "Amicon Ultra-15 centrifugal filter",
                },
                {
                    "kind": "lyophilisation",
                    "lyoprotectant": "trehalose",
                    "lyoprotectant_mm": 25,
                    "lyophilisation_cycle": (
                        "frozen −80 °C; primary drying −40 °C, 0.1 mbar, 24 h; secondary 20 °C, 6 h"
                    ),
                    "reconstitution": "water",
                    "reconstitution_volume_ml": 3,
                },
            ],
        }
        # A batch's steps, aliquots and QC come with it: the lab's batches keep the rows the lab gave them.
        for key in sorted(fresh & plans.keys()):
            for order, values in enumerate(plans[key], start=1):
                self._create(m.ProcessingStep, batch=batches[key], order=order, **values)

    def _aliquots(self, batches: dict, fresh: set[str], box: m.StorageLocation) -> None:
        layout = {
            "complete": ("A", 6, 500, "frozen", -80),
            "ev": ("B", 4, 100, "frozen", -80),
            "lyo": ("C", 3, 1000, "lyophilised", 4),
            "mock": ("D", 3, 500, "frozen", -80),
        }
        for key in sorted(fresh & layout.keys()):
            row, count, volume, state, temperature = layout[key]
            batch = batches[key]
            for index in range(1, count + 1):
                code = f"{batch.code}-A{index:02d}"
                if self._find(m.Aliquot, code=code) is not None:
                    self.notes.append(f"aliquot {code} already exists (another batch's?); not created again.")
                    continue
                self._create(
                    m.Aliquot,
                    code=code,
                    batch=batch,
                    volume_ul=volume,
                    container="low_bind_tube" if key == "ev" else "cryovial",
                    buffer="pbs_trehalose" if key in {"ev", "lyo"} else "as_collected",
                    state=state,
                    temperature_c=temperature,
                    location=box,
                    position=self._free_position(box, f"{row}{index}"),
                    stored_at=batch.collected_at,
                    freeze_thaw_count=0,
                )

    def _free_position(self, box: m.StorageLocation, wanted: str) -> str:
        """The wanted position in the box, or the first free one when the lab has filled it ("" when full)."""
        taken = set(
            m.Aliquot.objects.filter(location=box, status__in=["available", "reserved"]).values_list(
                "position", flat=True
            )
        )
        if wanted not in taken:
            return wanted
        rows, columns = box.rows or 0, box.columns or 0
        for position in (f"{chr(65 + r)}{col}" for r in range(rows) for col in range(1, columns + 1)):
            if position not in taken:
                return position
        self.notes.append(f"{box.name} is full: a new demo aliquot was stored without a position.")
        return ""

    def _qc(self, batches: dict, fresh: set[str]) -> None:
        spec = {
            s.assay + (s.analyte and f":{s.analyte}") + (s.product_type and f"/{s.product_type}"): s
            for s in m.QCSpecification.objects.filter(lab=self.lab).order_by("spec_version", "pk")
        }
        base = {"performed_by": self.tech, "performed_on": day("2025-02-17")}
        verified = {"status": "verified", "verified_by": self.pi, "verified_at": moment("2025-02-20T16:00:00")}
        common = [
            ("sterility", "", "product", "bact_alert", None, "", "negative", "sterility", "pass"),
            ("endotoxin", "", "product", "lal_kinetic", 0.05, "EU/mL", "", "endotoxin", "pass"),
            ("mycoplasma", "", "product", "myco_pcr", None, "", "negative", "mycoplasma", "pass"),
            ("mycoplasma", "", "cells", "myco_pcr", None, "", "negative", "mycoplasma", "pass"),
            ("total_protein", "", "product", "bca", 152.0, "µg/mL", "", "total_protein/CM", "pass"),
            ("potency", "TNF-α", "product", "cell_assay", 58.0, "% inhibition", "", "potency:TNF-α", "pass"),
            ("cytokine", "IL-10", "product", "elisa", 86.0, "pg/mL", "", None, ""),
            ("cytokine", "HGF", "product", "elisa", 2140.0, "pg/mL", "", None, ""),
            ("cytokine", "VEGF", "product", "elisa", 930.0, "pg/mL", "", None, ""),
        ]
        ev_extra = [
            (
                "particle_concentration",
                "",
                "product",
                "nta",
                4.2e10,
                "particles/mL",
                "",
                "particle_concentration/EV",
                "pass",
            ),
            ("particle_size", "mode", "product", "nta", 118.0, "nm", "", None, ""),
            ("particle_size", "D50", "product", "nta", 131.0, "nm", "", None, ""),
            ("ev_marker", "CD63", "product", "western_blot", None, "", "detected", None, ""),
            ("ev_marker", "CD81", "product", "western_blot", None, "", "detected", None, ""),
            ("ev_marker", "TSG101", "product", "western_blot", None, "", "detected", None, ""),
            ("contaminant_marker", "calnexin", "product", "western_blot", None, "", "not_detected", None, ""),
            ("contaminant_marker", "ApoA1", "product", "western_blot", None, "", "not_detected", None, ""),
            ("imaging", "", "product", "tem", None, "", "detected", None, ""),
        ]
        # The whole CM batch is characterised by NTA too (recommended for every product type).
        cm_particles = [("particle_concentration", "", "product", "nta", 2.1e9, "particles/mL", "", None, "")]
        plans = {
            "complete": (common + cm_particles, verified),
            "mock": ([r for r in common if r[0] in {"sterility", "endotoxin", "total_protein"}], verified),
            "ev": (
                [r for r in common if r[0] != "total_protein"]
                + ev_extra
                + [("total_protein", "", "product", "micro_bca", 410.0, "µg/mL", "", None, "")],
                {},
            ),
            # One out-of-specification result: endotoxin above 0.5 EU/mL on the lyophilised batch.
            "lyo": (
                [("endotoxin", "", "product", "lal_kinetic", 0.8, "EU/mL", "", "endotoxin", "fail")]
                + [r for r in common if r[0] in {"sterility", "mycoplasma", "total_protein"} and r[2] == "product"],
                {},
            ),
        }
        reference = batches["complete"]
        for key in sorted(fresh & plans.keys()):
            rows, review = plans[key]
            batch = batches[key]
            for assay, analyte, sample, method, value, unit, text, spec_key, outcome in rows:
                if key == "lyo" and spec_key == "total_protein/CM":
                    spec_key, outcome = None, ""
                extra = {"reference_batch": reference} if assay == "potency" and batch != reference else {}
                self._create(
                    m.QCResult,
                    batch=batch,
                    assay=assay,
                    analyte=analyte,
                    sample=sample,
                    **{
                        **base,
                        **review,
                        **extra,
                        "method": method,
                        "value": value,
                        "unit": unit,
                        "result_text": text,
                        "specification": spec.get(spec_key) if spec_key else None,
                        "outcome": outcome,
                        "raw_data": f"ELN/{batch.code}/{assay}{'-' + analyte if analyte else ''}",
                    },
                )

    def _study(self, batches: dict) -> list[int]:
        """The demo study; its administrations and outcome measures come with it. Returns the batches it uses."""
        study, new = self._ensure(
            m.Study,
            {"title": "Intra-articular MSC secretome in MIA-induced knee osteoarthritis pain in rats"},
            {
                "pain_model": "knee_oa_mia",
                "model_induction": "single intra-articular injection of 2 mg monosodium iodoacetate in 50 µL saline "
                "into the left knee under isoflurane anaesthesia (day 0)",
                "species": "rat",
                "strain": "Sprague-Dawley",
                "sex": "male",
                "age_weeks_min": 7,
                "age_weeks_max": 8,
                "weight_g_min": 200,
                "weight_g_max": 250,
                "supplier": "Charles River",
                "design": "Randomised, blinded, vehicle- and mock-controlled study with four parallel groups.",
                "groups": [
                    {"name": "Vehicle", "role": "vehicle"},
                    {"name": "Mock CM", "role": "mock"},
                    {"name": "CM", "role": "treatment"},
                    {"name": "EV", "role": "treatment"},
                ],
                "experimental_unit": "animal",
                "n_per_group": 10,
                "sample_size_rationale": "Power analysis (G*Power): 80 % power, α = 0.05, to detect a 30 % difference "
                "in paw withdrawal threshold (SD 25 %).",
                "randomisation": "Computer-generated block randomisation by body weight.",
                "blinding": "The experimenter injecting and the assessor of behaviour were blinded to group.",
                "inclusion_exclusion": "Included: rats with a ≥ 30 % drop in withdrawal threshold at day 7. "
                "Excluded: rats with joint swelling from injection injury.",
                "exclusions": "One rat (Vehicle) excluded for a failed injection.",
                "statistics": "Two-way repeated-measures ANOVA with Bonferroni post hoc tests; effect sizes as "
                "Hedges' g with 95 % CI.",
                "tissue_analyses": "Knee joint histology (OARSI score) and DRG qPCR at day 28.",
                "adverse_events": "None observed.",
                "ethics_ref": "AWB-2025-031",
            },
        )
        if not new:
            return []
        schedule = {
            "n_doses": 1,
            "day_after_induction": 7,
            "preventive": False,
            "route": "intra_articular",
            "site": "left knee",
            "volume_ul": 50,
            "vehicle": "saline",
            "body_weight_g": 230,
        }
        for group, batch, dose, unit in (
            ("CM", batches["complete"], 3.0, "ug_protein"),
            ("EV", batches["ev"], 1e9, "particles"),
            ("Mock CM", batches["mock"], 50, "ml_cm"),
        ):
            dose_value = dose if unit != "ml_cm" else 0.05
            administration = self._create(
                m.Administration,
                study=study,
                group=group,
                batch=batch,
                dose_value=dose_value,
                dose_unit=unit,
                **schedule,
            )
            aliquot = m.Aliquot.objects.filter(lab=self.lab, batch=batch).order_by("code").first()
            if aliquot is None or m.AliquotEvent.objects.filter(aliquot=aliquot, kind="used").exists():
                self.notes.append(f"no unused aliquot of {batch.code} for the study's {group} group; none drawn.")
                continue
            self._create(
                m.AliquotEvent,
                aliquot=aliquot,
                kind="used",
                at=moment("2025-02-21T09:00:00"),
                volume_ul=50,
                administration=administration,
                actor=self.tech,
            )
        for test, unit, primary in (("von_frey", "g", True), ("incapacitance", "%", False)):
            self._create(
                m.OutcomeMeasure,
                study=study,
                test=test,
                unit=unit,
                time_points=[0, 7, 10, 14, 21, 28],
                baseline=True,
                is_primary=primary,
            )
        return [batches[key].pk for key in ("complete", "ev", "mock")]
