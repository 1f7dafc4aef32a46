"""The web app's daily loop, through the Django test client: start a batch, check before submitting, return
for changes and amend with a reason, open and correct every row, deviations, studies, and read-only roles."""

import datetime as dt
import re

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from pghistory.models import Events

from batches import models as m
from batches.services.lifecycle import batch_submit
from batches.services.qc import qc_result_record, qc_result_verify
from batches.services.records import processing_step_create
from lims.models import Membership, Role
from protocols.models import Deviation, ProtocolVersion
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", verbosity=0)
    return m.SecretomeBatch.objects.get(code="SB-25-004")  # the demo's draft batch


def _user(username):
    return get_user_model().objects.get(username=username)


def _as(client, username):
    client.force_login(_user(username))
    return client


def _text(response) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


def _reasons(record) -> list:
    return [(e.pgh_context or {}).get("reason") for e in Events.objects.tracks(record).order_by("pgh_id")]


# --- 1. Start a batch from the list and the dashboard, picking the lab ------------------------------------


def test_the_list_and_the_dashboard_offer_a_new_batch_to_those_who_record(client, demo):
    start = 'href="/batches/new/"'
    for username, offered in (("tech", True), ("pi", True), ("auditor", False)):
        _as(client, username)
        for url in ("/batches/", "/"):
            assert (start in client.get(url).content.decode()) is offered, (username, url)


def test_someone_in_two_labs_picks_the_lab_of_a_new_batch(client, demo):
    tech = _user("tech")
    other = f.LabFactory(name="Other Lab", slug="other-lab")
    Membership.objects.create(user=tech, lab=other, role=Role.TECHNICIAN)
    passage = f.PassageFactory(lab=other)
    _as(client, "tech")
    page = client.get("/batches/new/").content.decode()
    assert 'name="lab"' in page and "Other Lab" in page and "Demo Lab" in page
    response = client.post(
        "/batches/new/",
        {"lab": other.pk, "code": "OL-001", "passage": passage.pk, "product_type": "CM", "intended_use": "in_vitro"},
    )
    assert response.status_code == 302, _text(response)[:2000]
    assert m.SecretomeBatch.objects.get(code="OL-001").lab == other


def test_one_lab_means_no_lab_picker(client, demo):
    _as(client, "tech")
    assert 'name="lab"' not in client.get("/batches/new/").content.decode()


def _off_sop_spin(batch, **more):
    """A second spin logged by the technician under SOP-PRC-003, outside its parameters: it opens a deviation."""
    processing_step_create(
        lab=batch.lab,
        actor=_user("tech"),
        data={
            "batch": batch,
            "order": 2,
            "kind": "ultracentrifugation",
            "g_force": 100_000,
            "duration_min": 70,
            "protocol_version": ProtocolVersion.objects.get(protocol__code="SOP-PRC-003", status="effective"),
            **more,
        },
    )


# --- 2. The pre-submit check ------------------------------------------------------------------------------


def test_the_pre_submit_check_lists_what_is_missing_and_what_is_open_then_submits_on_confirmation(client, demo):
    batch = demo
    _off_sop_spin(batch, temperature_c=4)
    _as(client, "tech")
    detail = client.get(f"/batches/{batch.pk}/").content.decode()
    assert f'href="/batches/{batch.pk}/submit/"' in detail
    page = client.get(f"/batches/{batch.pk}/submit/")
    text = _text(page)
    assert "Missing for release" in text and "Open SOP deviations (1)" in text
    assert "duration_min is 70" in text or "70 min" in text
    missing = re.search(r"Missing for release \((\d+)\)", text)
    assert missing and int(missing.group(1)) > 0
    unconfirmed = client.post(f"/batches/{batch.pk}/submit/", {})
    assert unconfirmed.status_code == 302
    batch.refresh_from_db()
    assert batch.status == "draft"
    confirmed = client.post(f"/batches/{batch.pk}/submit/", {"confirm": "1"}, follow=True)
    batch.refresh_from_db()
    assert batch.status == "submitted"
    assert "submitted for review" in _text(confirmed)
    # Submitted: the check page no longer offers to submit.
    assert 'name="confirm"' not in client.get(f"/batches/{batch.pk}/submit/").content.decode()


# --- 3. Return for changes (PI) and amend with a reason (technician) ---------------------------------------


def test_the_pi_returns_a_batch_and_the_technician_sees_why(client, demo):
    batch = batch_submit(batch=demo, actor=_user("tech"))
    _as(client, "tech")
    assert "Return for changes" not in client.get(f"/batches/{batch.pk}/").content.decode()
    _as(client, "pi")
    assert "Return for changes" in client.get(f"/batches/{batch.pk}/").content.decode()
    empty = client.post(f"/batches/{batch.pk}/return/", {"reason": " "}, follow=True)
    assert "Say what the technician should change" in _text(empty)
    client.post(f"/batches/{batch.pk}/return/", {"reason": "Give the harvest viability."})
    batch.refresh_from_db()
    assert batch.status == "draft"
    _as(client, "tech")
    page = _text(client.get(f"/batches/{batch.pk}/"))
    assert "Returned for changes" in page and "Give the harvest viability." in page


def test_a_submitted_batch_is_amended_only_with_a_reason(client, demo):
    batch = batch_submit(batch=demo, actor=_user("tech"))
    _as(client, "tech")
    url = f"/batches/{batch.pk}/log/production/"
    form = client.get(url).content.decode()
    assert 'name="reason"' in form and "submitted for review" in form
    data = {"_version": batch.version, "conditioning_medium": "dmem_f12", "serum_free": "true"}
    data |= {"conditioning_volume_ml": 30, "conditioning_time_h": 24, "harvest_viability_percent": 91}
    refused = client.post(url, data)
    assert refused.status_code == 200 and "This field is required" in _text(refused)
    batch.refresh_from_db()
    assert batch.harvest_viability_percent is None
    saved = client.post(url, {**data, "reason": "Viability read from the counter's printout."})
    assert saved.status_code == 302
    batch.refresh_from_db()
    assert batch.harvest_viability_percent == 91 and batch.status == "submitted"
    assert "Viability read from the counter's printout." in _reasons(batch)


# --- 4. Every row opens in full, editable in a draft, correctable with a reason afterwards -----------------


def test_every_row_of_a_draft_opens_in_full_and_changes(client, demo):
    batch = demo
    step = batch.processing_steps.get()
    _as(client, "tech")
    listing = client.get(f"/batches/{batch.pk}/log/processing/").content.decode()
    row_url = f"/batches/rows/processing/{step.pk}/"
    assert f'href="{row_url}"' in listing
    page = client.get(row_url).content.decode()
    assert 'name="rotor"' in page and 'name="k_factor"' in page and 'name="reason"' not in page
    data = {"_version": step.version, "order": 1, "kind": step.kind, "g_force": 300, "duration_min": 10}
    response = client.post(row_url, {**data, "temperature_c": 4, "rotor": "JS-4.2", "k_factor": 12000})
    assert response.status_code == 302, _text(response)[:1500]
    step.refresh_from_db()
    assert (step.rotor, step.k_factor) == ("JS-4.2", 12000)


def test_aliquots_and_qc_results_added_from_the_step_page_stay_on_it(client, demo):
    """The step page adds rows in place (htmx): the answer is the refreshed list and a fresh form."""
    batch = demo
    box = m.StorageLocation.objects.get(lab=batch.lab, kind="box")
    _as(client, "tech")
    url = f"/batches/{batch.pk}/log/aliquots/"
    data = {"code": "SB-25-004-A01", "volume_ul": 500, "container": "cryovial", "buffer": "as_collected"}
    data |= {"state": "frozen", "temperature_c": -80, "location": box.pk, "position": "H8", "freeze_thaw_count": 0}
    response = client.post(url, data, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and response["HX-Trigger"] == "checklist-changed"
    body = response.content.decode()
    assert 'id="step-work"' in body and "SB-25-004-A01" in body and "<html" not in body
    assert 'value="SB-25-004-A02"' in body  # the next code, and the rest carried over from the last tube
    assert re.search(r'name="volume_ul" value="500(\.0)?"', body)


def test_a_verified_qc_result_is_corrected_by_a_new_version_with_a_reason(client, demo):
    batch = demo
    result = qc_result_record(
        lab=batch.lab,
        actor=_user("tech"),
        data={
            "batch": batch,
            "assay": "endotoxin",
            "method": "lal_kinetic",
            "value": 0.1,
            "unit": "EU/mL",
            "performed_on": dt.date(2025, 3, 1),
            "sample": "product",
        },
    )
    qc_result_verify(result=result, actor=_user("pi"), password="demo-password")
    _as(client, "tech")
    url = f"/batches/rows/qc/{result.pk}/"
    page = client.get(url).content.decode()
    assert "Reason for the correction" in page and "Save as a correction" in page
    data = {"_version": result.version, "assay": "endotoxin", "sample": "product", "method": "lal_kinetic"}
    data |= {"value": 0.12, "unit": "EU/mL", "performed_on": "2025-03-01"}
    assert client.post(url, data).status_code == 200  # no reason: the form says so
    assert client.post(url, {**data, "reason": "Dilution factor applied."}).status_code == 302
    result.refresh_from_db()
    correction = m.QCResult.objects.get(corrects=result)
    assert (result.status, correction.value, correction.correction_reason) == (
        "superseded",
        0.12,
        "Dilution factor applied.",
    )


def test_priming_agents_and_phenotype_rows_open_in_full(client, demo):
    priming = demo.priming or m.PrimingCondition.objects.filter(lab=demo.lab, agents__isnull=False).first()
    priming = m.PrimingCondition.objects.filter(lab=demo.lab, agents__isnull=False).first()
    agent = priming.agents.first()
    _as(client, "tech")
    page = client.get(f"/records/primings/{priming.pk}/").content.decode()
    row_url = f"/records/primings/{priming.pk}/primingagent/{agent.pk}/"
    assert f'href="{row_url}"' in page
    form = client.get(row_url).content.decode()
    assert 'name="concentration"' in form and 'name="supplier"' in form
    data = {"_version": agent.version, "agent": agent.agent, "concentration": agent.concentration}
    data |= {"concentration_unit": agent.concentration_unit, "supplier": "PeproTech"}
    if agent.exposure is not None:
        data |= {"exposure": agent.exposure, "exposure_unit": agent.exposure_unit}
    response = client.post(row_url, data)
    assert response.status_code == 302, _text(response)[:1500]
    agent.refresh_from_db()
    assert agent.supplier == "PeproTech"


# --- 5. Deviations on the batch page: justify (technician), approve (another reviewer) ---------------------


def test_a_deviation_shows_on_the_batch_page_as_it_opens_and_is_justified_then_approved(client, demo):
    batch = demo
    _as(client, "tech")
    response = client.post(
        f"/batches/{batch.pk}/log/processing/",
        {
            "order": 2,
            "kind": "ultracentrifugation",
            "g_force": 100000,
            "duration_min": 70,
            "temperature_c": 4,
            "protocol_version": ProtocolVersion.objects.get(protocol__code="SOP-PRC-003", status="effective").pk,
        },
    )
    assert response.status_code == 302
    deviation = Deviation.objects.get(batch=batch, status="open")
    page = _text(client.get(f"/batches/{batch.pk}/"))
    assert "SOP deviations" in page and "SOP-PRC-003" in page and "Approve the deviation" not in page
    client.post(f"/deviations/{deviation.pk}/justify/", {"justification": "Rotor limit."})
    deviation.refresh_from_db()
    assert (deviation.justification, deviation.justified_by.username) == ("Rotor limit.", "tech")
    refused = client.post(f"/deviations/{deviation.pk}/approve/", follow=True)
    assert "needs one of these roles" in _text(refused)
    _as(client, "pi")
    assert "Approve the deviation" in client.get(f"/batches/{batch.pk}/").content.decode()
    client.post(f"/deviations/{deviation.pk}/approve/")
    deviation.refresh_from_db()
    assert deviation.status == "approved" and deviation.approved_by.username == "pi"


def test_a_reviewer_who_justified_is_not_offered_the_approval(client, demo):
    batch = demo
    _off_sop_spin(batch)
    deviation = Deviation.objects.get(batch=batch, status="open")
    _as(client, "pi")
    client.post(f"/deviations/{deviation.pk}/justify/", {"justification": "Rotor limit."})
    page = client.get(f"/batches/{batch.pk}/").content.decode()
    assert "Approve the deviation" not in page and "another reviewer approves it" in page
    client.post(f"/deviations/{deviation.pk}/approve/")
    deviation.refresh_from_db()
    assert deviation.status == "open"


# --- 6. Studies: an author creates a study, its groups, administrations and outcome measures ---------------


def test_an_author_builds_a_study_with_groups_an_irregular_schedule_and_an_outcome(client, demo):
    _as(client, "tech")
    assert 'href="/studies/new/"' in client.get("/studies/").content.decode()
    response = client.post(
        "/studies/new/", {"title": "EV in CCI neuropathic pain", "species": "mouse", "pain_model": "cci"}
    )
    assert response.status_code == 302, _text(response)[:1500]
    study = m.Study.objects.get(title="EV in CCI neuropathic pain")
    for name, role in (("EV", "treatment"), ("Vehicle", "vehicle")):
        study.refresh_from_db()
        client.post(f"/studies/{study.pk}/add/group/", {"_version": study.version, "name": name, "role": role})
    study.refresh_from_db()
    assert study.groups == [{"name": "EV", "role": "treatment"}, {"name": "Vehicle", "role": "vehicle"}]
    ev = m.SecretomeBatch.objects.get(code="SB-25-002")
    bad = client.post(
        f"/studies/{study.pk}/add/administration/", {"batch": ev.pk, "group": "EV", "schedule_days": "-1, seven"}
    )
    assert bad.status_code == 200 and "is not a whole number of days" in _text(bad)
    good = client.post(
        f"/studies/{study.pk}/add/administration/",
        {"batch": ev.pk, "group": "EV", "schedule_days": "−1, 7, 11", "dose_value": 1e9, "dose_unit": "particles"},
    )
    assert good.status_code == 302, _text(good)[:1500]
    administration = study.administrations.get()
    assert (administration.schedule_days, administration.n_doses, administration.day_after_induction) == (
        [-1, 7, 11],
        3,
        -1,
    )
    client.post(
        f"/studies/{study.pk}/add/outcome/",
        {"test": "von_frey", "unit": "g", "time_points": "0, 7, 14", "is_primary": "on"},
    )
    outcome = study.outcome_measures.get()
    assert (outcome.time_points, outcome.is_primary) == ([0, 7, 14], True)
    html = client.get(f"/studies/{study.pk}/").content.decode()
    page = _text(client.get(f"/studies/{study.pk}/"))
    assert "3 doses on days -1, 7, 11" in page and "von Frey" in page
    assert f'href="/studies/{study.pk}/design/#field-randomisation"' in html  # the checklist leads to the gap


# --- 7. Pages hide what a role may not do ------------------------------------------------------------------

ALLOWED_FOR_READERS = ("/accounts/logout/", "/exports/")


def _write_forms(html: str) -> list[str]:
    forms = re.findall(r"<form\b[^>]*>", html)
    posting = [form for form in forms if re.search(r'method="post"', form, re.I)]
    return [form for form in posting if not any(allowed in form for allowed in ALLOWED_FOR_READERS)]


def test_the_auditor_sees_no_form_that_would_write(client, demo):
    batch = m.SecretomeBatch.objects.get(code="SB-25-002")
    study = m.Study.objects.get(lab=batch.lab)
    cell_line = batch.passage.cell_line
    urls = [
        "/",
        "/batches/",
        f"/batches/{batch.pk}/",
        f"/batches/{batch.pk}/submit/",
        *(f"/batches/{batch.pk}/log/{s}/" for s in ("start", "production", "processing", "aliquots", "qc")),
        f"/batches/rows/processing/{batch.processing_steps.first().pk}/",
        f"/batches/rows/qc/{batch.qc_results.first().pk}/",
        f"/records/cell-lines/{cell_line.pk}/",
        f"/records/primings/{batch.priming_id}/",
        "/studies/",
        f"/studies/{study.pk}/",
        f"/studies/{study.pk}/design/",
    ]
    _as(client, "auditor")
    for url in urls:
        response = client.get(url)
        assert response.status_code == 200, url
        html = response.content.decode()
        assert _write_forms(html) == [], url
        offers = (
            r"<(?:button|a)\b[^>]*>\s*(Save|Add|Submit for review|Justify|Approve|Amend|Edit|Log a new batch|New)\b"
        )
        assert not re.search(offers, html), url
    # And the technician does see them, so the test can fail.
    _as(client, "tech")
    assert _write_forms(client.get(f"/studies/{study.pk}/").content.decode())


def test_a_study_names_the_batch_given_by_its_code_with_the_newest_codes_suggested(client, demo):
    _as(client, "tech")
    study = m.Study.objects.get(lab__slug="demo-lab")
    page = client.get(f"/studies/{study.pk}/").content.decode()
    box = re.search(r'<input type="text" name="batch"[^>]*list="(id_administration_batch-codes)"[^>]*>', page)
    assert box, "the batch is a code box, not a list of every batch of the lab"
    suggestions = page[page.index(f'<datalist id="{box.group(1)}">') :]
    suggestions = suggestions[: suggestions.index("</datalist>")]
    assert '<option value="SB-25-006">' in suggestions and "<select" not in page[box.start() - 200 : box.start()]
    group = study.groups[0]["name"]
    unknown = client.post(f"/studies/{study.pk}/add/administration/", {"batch": "SB-NOPE", "group": group})
    assert unknown.status_code == 200 and "No batch with the code “SB-NOPE” in this lab." in _text(unknown)
    before = study.administrations.count()
    given = client.post(
        f"/studies/{study.pk}/add/administration/",
        {"batch": " SB-25-006 ", "aliquot": "", "group": group, "dose_value": 3, "dose_unit": "ug_protein"},
    )
    assert given.status_code == 302, _text(given)[:1500]
    assert study.administrations.count() == before + 1
    assert study.administrations.order_by("-pk").first().batch.code == "SB-25-006"
