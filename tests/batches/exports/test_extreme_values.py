"""Numbers at the edges of what the API accepts never make an export answer 500 (issue 19 item 4: two values of
1e308 in one assay raised OverflowError in the mean).

The database refuses numbers beyond lims.constraints.NUMBER_LIMIT (FiniteNumbers), so the API tests record the
extremes the rule accepts, read from the constant so the test follows the rule. The export arithmetic itself
must still survive the whole float range (±1e308, 1e-308): that is checked on the typography and computation
functions the composer calls.
"""

import re

import pytest
from rest_framework.test import APIClient

from batches import computations
from batches.exports import typography as t
from lims import constraints
from tests import factories as f

pytestmark = pytest.mark.django_db
WRONG = r"\b(?:inf|nan)\b|\bNone\b(?! of)|e\+"

LARGEST = constraints.NUMBER_LIMIT
# FiniteNumbers has no lower bound on the magnitude (|x| <= NUMBER_LIMIT), so the tiniest values stay accepted
# and the exports must guard the quotients they overflow (cells or body weight of 1e-308).
SMALLEST = 1e-308


@pytest.fixture
def client(lab):
    api = APIClient()
    api.force_authenticate(f.MembershipFactory(lab=lab).user)
    return api


@pytest.mark.parametrize("extreme", [LARGEST, -LARGEST, SMALLEST, 0.0])
def test_extreme_accepted_qc_values_and_doses_export_in_every_format(client, lab, extreme):
    batch = f.SecretomeBatchFactory(lab=lab, code="SB-EDGE-1", cells_at_start=SMALLEST if extreme else 1)
    for _ in range(3):
        f.QCResultFactory(lab=lab, batch=batch, assay="total_protein", value=extreme, unit="µg/mL")
        f.QCResultFactory(
            lab=lab, batch=batch, assay="particle_concentration", method="nta", value=extreme, unit="particles/mL"
        )
    study = f.StudyFactory(lab=lab)
    f.AdministrationFactory(
        lab=lab,
        study=study,
        batch=batch,
        dose_value=abs(extreme) or 1.0,
        volume_ul=abs(extreme) or 1.0,
        body_weight_g=SMALLEST,
    )
    for fmt in ("md", "docx", "json"):
        for body in ({"batches": [batch.pk], "format": fmt}, {"study": study.pk, "format": fmt}):
            response = client.post("/api/v1/exports/methods/", body, format="json")
            assert response.status_code == 200, (body, response.content[:300])
            if fmt == "md":
                text = response.content.decode()
                assert not re.search(WRONG, text), re.search(rf".{{30}}(?:{WRONG}).{{30}}", text)
    for fmt in ("md", "csv", "docx", "json"):
        response = client.post("/api/v1/exports/studies-table", {"studies": [study.pk], "format": fmt}, format="json")
        assert response.status_code == 200, (fmt, response.content[:300])


def test_two_values_at_the_limit_in_one_assay_are_reported_not_overflowed(client, lab):
    batch = f.SecretomeBatchFactory(lab=lab, code="SB-EDGE-2")
    for _ in range(2):
        f.QCResultFactory(lab=lab, batch=batch, assay="endotoxin", method="lal_kinetic", value=LARGEST, unit="EU/mL")
    response = client.post("/api/v1/exports/methods/", {"batches": [batch.pk], "format": "md"}, format="json")
    assert response.status_code == 200
    assert "Endotoxin by kinetic chromogenic LAL assay was 1\u00a0×\u00a010¹⁵\u00a0EU/mL" in response.content.decode()


@pytest.mark.parametrize(
    "values",
    [[1e308] * 3, [-1e308] * 3, [1e-308] * 3, [1e308, -1e308, 1e308], [1e308, 1e-308, 0.0], [5e-324] * 3],
    ids=["max", "min", "tiny", "opposite", "mixed", "subnormal"],
)
def test_the_export_arithmetic_survives_the_whole_float_range(values):
    """Whatever a future rule lets through, the mean, SD and quotients never overflow or print 'inf'."""
    texts = [t.summary(values, "µg/mL"), t.summary(values[:2], "EU/mL"), t.span(values, "µg/mL")]
    texts += [t.quantity(v, "particles/mL") for v in values]
    for text in texts:
        assert text and not re.search(WRONG, text), text
    mean, sd = t.mean_sd(values)
    assert t.finite(mean) is not None and t.finite(sd) is not None
    for first in values:
        for second in values:
            for compute in (
                computations.cell_equivalents_per_ml,
                computations.ml_per_million_cells,
                computations.particles_per_ug,
            ):
                result = t.safely(compute, first, second)
                assert result is None or t.finite(result) is not None
            result = t.safely(computations.endotoxin_eu_per_kg, first, second, values[-1])
            assert result is None or t.finite(result) is not None


def test_two_values_of_1e308_in_one_assay_have_a_mean_not_an_overflow():
    assert t.summary([1e308, 1e308], "EU/mL") == "1 × 10³⁰⁸ EU/mL"
    assert t.summary([1e308] * 3, "EU/mL") == "(1 ± 0) × 10³⁰⁸ EU/mL (n = 3)"
