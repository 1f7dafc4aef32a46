"""A reviewer returns a submitted batch to its technician for changes, with the reason; the web and API use it."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from pghistory.models import Events

from batches.models import BatchEvent, BatchEventKind
from batches.services.lifecycle import batch_return_for_changes, batch_submit
from batches.services.records import batch_update
from lims.models import Role
from tests import factories as f

pytestmark = pytest.mark.django_db

REASON = "Add the rotor and k-factor of the ultracentrifugation."


@pytest.fixture
def people():
    lab = f.LabFactory()
    tech = f.MembershipFactory(lab=lab, role=Role.TECHNICIAN).user
    pi = f.MembershipFactory(lab=lab, role=Role.REVIEWER).user
    auditor = f.MembershipFactory(lab=lab, role=Role.AUDITOR).user
    batch = batch_submit(batch=f.SecretomeBatchFactory(lab=lab), actor=tech)
    return lab, tech, pi, auditor, batch


def test_a_reviewer_returns_a_submitted_batch_as_a_draft_with_the_reason(people):
    _lab, tech, pi, _auditor, batch = people
    returned = batch_return_for_changes(batch=batch, actor=pi, reason=f"  {REASON} ")
    assert returned.status == "draft"
    event = BatchEvent.objects.filter(batch=batch).order_by("-at", "-pk").first()
    assert (event.kind, event.actor, event.data) == (BatchEventKind.RETURNED, pi, {"reason": REASON})
    reasons = [(e.pgh_context or {}).get("reason") for e in Events.objects.tracks(returned).order_by("pgh_id")]
    assert reasons[-1] == REASON
    # A draft again: the technician changes it without a reason and submits it again.
    changed = batch_update(batch=returned, actor=tech, data={"final_volume_ml": 17.5}, version=returned.version)
    assert batch_submit(batch=changed, actor=tech).status == "submitted"


def test_asking_twice_returns_once(people):
    _lab, _tech, pi, _auditor, batch = people
    batch_return_for_changes(batch=batch, actor=pi, reason=REASON)
    batch_return_for_changes(batch=batch, actor=pi, reason=REASON)
    assert BatchEvent.objects.filter(batch=batch, kind=BatchEventKind.RETURNED).count() == 1


def test_returning_needs_a_reason_a_reviewer_and_a_submitted_batch(people):
    _lab, tech, pi, auditor, batch = people
    with pytest.raises(ValidationError) as error:
        batch_return_for_changes(batch=batch, actor=pi, reason="   ")
    assert "reason" in error.value.message_dict
    for actor in (tech, auditor):
        with pytest.raises(PermissionDenied):
            batch_return_for_changes(batch=batch, actor=actor, reason=REASON)
    draft = f.SecretomeBatchFactory(lab=batch.lab)
    with pytest.raises(ValidationError) as error:
        batch_return_for_changes(batch=draft, actor=pi, reason=REASON)
    assert "only a submitted batch" in str(error.value)
    batch.refresh_from_db()
    assert batch.status == "submitted"


def test_the_api_returns_a_batch_for_changes(people, client):
    _lab, _tech, pi, _auditor, batch = people
    client.force_login(pi)
    url = f"/api/v1/batches/{batch.pk}/return-for-changes/"
    missing = client.post(url, {}, content_type="application/json")
    assert missing.status_code == 400
    response = client.post(url, {"reason": REASON}, content_type="application/json")
    assert response.status_code == 200, response.content
    assert response.json()["status"] == "draft"
