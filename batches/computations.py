"""Computed values the records, the checklist and the exports share (CHECKLIST.md, "Computed values")."""

import math
from collections.abc import Iterable
from datetime import date, datetime


def seeding_density_per_cm2(cells_seeded: float | None, area_cm2: float | None) -> float | None:
    if not cells_seeded or not area_cm2:
        return None
    return cells_seeded / area_cm2


def population_doublings(cells_seeded: float | None, cells_harvested: float | None) -> float | None:
    """PD = log2(Nh / Ns)."""
    if not cells_seeded or not cells_harvested:
        return None
    return math.log2(cells_harvested / cells_seeded)


def cumulative_population_doublings(doublings: Iterable[float | None]) -> float | None:
    """Σ PD along a passage chain; unknown if any passage in the chain lacks its counts."""
    total = 0.0
    for pd in doublings:
        if pd is None:
            return None
        total += pd
    return total


def hours_between(start: date | datetime | None, end: date | datetime | None) -> float | None:
    if start is None or end is None:
        return None
    if not isinstance(start, datetime):
        start = datetime(start.year, start.month, start.day)
    if not isinstance(end, datetime):
        end = datetime(end.year, end.month, end.day)
    return (end - start).total_seconds() / 3600


def doubling_time_h(
    hours_in_culture: float | None, cells_seeded: float | None, cells_harvested: float | None
) -> float | None:
    """Doubling time = t · ln 2 / ln(Nh / Ns); undefined when the cells did not expand."""
    if not hours_in_culture or not cells_seeded or not cells_harvested:
        return None
    if cells_harvested <= cells_seeded:
        return None
    return hours_in_culture * math.log(2) / math.log(cells_harvested / cells_seeded)


def cell_equivalents_per_ml(cells_at_start: float | None, final_volume_ml: float | None) -> float | None:
    if not cells_at_start or not final_volume_ml:
        return None
    return cells_at_start / final_volume_ml


def ml_per_million_cells(conditioning_volume_ml: float | None, cells_at_start: float | None) -> float | None:
    if not conditioning_volume_ml or not cells_at_start:
        return None
    return conditioning_volume_ml / (cells_at_start / 1e6)


def particles_per_ug(particles_per_ml: float | None, protein_ug_per_ml: float | None) -> float | None:
    if not particles_per_ml or not protein_ug_per_ml:
        return None
    return particles_per_ml / protein_ug_per_ml


def storage_days(produced: date | datetime | None, used: date | datetime | None) -> float | None:
    hours = hours_between(produced, used)
    return None if hours is None else hours / 24


def endotoxin_eu_per_kg(eu_per_ml: float | None, volume_ml: float | None, body_weight_kg: float | None) -> float | None:
    if eu_per_ml is None or not volume_ml or not body_weight_kg:
        return None
    return eu_per_ml * volume_ml / body_weight_kg
