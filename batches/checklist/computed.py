"""Computed checklist values (CHECKLIST.md "Computed values"), on loaded inputs.

Each returns (value, missing) where missing lists (field path, label) pairs that stop the value
from being computed.
"""

from collections.abc import Callable

from batches import computations
from batches.checklist.inputs import Inputs

Missing = list[tuple[str, str]]

PROTEIN_TO_UG_PER_ML = {"µg/mL": 1.0, "mg/mL": 1000.0, "ng/mL": 0.001}


def population_doublings(inputs: Inputs) -> tuple[dict | None, Missing]:
    chain = inputs.collections["passages"]
    if not chain:
        return None, [("passage", "producing passage")]
    missing = [
        (
            f"passage.{column}" if p is chain[-1] else f"passage.parent(P{p['number']}).{column}",
            f"{noun} at P{p['number']}",
        )
        for p in chain
        for column, noun in (("cells_seeded", "cells seeded"), ("cells_harvested", "cells harvested"))
        if not p[column]
    ]
    if missing:
        return None, missing
    doublings = [computations.population_doublings(p["cells_seeded"], p["cells_harvested"]) for p in chain]
    return {
        "population_doublings": round(doublings[-1], 3),
        "cumulative_population_doublings": round(computations.cumulative_population_doublings(doublings), 3),
        "passages": [p["number"] for p in chain],
    }, []


def seeding_density_per_cm2(inputs: Inputs) -> tuple[float | None, Missing]:
    passage = inputs.sources["passage"]
    if passage is None:
        return None, [("passage", "producing passage")]
    density = computations.seeding_density_per_cm2(passage["cells_seeded"], passage["area_cm2"])
    if density is None:
        return None, [("passage.cells_seeded", "cells seeded"), ("passage.area_cm2", "growth area (cm²)")]
    return round(density, 1), []


def storage_days(inputs: Inputs) -> tuple[float | None, Missing]:
    collected = inputs.sources["batch"]["collected_at"]
    uses = [use["at"] for use in inputs.collections["aliquot_uses"] if use["at"] is not None]
    missing: Missing = []
    if collected is None:
        missing.append(("collected_at", "when the conditioned medium was collected"))
    if not uses:
        missing.append(("aliquots.events", "an aliquot 'used' event with its date"))
    if missing:
        return None, missing
    return round(computations.storage_days(collected, min(uses)), 2), []


def _first_value(inputs: Inputs, assay: str) -> dict | None:
    return next(
        (r for r in inputs.collections["qc_results"] if r["assay"] == assay and r["value"] is not None),
        None,
    )


def particles_per_ug(inputs: Inputs) -> tuple[float | None, Missing]:
    particles = _first_value(inputs, "particle_concentration")
    protein = _first_value(inputs, "total_protein")
    missing: Missing = []
    if particles is None:
        missing.append(("qc_results", "particle concentration (particles/mL)"))
    if protein is None or protein["unit"] not in PROTEIN_TO_UG_PER_ML:
        missing.append(("qc_results", "total protein (µg/mL)"))
    if missing:
        return None, missing
    ratio = computations.particles_per_ug(particles["value"], protein["value"] * PROTEIN_TO_UG_PER_ML[protein["unit"]])
    if ratio is None:
        return None, [("qc_results", "a non-zero particle concentration and total protein")]
    return float(f"{ratio:.4g}"), []


COMPUTED: dict[str, Callable[[Inputs], tuple[object, Missing]]] = {
    "population_doublings": population_doublings,
    "seeding_density_per_cm2": seeding_density_per_cm2,
    "storage_days": storage_days,
    "particles_per_ug": particles_per_ug,
}
