"""Sparse records as labs enter them from papers and notebooks: only what was reported, nothing invented.

Each builder makes one study (with its batches) in a lab and returns it; the golden test exports its methods
text and its summary table. Only identity, links and the fields named in each builder are recorded.
"""

import datetime as dt

from batches import models as m


def _base(lab, prefix: str, **donor):
    donor_row = m.Donor.objects.create(lab=lab, code=f"{prefix}-D", **donor)
    return donor_row


def _line(lab, donor, prefix: str, **fields):
    return m.CellLine.objects.create(lab=lab, donor=donor, code=f"{prefix}-CL", **fields)


def _passage(lab, line, number: int = 3, **fields):
    return m.Passage.objects.create(lab=lab, cell_line=line, number=number, **fields)


def _batch(lab, passage, code: str, product_type: str = "CM", **fields):
    return m.SecretomeBatch.objects.create(lab=lab, passage=passage, code=code, product_type=product_type, **fields)


def _study(lab, title: str, **fields):
    return m.Study.objects.create(lab=lab, title=title, **fields)


def _administer(lab, study, batch, group: str, **fields):
    return m.Administration.objects.create(lab=lab, study=study, batch=batch, group=group, **fields)


def _outcome(lab, study, test: str = "von_frey", **fields):
    return m.OutcomeMeasure.objects.create(lab=lab, study=study, test=test, **fields)


def _typical_study(lab, title: str, **fields):
    values = {
        "pain_model": "cci",
        "species": "rat",
        "strain": "Sprague-Dawley",
        "sex": "male",
        "groups": [{"name": "CM", "role": "treatment"}, {"name": "Vehicle", "role": "vehicle"}],
    }
    values.update(fields)
    return _study(lab, title, **values)


def bought_cells_without_isolation_data(lab):
    """Cells bought from a supplier (catalogue number, lot): no isolation method, medium or passage data."""
    donor = _base(lab, "BOUGHT", species="human", tissue_source="umbilical_cord", supplier="ATCC")
    donor.catalogue_number, donor.lot = "PCS-500-010", "70023456"
    donor.save()
    line = _line(lab, donor, "BOUGHT")
    batch = _batch(lab, _passage(lab, line, number=5), "SB-BOUGHT-1", conditioning_time_h=48)
    study = _typical_study(lab, "Bought UC-MSCs in chronic constriction injury")
    _administer(lab, study, batch, "CM", dose_value=100, dose_unit="ug_protein", route="intrathecal", volume_ul=10)
    _outcome(lab, study, unit="g", time_points=[7, 14])
    return study


def batch_with_only_its_product_type(lab):
    """A batch whose record holds its product type and nothing else descriptive."""
    donor = _base(lab, "ONLY")
    line = _line(lab, donor, "ONLY")
    batch = _batch(lab, _passage(lab, line), "SB-ONLY-1", product_type="EV")
    study = _study(lab, "EVs from a legacy notebook")
    _administer(lab, study, batch, "EV")
    return study


def dose_not_recorded(lab):
    """The paper gives route, volume and schedule, but no dose."""
    donor = _base(lab, "NODOSE", species="human", tissue_source="adipose")
    line = _line(lab, donor, "NODOSE", isolation_method="enzymatic")
    batch = _batch(lab, _passage(lab, line), "SB-NODOSE-1", product_type="CONC")
    study = _typical_study(
        lab,
        "Concentrated secretome without a reported dose",
        pain_model="sni",
        species="mouse",
        groups=[{"name": "CONC", "role": "treatment"}, {"name": "Vehicle", "role": "vehicle"}],
    )
    _administer(lab, study, batch, "CONC", route="intravenous", volume_ul=100, n_doses=1, day_after_induction=7)
    _outcome(lab, study, unit="g", time_points=[7, 14, 21])
    return study


def volume_not_recorded(lab):
    """Dose and route are reported; the injected volume is not."""
    donor = _base(lab, "NOVOL", species="human", tissue_source="bone_marrow")
    line = _line(lab, donor, "NOVOL")
    batch = _batch(lab, _passage(lab, line), "SB-NOVOL-1", product_type="EV")
    study = _typical_study(
        lab,
        "EVs without a reported volume",
        pain_model="knee_oa_mia",
        groups=[{"name": "EV", "role": "treatment"}, {"name": "Vehicle", "role": "vehicle"}],
    )
    _administer(
        lab, study, batch, "EV", dose_value=1e9, dose_unit="particles", route="intra_articular", site="left knee"
    )
    _outcome(lab, study, test="incapacitance", unit="%", time_points=[14, 28])
    return study


def irregular_schedule(lab):
    """Three doses on days −1, 7 and 11 relative to model induction."""
    donor = _base(lab, "IRREG", species="rat", tissue_source="bone_marrow")
    line = _line(lab, donor, "IRREG")
    batch = _batch(lab, _passage(lab, line), "SB-IRREG-1")
    study = _typical_study(lab, "Secretome on days −1, 7 and 11", pain_model="cipn_paclitaxel")
    _administer(
        lab,
        study,
        batch,
        "CM",
        dose_value=0.5,
        dose_unit="ml_cm",
        route="intraperitoneal",
        volume_ul=500,
        schedule_days=[-1, 7, 11],
        n_doses=3,
        day_after_induction=-1,
    )
    _outcome(lab, study, test="von_frey", unit="g", time_points=[0, 7, 14])
    return study


def fresh_product(lab):
    """Conditioned medium used within hours of collection, never frozen: no aliquots, no storage temperature."""
    donor = _base(lab, "FRESH", species="human", tissue_source="dental_pulp")
    line = _line(lab, donor, "FRESH")
    batch = _batch(
        lab,
        _passage(lab, line),
        "SB-FRESH-1",
        used_fresh=True,
        conditioning_time_h=24,
        collected_at=dt.datetime(2025, 3, 4, 10, 0, tzinfo=dt.UTC),
    )
    study = _typical_study(lab, "Freshly collected dental pulp secretome", pain_model="tmj_oa")
    _administer(lab, study, batch, "CM", dose_value=50, dose_unit="ug_protein", route="intra_articular", volume_ul=30)
    _outcome(lab, study, test="von_frey", unit="g", time_points=[3, 7])
    return study


def three_routes(lab):
    """One batch given by three routes, one group each; one route is 'other' with its details."""
    donor = _base(lab, "ROUTES", species="human", tissue_source="umbilical_cord")
    line = _line(lab, donor, "ROUTES")
    batch = _batch(lab, _passage(lab, line), "SB-ROUTES-1", product_type="EV")
    study = _typical_study(
        lab,
        "Three routes of EV delivery after nerve injury",
        groups=[
            {"name": "IV", "role": "treatment"},
            {"name": "IT", "role": "treatment"},
            {"name": "Local", "role": "treatment"},
        ],
    )
    common = {"dose_value": 1e10, "dose_unit": "particles", "n_doses": 1, "day_after_induction": 7}
    _administer(lab, study, batch, "IV", route="intravenous", volume_ul=200, **common)
    _administer(lab, study, batch, "IT", route="intrathecal", volume_ul=10, **common)
    _administer(
        lab, study, batch, "Local", route="other", route_details="Directly to the injured nerve", volume_ul=5, **common
    )
    _outcome(lab, study, test="von_frey", unit="g", time_points=[7, 14, 28])
    _outcome(lab, study, test="hargreaves", unit="s", time_points=[7, 14, 28])
    return study


SPARSE = {
    "bought-cells": bought_cells_without_isolation_data,
    "product-type-only": batch_with_only_its_product_type,
    "dose-not-recorded": dose_not_recorded,
    "volume-not-recorded": volume_not_recorded,
    "irregular-schedule": irregular_schedule,
    "fresh-product": fresh_product,
    "three-routes": three_routes,
}
