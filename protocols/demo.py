"""Demo SOPs for seed_demo: an effective version for every step the demo batches go through, pinned on
their records, and one approved deviation (the EV batch's shorter ultracentrifugation).

Idempotent by the SOP codes: a protocol the lab has (or had under that code) is left as the lab keeps it —
its versions, drafts and retirements are the lab's. Only records seed_demo created in the same run are pinned
and checked for deviations."""

from collections import Counter
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from batches import models as m
from lims.audit import audit_context, history_model
from protocols.models import Deviation, DeviationStatus, Protocol, ProtocolVersion, VersionStatus
from protocols.services import (
    deviation_approve,
    deviation_justify,
    deviation_sync,
    protocol_create,
    protocol_version_create_draft,
)


def number(name: str, unit: str, low: float | None, high: float | None, default: str = "") -> dict:
    return {"name": name, "value_type": "number", "unit": unit, "min_value": low, "max_value": high, "default": default}


def choice(name: str, *allowed: str) -> dict:
    return {"name": name, "value_type": "choice", "choices": list(allowed), "default": allowed[0]}


@dataclass(frozen=True)
class DemoVersion:
    body: str
    parameters: list[dict]
    change_summary: str = ""


@dataclass(frozen=True)
class DemoSOP:
    code: str
    title: str
    category: str
    versions: list[DemoVersion] = field(default_factory=list)


CONDITIONING_V1 = DemoVersion(
    body=(
        "# Serum-free conditioning\n\n"
        "1. Start when the cells are 70–90 % confluent.\n"
        "2. Wash the monolayer three times with warm PBS to remove hPL.\n"
        "3. Add phenol-red-free DMEM/F-12 without supplements, 2.5 mL per 10^6 cells.\n"
        "4. Condition for 24 h at 37 °C, 5 % CO2.\n"
        "5. Collect the medium; count viable cells with trypan blue.\n"
    ),
    parameters=[
        number("conditioning_time_h", "h", 24, 24, "24"),
        choice("serum_free", "true"),
        number("confluence_start_percent", "%", 70, 90),
    ],
)
CONDITIONING_V2 = DemoVersion(
    body=CONDITIONING_V1.body.replace("4. Condition for 24 h", "4. Condition for 24–48 h (48 h by default)"),
    parameters=[
        number("conditioning_time_h", "h", 24, 48, "48"),
        choice("serum_free", "true"),
        number("confluence_start_percent", "%", 70, 90),
        number("ml_per_million_cells", "mL/10^6 cells", 1, 5, "2.5"),
    ],
    change_summary="Conditioning time widened to 24–48 h after the 2024 yield comparison; volume per cell stated.",
)

QC_METHODS = {
    "sterility": ("Sterility testing (BacT/ALERT)", ["bact_alert", "membrane_filtration", "direct_inoculation"]),
    "endotoxin": ("Endotoxin, kinetic chromogenic LAL", ["lal_kinetic", "rfc"]),
    "mycoplasma": ("Mycoplasma detection by PCR", ["myco_pcr", "myco_culture"]),
    "total_protein": ("Total protein by BCA", ["bca", "micro_bca"]),
    "potency": ("Potency: inhibition of LPS-induced TNF-α in microglia", ["cell_assay"]),
    "cytokine": ("Cytokine and growth-factor ELISA", ["elisa", "multiplex"]),
    "particle_concentration": ("Particle concentration by NTA", ["nta", "trps", "nfcm"]),
    "particle_size": ("Particle size distribution by NTA", ["nta", "trps", "nfcm"]),
    "ev_marker": ("EV markers by western blot", ["western_blot", "bead_flow"]),
    "contaminant_marker": ("Contaminant markers by western blot", ["western_blot"]),
    "imaging": ("Transmission electron microscopy of EVs", ["tem", "cryo_em"]),
}

DEMO_SOPS: list[DemoSOP] = [
    DemoSOP(
        "SOP-ISO-001",
        "Enzymatic isolation of MSC from bone marrow and adipose tissue",
        "isolation",
        [
            DemoVersion(
                "1. Mince the tissue; digest in collagenase type I, 1 mg/mL, 60 min at 37 °C with shaking.\n"
                "2. Neutralise, filter through 100 µm, spin 300 × g 5 min.\n"
                "3. Plate in α-MEM + 5 % hPL + 2 U/mL heparin + pen/strep; keep the plastic-adherent cells.\n",
                [
                    choice("isolation_method", "enzymatic"),
                    choice("isolation_enzyme", "collagenase_i", "collagenase_ii"),
                    number("isolation_enzyme_mg_per_ml", "mg/mL", 0.5, 2, "1"),
                    number("isolation_digestion_min", "min", 45, 90, "60"),
                    number("supplement_percent", "%", 5, 10, "5"),
                ],
            )
        ],
    ),
    DemoSOP(
        "SOP-ISO-002",
        "Explant culture of Wharton's jelly",
        "isolation",
        [
            DemoVersion(
                "1. Remove the vessels; cut Wharton's jelly into 2–3 mm³ pieces.\n"
                "2. Let the explants adhere 30 min, then add α-MEM + 5 % hPL + 2 U/mL heparin.\n"
                "3. Remove the explants once outgrowth reaches 70 % confluence.\n",
                [choice("isolation_method", "explant"), number("supplement_percent", "%", 5, 10, "5")],
            )
        ],
    ),
    DemoSOP(
        "SOP-EXP-001",
        "Expansion of MSC in hPL-supplemented α-MEM",
        "expansion",
        [
            DemoVersion(
                "1. Seed at 5 000–10 000 viable cells/cm² in T175 flasks.\n"
                "2. Incubate at 37 °C, 5 % CO2, 21 % O2; change the medium twice a week.\n"
                "3. Passage at 80–90 % confluence with TrypLE; count viable cells at every harvest.\n",
                [
                    number("seeding_density_per_cm2", "cells/cm²", 5000, 10000, "10000"),
                    number("temperature_c", "°C", 36.5, 37.5, "37"),
                    number("co2_percent", "%", 4.5, 5.5, "5"),
                    number("confluence_percent", "%", None, 90),
                ],
            )
        ],
    ),
    DemoSOP(
        "SOP-PRI-001",
        "Cytokine licensing with IFN-γ and TNF-α",
        "priming",
        [
            DemoVersion(
                "1. Replace the medium with α-MEM + 5 % hPL containing IFN-γ 25 ng/mL and TNF-α 10 ng/mL.\n"
                "2. Incubate 48 h.\n3. Wash three times with PBS before conditioning.\n",
                [
                    number("ifn_gamma_concentration", "ng/mL", 10, 50, "25"),
                    number("tnf_alpha_concentration", "ng/mL", 10, 20, "10"),
                    number("duration_h", "h", 24, 48, "48"),
                    number("washes", "", 2, None, "3"),
                ],
            )
        ],
    ),
    DemoSOP(
        "SOP-PRI-002",
        "Hypoxic priming at 1 % O₂",
        "priming",
        [
            DemoVersion(
                "1. Move the flasks to the tri-gas incubator set to 1 % O2, 5 % CO2.\n"
                "2. Keep them there 48 h; start conditioning without delay.\n",
                [
                    number("o2_percent", "%", 0.5, 2, "1"),
                    number("duration_h", "h", 24, 48, "48"),
                    choice("device", "tri_gas_incubator", "hypoxia_workstation"),
                ],
            )
        ],
    ),
    DemoSOP(
        "SOP-PRI-003",
        "Deferoxamine priming",
        "priming",
        [
            DemoVersion(
                "1. Add deferoxamine to 150 µM in complete medium.\n2. Incubate 24 h.\n"
                "3. Wash twice with PBS before conditioning.\n",
                [
                    number("deferoxamine_concentration", "µM", 100, 200, "150"),
                    number("duration_h", "h", 24, 24, "24"),
                    number("washes", "", 2, None, "2"),
                ],
            )
        ],
    ),
    DemoSOP("SOP-CM-001", "Serum-free conditioning of MSC", "conditioning", [CONDITIONING_V1, CONDITIONING_V2]),
    DemoSOP(
        "SOP-PRC-001",
        "Clearing centrifugation of conditioned medium",
        "processing",
        [
            DemoVersion(
                "1. Spin 300 × g, 10 min, 4 °C to remove cells.\n2. Spin 2 000 × g, 20 min, 4 °C to remove debris.\n",
                [
                    number("g_force", "× g", 300, 2000),
                    number("duration_min", "min", 10, 20),
                    number("temperature_c", "°C", 2, 8, "4"),
                ],
            )
        ],
    ),
    DemoSOP(
        "SOP-PRC-002",
        "Sterile filtration, 0.22 µm",
        "processing",
        [
            DemoVersion(
                "1. Filter the cleared medium through a 0.22 µm PES filter at room temperature.\n",
                [number("pore_size_um", "µm", 0.22, 0.22, "0.22"), number("temperature_c", "°C", 15, 25, "20")],
            )
        ],
    ),
    DemoSOP(
        "SOP-PRC-003",
        "EV isolation by differential ultracentrifugation",
        "processing",
        [
            DemoVersion(
                "1. Spin the filtered medium at 100 000–120 000 × g for 120 min at 4 °C (SW 32 Ti, k-factor 204).\n"
                "2. Wash the pellet in PBS and spin again at the same settings.\n"
                "3. Resuspend in PBS + 25 mM trehalose.\n",
                [
                    number("g_force", "× g", 100_000, 120_000),
                    number("duration_min", "min", 110, 130, "120"),
                    number("temperature_c", "°C", 2, 8, "4"),
                ],
            )
        ],
    ),
    DemoSOP(
        "SOP-PRC-004",
        "Concentration by 3 kDa ultrafiltration",
        "processing",
        [
            DemoVersion(
                "1. Concentrate the filtered medium 10× in Amicon Ultra-15, 3 kDa MWCO, at 4 °C.\n",
                [
                    number("mwco_kda", "kDa", 3, 3, "3"),
                    number("concentration_factor", "×", 5, 20, "10"),
                    number("temperature_c", "°C", 2, 8, "4"),
                ],
            )
        ],
    ),
    DemoSOP(
        "SOP-PRC-005",
        "Lyophilisation with trehalose",
        "processing",
        [
            DemoVersion(
                "1. Add trehalose to 25 mM; freeze at −80 °C.\n"
                "2. Primary drying −40 °C, 0.1 mbar, 24 h; secondary drying 20 °C, 6 h.\n"
                "3. Reconstitute in water for injection to the original volume.\n",
                [
                    choice("lyoprotectant", "trehalose"),
                    number("lyoprotectant_mm", "mM", 20, 50, "25"),
                    choice("reconstitution", "water", "saline"),
                ],
            )
        ],
    ),
    DemoSOP(
        "SOP-STO-001",
        "Frozen storage at −80 °C",
        "storage",
        [
            DemoVersion(
                "1. Aliquot into labelled cryovials or low-binding tubes.\n2. Store at −80 °C; avoid freeze–thaw.\n",
                [number("temperature_c", "°C", -86, -70, "-80"), choice("state", "frozen")],
            )
        ],
    ),
    DemoSOP(
        "SOP-STO-002",
        "Storage of lyophilised secretome",
        "storage",
        [
            DemoVersion(
                "1. Seal the vials under nitrogen.\n2. Store at 2–8 °C, protected from light.\n",
                [number("temperature_c", "°C", 2, 8, "4"), choice("state", "lyophilised")],
            )
        ],
    ),
    *(
        DemoSOP(
            f"SOP-QC-{index:03d}",
            title,
            "qc",
            [DemoVersion(f"{title}: follow the kit insert and the lab's assay sheet.\n", [choice("method", *methods)])],
        )
        for index, (title, methods) in enumerate(QC_METHODS.values(), start=1)
    ),
]
QC_SOP_CODES = {assay: f"SOP-QC-{index:03d}" for index, assay in enumerate(QC_METHODS, start=1)}

UC_JUSTIFICATION = (
    "Spun in the Type 70 Ti rotor (k-factor 44) instead of the SW 32 Ti (k-factor 204) the SOP assumes: "
    "70 min at 100 000 × g gives the same pelleting efficiency as 120 min in the SW 32 Ti (t = k / S)."
)


def _existing(*, lab, code: str) -> Protocol | None:
    """The lab's protocol with this code, or the one that had it before the lab renamed it."""
    found = Protocol.objects.filter(lab=lab, code=code).order_by("pk").first()
    if found is not None:
        return found
    former = history_model(Protocol).objects.filter(lab_id=lab.pk, code=code).values("pgh_obj_id")
    return Protocol.objects.filter(lab=lab, pk__in=former).order_by("pk").first()


def _effective(*, lab, tech, pi, sop: DemoSOP, created: Counter) -> ProtocolVersion | None:
    protocol = _existing(lab=lab, code=sop.code)
    if protocol is not None:
        return protocol.versions.filter(status=VersionStatus.EFFECTIVE).order_by("-number").first()
    protocol = protocol_create(lab=lab, actor=tech, code=sop.code, title=sop.title, category=sop.category)
    created["protocols"] += 1
    for spec in sop.versions:
        version = protocol_version_create_draft(
            protocol=protocol,
            actor=tech,
            body=spec.body,
            change_summary=spec.change_summary,
            parameters=spec.parameters,
        )
        _mark_published(version=version, pi=pi)
        created["protocol versions"] += 1
    return protocol.versions.get(status=VersionStatus.EFFECTIVE)


def _mark_published(*, version: ProtocolVersion, pi) -> None:
    """The demo's SOPs are history, like its verified QC and released batch: they are marked published by
    the PI without the password re-entry (electronic signature) that protocol_version_publish asks for."""
    with (
        transaction.atomic(),
        audit_context(actor=pi, reason=f"Demo data: {version.protocol.code} v{version.number} published"),
    ):
        ProtocolVersion.objects.filter(protocol_id=version.protocol_id, status=VersionStatus.EFFECTIVE).update(
            status=VersionStatus.RETIRED
        )
        ProtocolVersion.objects.filter(pk=version.pk).update(
            status=VersionStatus.EFFECTIVE, approved_by=pi, approved_at=timezone.now()
        )


# The SOP each kind of demo record follows: (model name, field, value) -> SOP code; None for any value.
PINS = {
    ("CellLine", "isolation_method", "enzymatic"): "SOP-ISO-001",
    ("CellLine", "isolation_method", "explant"): "SOP-ISO-002",
    ("Passage", None, None): "SOP-EXP-001",
    ("PrimingCondition", "kind", "cytokine"): "SOP-PRI-001",
    ("PrimingCondition", "kind", "hypoxia"): "SOP-PRI-002",
    ("PrimingCondition", "kind", "hypoxia_mimetic"): "SOP-PRI-003",  # "No priming" follows no SOP
    ("SecretomeBatch", None, None): "SOP-CM-001",
    ("ProcessingStep", "kind", "centrifugation"): "SOP-PRC-001",
    ("ProcessingStep", "kind", "filtration"): "SOP-PRC-002",
    ("ProcessingStep", "kind", "ultracentrifugation"): "SOP-PRC-003",
    ("ProcessingStep", "kind", "ultrafiltration"): "SOP-PRC-004",
    ("ProcessingStep", "kind", "lyophilisation"): "SOP-PRC-005",
    ("Aliquot", "state", "frozen"): "SOP-STO-001",
    ("Aliquot", "state", "lyophilised"): "SOP-STO-002",
    **{("QCResult", "assay", assay): code for assay, code in QC_SOP_CODES.items()},
}


def seed_protocols(*, lab, tech, pi) -> tuple[dict[str, ProtocolVersion | None], Counter, list[str]]:
    """Create the demo SOPs that are missing. Returns each SOP code's effective version (None when the lab
    retired it), what was created (kind -> count) and notes on what was unexpected."""
    created: Counter = Counter()
    sops = {sop.code: _effective(lab=lab, tech=tech, pi=pi, sop=sop, created=created) for sop in DEMO_SOPS}
    notes = [f"{code} has no effective version; new demo records do not pin it." for code, v in sops.items() if not v]
    return sops, created, notes


def demo_protocol_version(
    *, model_name: str, values: dict, sops: Mapping[str, ProtocolVersion | None]
) -> ProtocolVersion | None:
    """The SOP version a new demo record of this model with these values follows (pinned as it is created)."""
    for (name, field_name, value), code in PINS.items():
        if name == model_name and (field_name is None or values.get(field_name) == value):
            return sops.get(code)
    return None


def seed_deviations(*, lab, tech, pi, batch_ids: Collection[int]) -> Counter:
    """Raise the deviations of the batches created now; the EV batch's shorter spin is justified and approved."""
    created: Counter = Counter()
    batches = m.SecretomeBatch.objects.filter(lab=lab, pk__in=batch_ids)
    for batch in batches.order_by("code"):
        deviation_sync(batch=batch, actor=tech)
    for deviation in Deviation.objects.filter(
        lab=lab, batch__in=batches.filter(code="SB-25-002"), parameter="duration_min", status=DeviationStatus.OPEN
    ):
        deviation_justify(deviation=deviation, actor=tech, justification=UC_JUSTIFICATION)
        deviation_approve(deviation=deviation, actor=pi)
        created["approved deviations"] += 1
    return created
