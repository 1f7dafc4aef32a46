"""Extreme finite numbers: whatever the API accepts, no page or API answer fails with a 500.

(The methods export's own arithmetic is covered with the export.)"""

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rest_framework.test import APIClient

from tests import factories as f

pytestmark = pytest.mark.django_db

EXTREMES = st.one_of(
    st.floats(allow_nan=False, allow_infinity=False),
    st.sampled_from([1e308, -1e308, 1e15, -1e15, 1e15 + 1, 5e-324, -0.0, 0.0, 1e-300, 1e-12, 9.99e-13]),
)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(first=EXTREMES, second=EXTREMES, volume=EXTREMES)
def test_extreme_values_accepted_by_the_api_never_make_a_page_or_an_api_answer_500(
    client, lab, technician, first, second, volume
):
    api = APIClient()
    api.force_authenticate(technician)
    client.force_login(technician)
    batch = f.SecretomeBatchFactory(lab=lab)
    answers = [
        api.patch(f"/api/v1/batches/{batch.pk}/", {"final_volume_ml": volume, "version": batch.version}, format="json")
    ]
    for value in (first, second):
        payload = {
            "batch": batch.pk,
            "assay": "total_protein",
            "method": "bca",
            "value": value,
            "unit": "µg/mL",
            "performed_on": "2025-03-01",
        }
        answers.append(api.post("/api/v1/qc-results/", payload, format="json"))
    assert all(answer.status_code in (200, 201, 400) for answer in answers), [a.status_code for a in answers]
    for answer in answers:
        if answer.status_code == 400:
            assert set(answer.data) & {"value", "final_volume_ml"}, answer.data

    pages = [
        api.get(f"/api/v1/batches/{batch.pk}/"),
        api.get("/api/v1/qc-results/"),
        api.get("/api/v1/batches/"),
        api.get(f"/api/v1/batches/{batch.pk}/history/"),
        client.get(f"/batches/{batch.pk}/"),
        client.get("/qc/trends/data/?assay=total_protein"),
        client.get("/"),
    ]
    assert [page.status_code for page in pages if page.status_code >= 500] == []
