"""The lifecycle rows of the role table: role × (service, API, web) × every lifecycle action.

DESIGN.md "Who may do what" is the contract, mirrored row by row in TABLE below: who submits and amends,
who returns, verifies, rejects, releases, corrects and retires, who justifies and approves deviations, who
publishes and retires SOP versions, and who manages members and partner labs. A user from another lab may do
none of it. Signed actions are never done on your own work: the person who performed a QC result, operated
a batch or justified a deviation does not verify, release or approve it.

Each action is tried by every role through its service and through its API route, and the nine the pages
offer as buttons (submit, return, release, reject, verify and reject QC, justify, approve, publish an SOP)
through the page's own form. An allowed try really acts
(the status moves, the event, signature or new row is there); a refused one raises PermissionDenied (the
service) or answers 403/404 (the API) and leaves every table it could have touched as it was.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.core.exceptions import PermissionDenied
from django.urls import reverse
from rest_framework.test import APIClient

from batches.models import BatchEvent, PartnerLab, QCResult, SecretomeBatch
from batches.services.corrections import batch_correct
from batches.services.lifecycle import (
    batch_reject,
    batch_release,
    batch_retire,
    batch_return_for_changes,
    batch_submit,
)
from batches.services.qc import qc_result_correct, qc_result_reject, qc_result_verify
from batches.services.records import batch_update
from batches.shipments.services import partner_lab_declare
from lims.models import Invitation, Membership
from lims.services.memberships import invitation_create, membership_change_role, membership_remove
from lims.signatures import Signature
from protocols.models import Deviation, ProtocolVersion
from protocols.services import (
    deviation_approve,
    deviation_justify,
    protocol_version_publish,
    protocol_version_retire,
)
from tests import factories as f
from tests.batches.checklist.builders import complete_batch
from tests.shipments.conftest import PASSWORD, released_batch

pytestmark = pytest.mark.django_db

ROLES = ("technician", "reviewer", "auditor", "lab_admin", "outsider")
REASON = "Checked by the lifecycle matrix"
API = "/api/v1"

# DESIGN.md "Who may do what", the lifecycle rows: who may (the outsider, from another lab, never may).
EDITORS = frozenset({"technician", "reviewer", "lab_admin"})  # create and edit drafts; submit; amend
REVIEWER = frozenset({"reviewer"})
TABLE = {
    "submit a batch": EDITORS,
    "amend a submitted batch": EDITORS,
    "return a submitted batch": REVIEWER,
    "verify a QC result": REVIEWER,
    "reject a QC result": REVIEWER,
    "release a batch": REVIEWER,
    "reject a batch": REVIEWER,
    "correct a verified QC result": frozenset({"technician", "reviewer"}),
    "correct a released batch": REVIEWER,
    "justify a deviation": frozenset({"technician", "reviewer"}),
    "approve a deviation": REVIEWER,
    "publish an SOP version": REVIEWER,
    "retire an SOP version": REVIEWER,
    "retire a batch": frozenset({"reviewer", "lab_admin"}),
    "invite a member": frozenset({"lab_admin"}),
    "change a member's role": frozenset({"lab_admin"}),
    "remove a member": frozenset({"lab_admin"}),
    "declare a partner lab": frozenset({"lab_admin"}),
}


# --- subjects: what each action acts on, made by someone other than the actor ----------------------------


def _submitted_batch(lab, cast):
    batch = f.SecretomeBatchFactory(lab=lab, operator=cast["technician"], created_by=cast["technician"])
    return batch_submit(batch=batch, actor=cast["technician"])


def _draft_batch(lab, cast):
    return f.SecretomeBatchFactory(lab=lab, operator=cast["technician"], created_by=cast["technician"])


def _releasable_batch(lab, cast):
    """A batch that passes every gate, operated by the technician, its QC verified, submitted."""
    batch = complete_batch(lab, cast["technician"])
    SecretomeBatch.objects.filter(pk=batch.pk).update(operator=cast["technician"], created_by=cast["technician"])
    batch.qc_results.update(status="verified", verified_by=cast["reviewer"], verified_at="2025-03-01T10:00:00Z")
    return batch_submit(batch=batch, actor=cast["technician"])


def _recorded_result(lab, cast):
    batch = _draft_batch(lab, cast)
    return f.QCResultFactory(lab=lab, batch=batch, performed_by=cast["technician"], created_by=cast["technician"])


def _verified_result(lab, cast):
    result = _recorded_result(lab, cast)
    QCResult.objects.filter(pk=result.pk).update(
        status="verified", verified_by=cast["reviewer"], verified_at=dt.datetime(2025, 3, 1, 10, tzinfo=dt.UTC)
    )
    result.refresh_from_db()
    return result


def _released_batch(lab, cast):
    return released_batch(lab, operator=cast["technician"], created_by=cast["technician"])


def _open_deviation(lab, cast):
    batch = _draft_batch(lab, cast)
    return Deviation.objects.create(
        lab=lab,
        batch=batch,
        protocol_version=f.ProtocolVersionFactory(lab=lab, effective=True),
        record_type="batch",
        record_id=batch.pk,
        parameter="conditioning_time_h",
        expected="24–48 h",
        actual="72 h",
    )


def _justified_deviation(lab, cast):
    return deviation_justify(deviation=_open_deviation(lab, cast), actor=cast["technician"], justification=REASON)


def _draft_sop(lab, cast):
    return f.ProtocolVersionFactory(lab=lab)


def _effective_sop(lab, cast):
    return f.ProtocolVersionFactory(lab=lab, effective=True)


def _member(lab, cast):
    user = f.UserFactory()
    return f.MembershipFactory(user=user, lab=lab, role="technician")


def _partner(lab, cast):
    return f.LabFactory()


# --- what "it happened" means for each action --------------------------------------------------------------


def _event(batch, kind: str, actor) -> bool:
    return BatchEvent.objects.filter(batch_id=batch.pk, kind=kind, actor=actor).exists()


def _signed(record, meaning: str, actor) -> bool:
    return Signature.objects.filter(object_id=record.pk, meaning=meaning, user=actor).exists()


def _fresh(subject):
    return type(subject)._default_manager.get(pk=subject.pk)


def _batch_done(status: str, kind: str, meaning: str | None = None):
    def done(batch, actor) -> bool:
        signed = meaning is None or _signed(batch, meaning, actor)
        return _fresh(batch).status == status and _event(batch, kind, actor) and signed

    return done


def _result_done(status: str, meaning: str):
    def done(result, actor) -> bool:
        return _fresh(result).status == status and _signed(result, meaning, actor)

    return done


def _sop_done(status: str, meaning: str):
    def done(version, actor) -> bool:
        return _fresh(version).status == status and _signed(version, meaning, actor)

    return done


def _amended(batch, actor) -> bool:
    fresh = _fresh(batch)
    return fresh.final_volume_ml == 17 and fresh.version == batch.version + 1 and fresh.status == "submitted"


def _result_corrected(result, actor) -> bool:
    correction = QCResult.objects.filter(corrects_id=result.pk, created_by=actor).first()
    return _fresh(result).status == "superseded" and correction is not None and correction.value == 99


def _batch_corrected(batch, actor) -> bool:
    correction = SecretomeBatch.objects.filter(corrects_id=batch.pk).first()
    return _fresh(batch).status == "retired" and correction is not None and correction.status == "draft"


def _justified(deviation, actor) -> bool:
    fresh = _fresh(deviation)
    return fresh.justification == REASON and fresh.justified_by_id == actor.pk


def _approved(deviation, actor) -> bool:
    fresh = _fresh(deviation)
    return fresh.status == "approved" and fresh.approved_by_id == actor.pk


def _invited(lab, actor) -> bool:
    return Invitation.objects.filter(lab=lab, invitee="new.member@example.org", role="reviewer").exists()


def _role_changed(membership, actor) -> bool:
    return _fresh(membership).role == "reviewer"


def _removed(membership, actor) -> bool:
    return not Membership.objects.filter(pk=membership.pk).exists()


def _partner_declared(partner, actor) -> bool:
    return PartnerLab.objects.filter(partner=partner, sends_to=True, note=REASON).exists()


# --- the actions: subject, service call, API call, and what happening means ---------------------------------


@dataclass(frozen=True)
class Action:
    subject: Callable  # (lab, cast) -> the record acted on
    service: Callable  # (subject, actor, lab) -> None; raises when refused
    api: Callable  # (client, subject, lab) -> response
    done: Callable  # (subject, actor) -> bool, the change really made (for memberships' invite: the lab)


def _post(path: str, body: dict | None = None):
    return lambda client, subject, lab: client.post(f"{API}/{path.format(pk=subject.pk)}", body or {}, format="json")


SIGNED = {"password": PASSWORD}
SIGNED_REASON = {"password": PASSWORD, "reason": REASON}

ACTIONS = {
    "submit a batch": Action(
        _draft_batch,
        lambda batch, actor, lab: batch_submit(batch=batch, actor=actor),
        _post("batches/{pk}/submit/"),
        _batch_done("submitted", "submitted"),
    ),
    "amend a submitted batch": Action(
        _submitted_batch,
        lambda batch, actor, lab: batch_update(
            batch=batch, actor=actor, data={"final_volume_ml": 17}, version=batch.version, reason=REASON
        ),
        lambda client, batch, lab: client.patch(
            f"{API}/batches/{batch.pk}/",
            {"final_volume_ml": 17, "version": batch.version, "reason": REASON},
            format="json",
        ),
        _amended,
    ),
    "return a submitted batch": Action(
        _submitted_batch,
        lambda batch, actor, lab: batch_return_for_changes(batch=batch, actor=actor, reason=REASON),
        _post("batches/{pk}/return-for-changes/", {"reason": REASON}),
        _batch_done("draft", "returned"),
    ),
    "verify a QC result": Action(
        _recorded_result,
        lambda result, actor, lab: qc_result_verify(result=result, actor=actor, password=PASSWORD),
        _post("qc-results/{pk}/verify/", SIGNED),
        _result_done("verified", "verified"),
    ),
    "reject a QC result": Action(
        _recorded_result,
        lambda result, actor, lab: qc_result_reject(result=result, actor=actor, reason=REASON, password=PASSWORD),
        _post("qc-results/{pk}/reject/", SIGNED_REASON),
        _result_done("rejected", "rejected"),
    ),
    "release a batch": Action(
        _releasable_batch,
        lambda batch, actor, lab: batch_release(batch=batch, actor=actor, password=PASSWORD),
        _post("batches/{pk}/release/", SIGNED),
        _batch_done("released", "released", "released"),
    ),
    "reject a batch": Action(
        _submitted_batch,
        lambda batch, actor, lab: batch_reject(batch=batch, actor=actor, reason=REASON, password=PASSWORD),
        _post("batches/{pk}/reject/", SIGNED_REASON),
        _batch_done("rejected", "rejected", "rejected"),
    ),
    "correct a verified QC result": Action(
        _verified_result,
        lambda result, actor, lab: qc_result_correct(result=result, actor=actor, data={"value": 99}, reason=REASON),
        _post("qc-results/{pk}/correct/", {"reason": REASON, "value": 99}),
        _result_corrected,
    ),
    "correct a released batch": Action(
        _released_batch,
        lambda batch, actor, lab: batch_correct(batch=batch, actor=actor, reason=REASON),
        _post("batches/{pk}/correct/", {"reason": REASON}),
        _batch_corrected,
    ),
    "justify a deviation": Action(
        _open_deviation,
        lambda deviation, actor, lab: deviation_justify(deviation=deviation, actor=actor, justification=REASON),
        _post("deviations/{pk}/justify/", {"justification": REASON}),
        _justified,
    ),
    "approve a deviation": Action(
        _justified_deviation,
        lambda deviation, actor, lab: deviation_approve(deviation=deviation, actor=actor),
        _post("deviations/{pk}/approve/"),
        _approved,
    ),
    "publish an SOP version": Action(
        _draft_sop,
        lambda version, actor, lab: protocol_version_publish(version=version, actor=actor, password=PASSWORD),
        _post("protocol-versions/{pk}/publish/", SIGNED),
        _sop_done("effective", "published"),
    ),
    "retire an SOP version": Action(
        _effective_sop,
        lambda version, actor, lab: protocol_version_retire(
            version=version, actor=actor, reason=REASON, password=PASSWORD
        ),
        _post("protocol-versions/{pk}/retire/", SIGNED_REASON),
        _sop_done("retired", "retired"),
    ),
    "retire a batch": Action(
        _submitted_batch,
        lambda batch, actor, lab: batch_retire(batch=batch, actor=actor, reason=REASON),
        _post("batches/{pk}/retire/", {"reason": REASON}),
        _batch_done("retired", "retired"),
    ),
    "invite a member": Action(
        lambda lab, cast: lab,
        lambda lab, actor, _: invitation_create(
            lab=lab, invitee="new.member@example.org", role="reviewer", actor=actor
        ),
        lambda client, lab, _: client.post(
            f"{API}/invitations/",
            {"lab": lab.pk, "invitee": "new.member@example.org", "role": "reviewer"},
            format="json",
        ),
        _invited,
    ),
    "change a member's role": Action(
        _member,
        lambda membership, actor, lab: membership_change_role(membership=membership, role="reviewer", actor=actor),
        lambda client, membership, lab: client.patch(
            f"{API}/memberships/{membership.pk}/", {"role": "reviewer"}, format="json"
        ),
        _role_changed,
    ),
    "remove a member": Action(
        _member,
        lambda membership, actor, lab: membership_remove(membership=membership, actor=actor),
        lambda client, membership, lab: client.delete(f"{API}/memberships/{membership.pk}/"),
        _removed,
    ),
    "declare a partner lab": Action(
        _partner,
        lambda partner, actor, lab: partner_lab_declare(lab=lab, actor=actor, partner=partner, note=REASON),
        lambda client, partner, lab: client.post(
            f"{API}/partner-labs/",
            {"lab": lab.pk, "partner": partner.pk, "sends_to": True, "note": REASON},
            format="json",
        ),
        _partner_declared,
    ),
}

# Every table a lifecycle action writes: a refused try leaves each of them exactly as it was.
WATCHED = (SecretomeBatch, BatchEvent, QCResult, Signature, Deviation, ProtocolVersion, Membership, Invitation,
           PartnerLab)  # fmt: skip


def _state() -> dict:
    return {model._meta.label: sorted(model._default_manager.values_list(*_watched_fields(model))) for model in WATCHED}


def _watched_fields(model) -> list[str]:
    names = {field.attname for field in model._meta.concrete_fields}
    return sorted(names & {"id", "version", "status", "role", "justification", "final_volume_ml", "note"}) or ["id"]


def _client(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client


def test_the_table_covers_every_action_and_names_only_real_roles():
    assert set(TABLE) == set(ACTIONS)
    assert all(allowed <= set(ROLES) - {"outsider"} for allowed in TABLE.values())


BODY_NAMES_THE_LAB = {"invite a member", "declare a partner lab"}
CASES = [(action, role) for action in TABLE for role in ROLES]


def _run(door: str, action_name: str, role: str, lab, cast):
    action = ACTIONS[action_name]
    actor = cast[role]
    subject = action.subject(lab, cast)
    before = _state()
    allowed = role in TABLE[action_name]
    if door == "service":
        if allowed:
            action.service(subject, actor, lab)
        else:
            with pytest.raises(PermissionDenied):
                action.service(subject, actor, lab)
    else:
        response = action.api(_client(actor), subject, lab)
        if allowed:
            assert 200 <= response.status_code < 300, (response.status_code, getattr(response, "data", None))
        else:
            detail = (response.status_code, getattr(response, "data", None))
            if action_name in BODY_NAMES_THE_LAB:
                # The outsider names a lab that is not theirs: the field answers that there is no such lab.
                names_the_lab = role == "outsider" and response.status_code == 400 and "lab" in response.data
                assert response.status_code == 403 or names_the_lab, detail
            else:
                # Another lab's record is not there for the outsider; a member is refused for their role.
                assert response.status_code == (404 if role == "outsider" else 403), detail
    if allowed:
        assert action.done(subject, actor), f"{door}: {action_name} as {role} answered yes but changed nothing"
    else:
        assert _state() == before, f"{door}: {action_name} as {role} was refused but changed something"


@pytest.mark.parametrize(("action_name", "role"), CASES)
def test_the_service_follows_the_table(action_name, role, lab, cast):
    _run("service", action_name, role, lab, cast)


@pytest.mark.parametrize(("action_name", "role"), CASES)
def test_the_api_follows_the_table(action_name, role, lab, cast):
    _run("api", action_name, role, lab, cast)


# --- never your own work: the reviewer who did the work does not sign it off ---------------------------------


def _own_result(lab, cast):
    batch = _draft_batch(lab, cast)
    reviewer = cast["reviewer"]
    return f.QCResultFactory(lab=lab, batch=batch, performed_by=reviewer, created_by=reviewer)


def _own_batch(lab, cast):
    batch = _releasable_batch(lab, cast)
    SecretomeBatch.objects.filter(pk=batch.pk).update(operator=cast["reviewer"], created_by=cast["reviewer"])
    return _fresh(batch)


def _own_submitted_batch(lab, cast):
    batch = _submitted_batch(lab, cast)
    SecretomeBatch.objects.filter(pk=batch.pk).update(operator=cast["reviewer"], created_by=cast["reviewer"])
    return _fresh(batch)


def _own_justification(lab, cast):
    return deviation_justify(deviation=_open_deviation(lab, cast), actor=cast["reviewer"], justification=REASON)


OWN_WORK = {
    "verify a QC result": _own_result,
    "reject a QC result": _own_result,
    "release a batch": _own_batch,
    "reject a batch": _own_submitted_batch,
    "approve a deviation": _own_justification,
}


@pytest.mark.parametrize("door", ["service", "api"])
@pytest.mark.parametrize("action_name", sorted(OWN_WORK))
def test_nobody_signs_off_their_own_work(action_name, door, lab, cast):
    action = ACTIONS[action_name]
    reviewer = cast["reviewer"]
    subject = OWN_WORK[action_name](lab, cast)
    before = _state()
    if door == "service":
        with pytest.raises(PermissionDenied):
            action.service(subject, reviewer, lab)
    else:
        response = action.api(_client(reviewer), subject, lab)
        assert response.status_code == 403, (response.status_code, getattr(response, "data", None))
    assert _state() == before


@pytest.mark.parametrize("role", ROLES[:-1])
def test_the_batch_page_offers_justifying_only_to_whom_the_table_allows(role, client, lab, cast):
    deviation = _open_deviation(lab, cast)
    client.force_login(cast[role])
    page = client.get(reverse("batches:batch-detail", args=[deviation.batch_id])).content.decode()
    justify_form = reverse("batches:deviation-action", args=[deviation.pk, "justify"])
    assert (justify_form in page) == (role in TABLE["justify a deviation"])


# --- the web door: the pages' own forms post the same actions ----------------------------------------------


def _form(path: str, body: dict | None = None):
    return lambda client, subject: client.post(path.format(pk=subject.pk), body or {})


WEB = {
    "submit a batch": _form("/batches/{pk}/submit/", {"confirm": "on"}),
    "return a submitted batch": _form("/batches/{pk}/return/", {"reason": REASON}),
    "release a batch": _form("/batches/{pk}/release/", {"password": PASSWORD, "meaning": "released"}),
    "reject a batch": _form("/batches/{pk}/reject/", SIGNED_REASON),
    "verify a QC result": _form("/review/qc/{pk}/verify/", {"password": PASSWORD, "meaning": "verified"}),
    "reject a QC result": _form("/review/qc/{pk}/reject/", SIGNED_REASON),
    "justify a deviation": _form("/deviations/{pk}/justify/", {"justification": REASON}),
    "approve a deviation": _form("/deviations/{pk}/approve/"),
    "publish an SOP version": _form("/protocols/versions/{pk}/publish/", SIGNED),
}
WEB_CASES = [(action, role) for action in WEB for role in ROLES]


@pytest.mark.parametrize(("action_name", "role"), WEB_CASES)
def test_the_web_pages_follow_the_table(action_name, role, lab, cast, client):
    """Allowed: the page acts (and sends the user on); refused: the page says why or answers 403/404, and
    nothing changed. The outsider, from another lab, finds nothing there (404)."""
    actor = cast[role]
    subject = ACTIONS[action_name].subject(lab, cast)
    before = _state()
    client.force_login(actor)
    response = WEB[action_name](client, subject)
    if role == "outsider":
        assert response.status_code == 404, response.status_code
    else:
        assert response.status_code in (200, 302, 403), response.status_code
    if role in TABLE[action_name]:
        assert ACTIONS[action_name].done(subject, actor), f"web: {action_name} as {role} changed nothing"
    else:
        assert _state() == before, f"web: {action_name} as {role} was refused but changed something"


def test_the_web_door_covers_the_actions_its_pages_offer():
    # Amendments, corrections, retirement, SOP retirement and memberships have their own pages or the API;
    # these are the lifecycle buttons of the batch page, the review queue and the SOP page.
    assert set(WEB) <= set(ACTIONS)
    assert len(WEB) == 9
