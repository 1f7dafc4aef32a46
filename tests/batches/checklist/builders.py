"""Batches that satisfy the checklist, built with the shared factories; tests then take one thing away."""

import datetime as dt

from django.utils import timezone

from batches import models as m
from tests import factories as f

ISCT_PHENOTYPE = {
    "CD73": 99.0,
    "CD90": 98.5,
    "CD105": 97.0,
    "CD45": 0.5,
    "CD34": 0.4,
    "CD14": 0.3,
    "CD19": 0.2,
    "HLA-DR": 0.6,
}


def cell_line(lab, *, species: str = "human", phenotype: dict | None = None, **overrides) -> m.CellLine:
    donor = f.DonorFactory(lab=lab, species=species, health_status="healthy")
    line = f.CellLineFactory(lab=lab, donor=donor, **overrides)
    for marker, percent in (ISCT_PHENOTYPE if phenotype is None else phenotype).items():
        f.ImmunophenotypeFactory(lab=lab, cell_line=line, marker=marker, percent_positive=percent, passage_number=3)
    for lineage, method in (
        ("osteogenic", "alizarin_red"),
        ("adipogenic", "oil_red_o"),
        ("chondrogenic", "alcian_blue"),
    ):
        f.DifferentiationFactory(lab=lab, cell_line=line, lineage=lineage, result="positive", method=method)
    return line


def passage(lab, line: m.CellLine) -> m.Passage:
    first = f.PassageFactory(lab=lab, cell_line=line, number=2, cells_seeded=875_000, cells_harvested=6_000_000)
    return f.PassageFactory(lab=lab, cell_line=line, parent=first, number=3, cells_harvested=7_000_000)


def priming(lab, kind: str) -> m.PrimingCondition:
    if kind == "none":
        return f.PrimingConditionFactory(lab=lab, name="No priming", kind="none")
    if kind == "cytokine":
        condition = f.PrimingConditionFactory(lab=lab, name="IFN-γ 25 ng/mL", kind="cytokine", washout=True)
        if not condition.agents.exists():
            f.PrimingAgentFactory(
                lab=lab, priming=condition, agent="ifn_gamma", concentration=25, concentration_unit="ng/mL"
            )
        return condition
    if kind == "hypoxia":
        return f.PrimingConditionFactory(
            lab=lab, name="Hypoxia 1 %", kind="hypoxia", o2_percent=1, duration_h=48, device="tri_gas_incubator"
        )
    if kind == "dfo":
        condition = f.PrimingConditionFactory(
            lab=lab, name="DFO 150 µM", kind="hypoxia_mimetic", duration_h=24, washout=True
        )
        if not condition.agents.exists():
            f.PrimingAgentFactory(
                lab=lab,
                priming=condition,
                agent="deferoxamine",
                concentration=150,
                concentration_unit="µM",
                exposure=24,
            )
        return condition
    raise ValueError(kind)


CLEARING = [
    {"kind": "centrifugation", "g_force": 300, "duration_min": 10, "temperature_c": 4},
    {"kind": "filtration", "pore_size_um": 0.22},
]
STEPS = {
    "CM": [],
    "CONC": [{"kind": "ultrafiltration", "mwco_kda": 3, "concentration_factor": 10, "final_volume_ml": 2}],
    "EV": [
        {
            "kind": "ultracentrifugation",
            "g_force": 100_000,
            "duration_min": 70,
            "temperature_c": 4,
            "rotor": "Type 70 Ti",
            "k_factor": 44,
        }
    ],
    "EVD": [{"kind": "sec", "details": "qEV original 70 nm column, flow-through pooled"}],
    "LYO": [
        {"kind": "ultrafiltration", "mwco_kda": 3, "concentration_factor": 10, "final_volume_ml": 2},
        {
            "kind": "lyophilisation",
            "lyoprotectant": "trehalose",
            "lyophilisation_cycle": "−40 °C 24 h, 20 °C 6 h",
            "residual_moisture_percent": 1.5,
            "reconstitution": "water",
            "reconstitution_volume_ml": 2,
        },
    ],
}


def qc(lab, batch: m.SecretomeBatch, user, product_type: str) -> None:
    def result(assay, method, value=None, unit="", text="", analyte="", sample="product", **extra):
        f.QCResultFactory(
            lab=lab,
            batch=batch,
            assay=assay,
            method=method,
            value=value,
            unit=unit,
            result_text=text,
            analyte=analyte,
            sample=sample,
            performed_by=user,
            **extra,
        )

    result("sterility", "bact_alert", text="negative")
    result("endotoxin", "lal_kinetic", 0.05, "EU/mL")
    result("mycoplasma", "myco_pcr", text="negative", sample="cells")
    result("mycoplasma", "myco_pcr", text="negative")
    result("total_protein", "bca", 150, "µg/mL")
    result("potency", "cell_assay", 55, "% inhibition", analyte="TNF-α")
    result("particle_concentration", "nta", 3e10, "particles/mL")
    result("cytokine", "elisa", 80, "pg/mL", analyte="IL-10")
    if product_type == "EV":
        for analyte, value in (("mode", 110), ("D10", 70), ("D50", 120), ("D90", 210)):
            result("particle_size", "nta", value, "nm", analyte=analyte)
        for analyte in ("CD63", "TSG101"):
            result("ev_marker", "western_blot", text="detected", analyte=analyte)
        for analyte in ("calnexin", "ApoA1"):
            result("contaminant_marker", "western_blot", text="not_detected", analyte=analyte)
        result("imaging", "tem", text="detected", raw_data="EM/2025/001.tif")
    if product_type == "EVD":
        result("ev_depletion", "nta", 96, "%")


def complete_batch(
    lab,
    user,
    *,
    product_type: str = "CM",
    intended_use: str = "in_vivo",
    priming_kind: str = "cytokine",
    species: str = "human",
    phenotype: dict | None = None,
) -> m.SecretomeBatch:
    """A batch on which every applicable item of the checklist is satisfied and every gate passes."""
    line = cell_line(lab, species=species, phenotype=phenotype)
    mock = f.SecretomeBatchFactory(lab=lab, passage=passage(lab, line), priming=priming(lab, "none"))
    batch = f.SecretomeBatchFactory(
        lab=lab,
        passage=mock.passage,
        priming=priming(lab, priming_kind) if priming_kind != "none" else mock.priming,
        product_type=product_type,
        intended_use=intended_use,
        conditioning_o2_percent=1 if priming_kind == "hypoxia" else 21,
        mock_control=mock,
        data_repository_ids="ZENODO:10.5281/zenodo.1",
    )
    for order, values in enumerate(CLEARING + STEPS[product_type], start=1):
        f.ProcessingStepFactory(lab=lab, batch=batch, order=order, **values)
    aliquot = f.AliquotFactory(lab=lab, batch=batch)
    f.AliquotFactory(lab=lab, batch=batch)
    qc(lab, batch, user, product_type)
    m.AliquotEvent.objects.create(
        lab=lab, aliquot=aliquot, kind="used", at=timezone.now() - dt.timedelta(days=2), volume_ul=50
    )
    return batch
