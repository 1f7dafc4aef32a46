"""An auditor reads the audit trail in the app (the admin is a lab administrator's tool): a lab's and a batch's,
filtered, and downloaded as CSV."""

import csv
import io

import pytest
from django.urls import reverse

from batches.services.records import batch_update
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def changed_batch(lab, technician):
    batch = f.SecretomeBatchFactory(lab=lab, code="SB-AUDIT", status="submitted")
    return batch_update(
        batch=batch, actor=technician, data={"final_volume_ml": 17}, version=batch.version, reason="Measured again"
    )


def _csv_rows(response) -> list[dict[str, str]]:
    assert response["Content-Type"].startswith("text/csv")
    return list(csv.DictReader(io.StringIO(response.content.decode())))


def test_an_auditor_reads_the_batch_trail_from_the_batch_page_and_downloads_it(client, auditor, changed_batch):
    client.force_login(auditor)
    page = client.get(reverse("batches:batch-detail", args=[changed_batch.pk]))
    trail_url = reverse("batches:batch-audit", args=[changed_batch.pk])
    assert trail_url in page.content.decode()
    trail = client.get(trail_url)
    assert trail.status_code == 200
    assert "Measured again" in trail.content.decode()
    rows = _csv_rows(client.get(trail_url, {"format": "csv"}))
    change = next(row for row in rows if row["field"] == "final_volume_ml")
    assert (change["old_value"], change["new_value"], change["reason"]) == ("18.0", "17.0", "Measured again")


def test_an_auditor_reads_the_labs_trail_filtered_by_person(client, auditor, technician, changed_batch):
    client.force_login(auditor)
    response = client.get(reverse("audit-trail"), {"user": technician.pk})
    assert response.status_code == 200
    assert "SB-AUDIT" in response.content.decode()
    person = f'<option value="{technician.pk}" selected>{technician.get_full_name()} ({technician.username})</option>'
    assert technician.get_full_name() and person in response.content.decode()
    rows = _csv_rows(client.get(reverse("audit-trail"), {"user": technician.pk, "format": "csv"}))
    assert rows and {row["user"] for row in rows} == {technician.username}


def test_another_labs_trail_is_not_shown(client, outsider, changed_batch, lab):
    client.force_login(outsider)
    assert client.get(reverse("batches:batch-audit", args=[changed_batch.pk])).status_code == 404
    response = client.get(reverse("audit-trail"), {"lab": lab.pk})
    assert "SB-AUDIT" not in response.content.decode()
    assert "lab" in response.context["form"].errors
