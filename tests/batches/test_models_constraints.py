"""The database itself refuses what can never be true — not only the forms."""

import datetime as dt

import pytest
from django.db import IntegrityError, transaction
from django.db.utils import InternalError

from batches.models import Passage
from tests import factories as f

pytestmark = pytest.mark.django_db


def _refused(factory, **values):
    with pytest.raises(IntegrityError), transaction.atomic():
        factory(**values)


@pytest.mark.parametrize(
    ("factory", "field", "value"),
    [
        (f.PassageFactory, "cells_seeded", -5),
        (f.PassageFactory, "cells_seeded", 0),
        (f.PassageFactory, "area_cm2", 0),
        (f.PassageFactory, "viability_percent", 101),
        (f.PassageFactory, "confluence_percent", -1),
        (f.PassageFactory, "o2_percent", 120),
        (f.PassageFactory, "co2_percent", -0.5),
        (f.DonorFactory, "age_years", -1),
        (f.CellLineFactory, "supplement_percent", 150),
        (f.ImmunophenotypeFactory, "percent_positive", 100.1),
        (f.SecretomeBatchFactory, "conditioning_volume_ml", -20),
        (f.SecretomeBatchFactory, "conditioning_time_h", 0),
        (f.SecretomeBatchFactory, "final_volume_ml", 0),
        (f.SecretomeBatchFactory, "harvest_viability_percent", 140),
        (f.SecretomeBatchFactory, "conditioning_o2_percent", -3),
        (f.SecretomeBatchFactory, "cells_at_start", -1),
        (f.ProcessingStepFactory, "pore_size_um", -0.22),
        (f.ProcessingStepFactory, "g_force", 0),
        (f.AliquotFactory, "volume_ul", -200),
        (f.AliquotFactory, "freeze_thaw_count", -1),
        (f.AdministrationFactory, "volume_ul", 0),
        (f.AdministrationFactory, "dose_value", -1),
        (f.PrimingAgentFactory, "concentration", 0),
    ],
)
def test_the_database_refuses_an_impossible_quantity(factory, field, value):
    _refused(factory, **{field: value})


@pytest.mark.parametrize(
    ("factory", "field", "value"),
    [
        (f.DonorFactory, "tissue_source", "moon_rock"),
        (f.DonorFactory, "species", "unicorn"),
        (f.SecretomeBatchFactory, "product_type", "XYZ"),
        (f.SecretomeBatchFactory, "status", "approved"),
        (f.AdministrationFactory, "route", "oral-ish"),
        (f.AdministrationFactory, "dose_unit", "spoonfuls"),
        (f.PrimingConditionFactory, "kind", "magic"),
    ],
)
def test_the_database_refuses_a_value_outside_its_controlled_list(factory, field, value):
    _refused(factory, **{field: value})


def test_a_passage_cannot_be_harvested_before_it_was_seeded():
    _refused(f.PassageFactory, started_on=dt.date(2025, 3, 10), harvested_on=dt.date(2025, 3, 9))


def test_a_passage_parent_must_belong_to_the_same_cell_line():
    lab = f.LabFactory()
    parent = f.PassageFactory(lab=lab, number=2)
    elsewhere = f.CellLineFactory(lab=lab)
    with pytest.raises(IntegrityError, match="same cell line"), transaction.atomic():
        f.PassageFactory(lab=lab, cell_line=elsewhere, parent=parent, number=3)


def test_moving_a_passage_under_a_parent_of_another_cell_line_is_refused_by_update():
    lab = f.LabFactory()
    parent = f.PassageFactory(lab=lab, number=2)
    child = f.PassageFactory(lab=lab, number=3)
    with pytest.raises(IntegrityError), transaction.atomic():
        Passage.objects.filter(pk=child.pk).update(parent=parent)


def test_a_passage_parent_in_the_same_cell_line_is_accepted():
    parent = f.PassageFactory(number=2)
    child = f.PassageFactory(lab=parent.lab, cell_line=parent.cell_line, parent=parent, number=3)
    assert child.parent == parent


def test_codes_are_unique_within_a_lab_but_not_across_labs():
    first = f.DonorFactory(code="D-1")
    _refused(f.DonorFactory, lab=first.lab, code="D-1")
    assert f.DonorFactory(code="D-1").lab != first.lab


def test_a_pooled_donor_must_count_at_least_two_donors():
    _refused(f.DonorFactory, pooled=True, n_donors=1)
    assert f.DonorFactory(pooled=True, n_donors=3).n_donors == 3


def test_a_serum_free_medium_cannot_carry_serum():
    _refused(f.SecretomeBatchFactory, serum_free=True, serum_percent=10)


def test_the_version_increments_on_every_update_even_a_queryset_update():
    donor = f.DonorFactory()
    assert donor.version == 1
    type(donor).objects.filter(pk=donor.pk).update(anatomical_site="femoral head")
    donor.refresh_from_db()
    assert donor.version == 2
    donor.sex = "male"
    donor.save()
    donor.refresh_from_db()
    assert donor.version == 3


def test_internal_error_is_not_what_constraints_raise():
    # The passage trigger raises check_violation, which Django maps to IntegrityError (not InternalError).
    lab = f.LabFactory()
    parent = f.PassageFactory(lab=lab, number=5)
    with pytest.raises(IntegrityError) as caught, transaction.atomic():
        f.PassageFactory(lab=lab, cell_line=parent.cell_line, parent=parent, number=4)
    assert not isinstance(caught.value, InternalError)
