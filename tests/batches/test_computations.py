"""Computed values against hand-computed figures."""

import datetime as dt
import math

import pytest

from batches import computations as c
from tests import factories as f


def test_population_doublings_is_log2_of_harvested_over_seeded():
    # 1e6 → 8e6 cells is exactly three doublings.
    assert c.population_doublings(1_000_000, 8_000_000) == pytest.approx(3.0)
    assert c.population_doublings(875_000, 7_000_000) == pytest.approx(3.0)
    assert c.population_doublings(500_000, 1_250_000) == pytest.approx(1.3219281, rel=1e-6)


def test_doubling_time_is_hours_times_ln2_over_ln_fold_expansion():
    # 72 h for three doublings → 24 h per doubling.
    assert c.doubling_time_h(72, 1_000_000, 8_000_000) == pytest.approx(24.0)
    assert c.doubling_time_h(72, 1_000_000, 900_000) is None  # the cells did not expand


def test_seeding_density_is_cells_per_square_centimetre():
    assert c.seeding_density_per_cm2(875_000, 175) == pytest.approx(5000.0)
    assert c.seeding_density_per_cm2(None, 175) is None


def test_other_computed_values_follow_the_checklist_formulas():
    assert c.cell_equivalents_per_ml(12_000_000, 30) == pytest.approx(400_000)
    assert c.ml_per_million_cells(30, 12_000_000) == pytest.approx(2.5)
    assert c.particles_per_ug(4.2e10, 410) == pytest.approx(1.0243902e8)
    assert c.endotoxin_eu_per_kg(0.05, 0.05, 0.23) == pytest.approx(0.0108696, rel=1e-4)
    assert c.storage_days(dt.date(2025, 2, 14), dt.date(2025, 3, 1)) == pytest.approx(15)


@pytest.mark.django_db
def test_cumulative_population_doublings_add_up_along_the_passage_chain():
    p1 = f.PassageFactory(number=1, cells_seeded=1_000_000, cells_harvested=4_000_000)  # 2 PD
    p2 = f.PassageFactory(
        lab=p1.lab, cell_line=p1.cell_line, parent=p1, number=2, cells_seeded=1_000_000, cells_harvested=8_000_000
    )  # 3 PD
    p3 = f.PassageFactory(
        lab=p1.lab, cell_line=p1.cell_line, parent=p2, number=3, cells_seeded=2_000_000, cells_harvested=3_000_000
    )  # log2(1.5) PD
    assert p1.cumulative_population_doublings == pytest.approx(2.0)
    assert p2.cumulative_population_doublings == pytest.approx(5.0)
    assert p3.cumulative_population_doublings == pytest.approx(5.0 + math.log2(1.5))
    assert [p.number for p in p3.chain()] == [1, 2, 3]


@pytest.mark.django_db
def test_cumulative_doublings_are_unknown_when_a_passage_lacks_its_harvest_count():
    p1 = f.PassageFactory(number=1, cells_harvested=None, harvested_on=None)
    p2 = f.PassageFactory(lab=p1.lab, cell_line=p1.cell_line, parent=p1, number=2)
    assert p2.cumulative_population_doublings is None


@pytest.mark.django_db
def test_a_passage_reports_its_own_density_doublings_and_doubling_time():
    passage = f.PassageFactory(
        started_on=dt.date(2025, 2, 1),
        harvested_on=dt.date(2025, 2, 4),
        cells_seeded=875_000,
        cells_harvested=7_000_000,
        area_cm2=175,
    )
    assert passage.seeding_density_per_cm2 == pytest.approx(5000)
    assert passage.population_doublings == pytest.approx(3.0)
    assert passage.doubling_time_h == pytest.approx(24.0)
