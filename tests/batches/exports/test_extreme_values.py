"""Numbers at the edges of the float range never make an export answer 500 (issue: two values of 1e308 in one
assay raised OverflowError in the mean)."""

import re

import pytest
from rest_framework.test import APIClient

from tests import factories as f

pytestmark = pytest.mark.django_db
WRONG = r"\b(?:inf|nan)\b|\bNone\b(?! of)|e\+"


@pytest.fixture
def client(lab):
    api = APIClient()
    api.force_authenticate(f.MembershipFactory(lab=lab).user)
    return api


@pytest.mark.parametrize("extreme", [1e308, -1e308, 1e-308, 0.0])
def test_extreme_qc_values_and_doses_export_in_every_format(client, lab, extreme):
    batch = f.SecretomeBatchFactory(lab=lab, code="SB-EDGE-1", cells_at_start=1e-308 if extreme else 1)
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
        body_weight_g=1e-308,
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


def test_two_values_of_1e308_in_one_assay_are_reported_not_overflowed(client, lab):
    batch = f.SecretomeBatchFactory(lab=lab, code="SB-EDGE-2")
    for _ in range(2):
        f.QCResultFactory(lab=lab, batch=batch, assay="endotoxin", method="lal_kinetic", value=1e308, unit="EU/mL")
    response = client.post("/api/v1/exports/methods/", {"batches": [batch.pk], "format": "md"}, format="json")
    assert response.status_code == 200
    assert "Endotoxin by kinetic chromogenic LAL assay was 1\u00a0×\u00a010³⁰⁸\u00a0EU/mL" in response.content.decode()
