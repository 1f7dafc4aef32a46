"""Demo data: a realistic lab with complete and incomplete batches. Idempotent: a second run changes nothing."""

import datetime as dt

from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.db import transaction

from batches import models as m
from batches.services.checklist import batch_check_many, study_check_many
from lims.management.base import AuditedCommand
from lims.models import Lab, Membership, Role
from protocols.demo import seed_protocols

DEMO_PASSWORD = "demo-password"  # printed demo login, documented in the README
DEMO_USERS = (
    ("tech", "Tomás", "Reyes", Role.TECHNICIAN),
    ("pi", "Priya", "Iyer", Role.REVIEWER),
    ("auditor", "Agnes", "Olsen", Role.AUDITOR),
)
STAFF_GROUP = "Lab staff"
STAFF_APPS = ("batches", "protocols")


def day(text: str) -> dt.date:
    return dt.date.fromisoformat(text)


def moment(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=dt.UTC)


class Command(AuditedCommand):
    help = "Create the demo lab, its users (password 'demo-password') and a realistic set of records."

    def handle(self, *args, **options):
        with transaction.atomic():
            seeder = DemoSeeder()
            seeder.run()
        self.stdout.write(self.style.SUCCESS("Demo data ready in lab 'Demo Lab'."))
        self.stdout.write("Sign in at http://127.0.0.1:8000/ (the Django admin is at /admin/) with:")
        for username, _first, _last, role in DEMO_USERS:
            self.stdout.write(f"  {username:<8} / {DEMO_PASSWORD}   ({Role(role).label})")


class DemoSeeder:
    def run(self) -> None:
        self.lab, _ = Lab.objects.get_or_create(
            slug="demo-lab", defaults={"name": "Demo Lab", "institution": "Secretome LIMS demonstration"}
        )
        self.users = self._users()
        self.tech, self.pi = self.users["tech"], self.users["pi"]
        self._specifications()
        donors = self._donors()
        lines = {code: self._cell_line(donor, code) for code, donor in donors.items()}
        passages = {code: self._passages(line) for code, line in lines.items()}
        primings = self._primings()
        freezer_box = self._storage()
        batches = self._batches(passages, primings)
        self._processing(batches)
        self._aliquots(batches, freezer_box)
        self._qc(batches)
        self._study(batches)
        seed_protocols(lab=self.lab, tech=self.tech, pi=self.pi)
        self._checklist_reports()

    def _checklist_reports(self) -> None:
        # Written here, in the seeding transaction, so the demo shows reports even without a worker.
        batch_check_many(batch_ids=list(m.SecretomeBatch.objects.filter(lab=self.lab).values_list("pk", flat=True)))
        study_check_many(study_ids=list(m.Study.objects.filter(lab=self.lab).values_list("pk", flat=True)))

    # --- people -------------------------------------------------------------------------------
    def _users(self) -> dict:
        group, _ = Group.objects.get_or_create(name=STAFF_GROUP)
        if not group.permissions.exists():
            group.permissions.set(
                Permission.objects.filter(content_type__app_label__in=STAFF_APPS).exclude(
                    codename__startswith="delete_"
                )
            )
        users = {}
        User = get_user_model()
        for username, first, last, role in DEMO_USERS:
            user, created = User.objects.get_or_create(
                username=username,
                defaults={"first_name": first, "last_name": last, "email": f"{username}@demo.lab", "is_staff": True},
            )
            if created:
                user.set_password(DEMO_PASSWORD)
                user.save(update_fields=["password"])
                user.groups.add(group)
            Membership.objects.get_or_create(user=user, lab=self.lab, defaults={"role": role})
            users[username] = user
        return users

    def _get(self, model, lookup: dict, defaults: dict):
        obj, _ = model.objects.get_or_create(lab=self.lab, **lookup, defaults={"created_by": self.tech, **defaults})
        return obj

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
            self._get(m.QCSpecification, {**lookup, "spec_version": 1}, {"effective_from": since, **values})

    # --- cells ----------------------------------------------------------------------------------
    def _donors(self) -> dict:
        common = {"species": "human", "health_status": "healthy", "consent_obtained": True}
        return {
            "BM01": self._get(
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
            "AD02": self._get(
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
            "UC03": self._get(
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
        line = self._get(
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
        for marker, percent in phenotype.items():
            self._get(
                m.Immunophenotype,
                {"cell_line": line, "marker": marker},
                {"percent_positive": percent, "passage_number": 3, "measured_on": day("2025-02-20")},
            )
        for lineage, method in (
            ("osteogenic", "alizarin_red"),
            ("adipogenic", "oil_red_o"),
            ("chondrogenic", "alcian_blue"),
        ):
            self._get(
                m.Differentiation,
                {"cell_line": line, "lineage": lineage},
                {"result": "positive", "method": method, "passage_number": 3, "assessed_on": day("2025-03-05")},
            )
        return line

    def _passages(self, line: m.CellLine) -> dict:
        counts = [
            (1, "2025-01-20", "2025-01-27", 1_750_000, 6_100_000),
            (2, "2025-01-27", "2025-02-02", 1_750_000, 7_400_000),
            (3, "2025-02-02", "2025-02-07", 3_500_000, 13_300_000),
            (4, "2025-02-07", "2025-02-12", 3_500_000, 12_600_000),
        ]
        parent = None
        chain = {}
        for number, started, harvested, seeded, harvested_cells in counts:
            parent = self._get(
                m.Passage,
                {"cell_line": line, "number": number},
                {
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
            chain[number] = parent
        return chain

    def _primings(self) -> dict:
        none = self._get(m.PrimingCondition, {"name": "No priming"}, {"kind": "none"})
        cytokine = self._get(
            m.PrimingCondition,
            {"name": "IFN-γ 25 ng/mL + TNF-α 10 ng/mL, 48 h"},
            {"kind": "cytokine", "duration_h": 48, "washout": True, "washes": 3, "delay_to_conditioning_h": 0},
        )
        for agent, conc in (("ifn_gamma", 25), ("tnf_alpha", 10)):
            self._get(
                m.PrimingAgent,
                {"priming": cytokine, "agent": agent},
                {"concentration": conc, "concentration_unit": "ng/mL", "exposure": 48, "exposure_unit": "h"},
            )
        hypoxia = self._get(
            m.PrimingCondition,
            {"name": "Hypoxia 1 % O₂, 48 h"},
            {
                "kind": "hypoxia",
                "o2_percent": 1,
                "duration_h": 48,
                "device": "tri_gas_incubator",
                "washout": False,
                "delay_to_conditioning_h": 0,
            },
        )
        dfo = self._get(
            m.PrimingCondition,
            {"name": "Deferoxamine 150 µM, 24 h"},
            {"kind": "hypoxia_mimetic", "duration_h": 24, "washout": True, "washes": 2, "delay_to_conditioning_h": 0},
        )
        self._get(
            m.PrimingAgent,
            {"priming": dfo, "agent": "deferoxamine"},
            {"concentration": 150, "concentration_unit": "µM", "exposure": 24, "exposure_unit": "h"},
        )
        return {"none": none, "cytokine": cytokine, "hypoxia": hypoxia, "dfo": dfo}

    def _storage(self) -> m.StorageLocation:
        freezer = self._get(
            m.StorageLocation, {"name": "Freezer F-80-1", "parent": None}, {"kind": "freezer", "temperature_c": -80}
        )
        rack = self._get(m.StorageLocation, {"name": "Rack A", "parent": freezer}, {"kind": "rack"})
        return self._get(
            m.StorageLocation, {"name": "Box A1", "parent": rack}, {"kind": "box", "rows": 9, "columns": 9}
        )

    # --- batches --------------------------------------------------------------------------------
    def _batches(self, passages: dict, primings: dict) -> dict:
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
        mock = self._get(
            m.SecretomeBatch,
            {"code": "SB-25-000-MOCK"},
            {
                **production,
                "passage": passages["BM01"][4],
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
            "complete": self._get(
                m.SecretomeBatch,
                {"code": "SB-25-001"},
                {
                    **production,
                    "passage": passages["BM01"][4],
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
            "ev": self._get(
                m.SecretomeBatch,
                {"code": "SB-25-002"},
                {
                    **production,
                    "passage": passages["AD02"][3],
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
            "lyo": self._get(
                m.SecretomeBatch,
                {"code": "SB-25-003"},
                {
                    **production,
                    "passage": passages["UC03"][3],
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
            "draft": self._get(
                m.SecretomeBatch,
                {"code": "SB-25-004"},
                {
                    "passage": passages["BM01"][3],
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
            "mock": mock,
        }
        for key, batch in batches.items():
            for kind, actor in self._events_for(batch.status):
                m.BatchEvent.objects.get_or_create(
                    lab=self.lab, batch=batch, kind=kind, defaults={"actor": actor, "data": {"seed": key}}
                )
        return batches

    def _events_for(self, status: str) -> list[tuple[str, object]]:
        events = [("created", self.tech)]
        if status in {"submitted", "released", "rejected"}:
            events.append(("submitted", self.tech))
        if status == "released":
            events.append(("released", self.pi))
        return events

    def _processing(self, batches: dict) -> None:
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
        for key, steps in plans.items():
            for order, values in enumerate(steps, start=1):
                self._get(m.ProcessingStep, {"batch": batches[key], "order": order}, values)

    def _aliquots(self, batches: dict, box: m.StorageLocation) -> None:
        layout = {
            "complete": ("A", 6, 500, "frozen", -80),
            "ev": ("B", 4, 100, "frozen", -80),
            "lyo": ("C", 3, 1000, "lyophilised", 4),
            "mock": ("D", 3, 500, "frozen", -80),
        }
        for key, (row, count, volume, state, temperature) in layout.items():
            batch = batches[key]
            for index in range(1, count + 1):
                self._get(
                    m.Aliquot,
                    {"code": f"{batch.code}-A{index:02d}"},
                    {
                        "batch": batch,
                        "volume_ul": volume,
                        "container": "low_bind_tube" if key == "ev" else "cryovial",
                        "buffer": "pbs_trehalose" if key in {"ev", "lyo"} else "as_collected",
                        "state": state,
                        "temperature_c": temperature,
                        "location": box,
                        "position": f"{row}{index}",
                        "stored_at": batch.collected_at,
                        "freeze_thaw_count": 0,
                    },
                )

    def _qc(self, batches: dict) -> None:
        spec = {
            s.assay + (s.analyte and f":{s.analyte}") + (s.product_type and f"/{s.product_type}"): s
            for s in m.QCSpecification.objects.filter(lab=self.lab)
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
        for key, (rows, review) in plans.items():
            batch = batches[key]
            for assay, analyte, sample, method, value, unit, text, spec_key, outcome in rows:
                if key == "lyo" and spec_key == "total_protein/CM":
                    spec_key, outcome = None, ""
                extra = {"reference_batch": reference} if assay == "potency" and batch != reference else {}
                self._get(
                    m.QCResult,
                    {"batch": batch, "assay": assay, "analyte": analyte, "sample": sample},
                    {
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

    def _study(self, batches: dict) -> None:
        study = self._get(
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
            administration = self._get(
                m.Administration,
                {"study": study, "group": group, "batch": batch},
                {**schedule, "dose_value": dose_value, "dose_unit": unit},
            )
            self._get(
                m.AliquotEvent,
                {"aliquot": m.Aliquot.objects.get(lab=self.lab, code=f"{batch.code}-A01"), "kind": "used"},
                {
                    "at": moment("2025-02-21T09:00:00"),
                    "volume_ul": 50,
                    "administration": administration,
                    "actor": self.tech,
                },
            )
        for test, unit, primary in (("von_frey", "g", True), ("incapacitance", "%", False)):
            self._get(
                m.OutcomeMeasure,
                {"study": study, "test": test},
                {"unit": unit, "time_points": [0, 7, 10, 14, 21, 28], "baseline": True, "is_primary": primary},
            )
