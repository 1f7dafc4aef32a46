"""The server-rendered app: every page opens for a member, nothing of another lab shows, roles hold as in the API."""

import pytest
from django.core.management import call_command
from django.urls import reverse

from batches import models as m
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", verbosity=0)
    return m.SecretomeBatch.objects.get(code="SB-25-002")


def _login(client, username):
    from django.contrib.auth import get_user_model

    client.force_login(get_user_model().objects.get(username=username))
    return client


def page_urls(batch):
    box = m.StorageLocation.objects.get(kind="box", lab=batch.lab)
    cell_line = batch.passage.cell_line
    return [
        "/",
        "/batches/",
        f"/batches/{batch.pk}/",
        f"/batches/{batch.pk}/checklist/",
        "/batches/new/",
        *(f"/batches/{batch.pk}/log/{step}/" for step in ("start", "production", "processing", "aliquots", "qc")),
        "/review/",
        "/qc/trends/?assay=endotoxin",
        "/qc/trends/data/?assay=particle_concentration&colour_by=donor",
        "/storage/",
        f"/storage/box/{box.pk}/",
        f"/labels/?box={box.pk}",
        "/protocols/",
        *(f"/records/{kind}/" for kind in ("donors", "cell-lines", "passages", "primings")),
        f"/records/cell-lines/{cell_line.pk}/",
        f"/records/passages/{batch.passage_id}/",
        f"/records/primings/{batch.priming_id}/",
        f"/records/donors/{cell_line.donor_id}/",
    ]


@pytest.mark.parametrize("username", ["tech", "pi", "auditor"])
def test_every_page_opens_for_every_role(client, demo, username):
    _login(client, username)
    for url in page_urls(demo):
        # A read-only role is sent back to the list with a message, never to a bare 403 page.
        expected = 302 if username == "auditor" and url == "/batches/new/" else 200
        assert client.get(url).status_code == expected, url


def test_anonymous_visitors_are_sent_to_sign_in(client, demo):
    response = client.get(f"/batches/{demo.pk}/")
    assert response.status_code == 302 and response["Location"].startswith(reverse("login"))


def test_another_labs_records_answer_404_and_never_show(client, demo):
    outsider = f.UserFactory(username="otto")
    f.MembershipFactory(user=outsider, lab=f.LabFactory(slug="elsewhere"), role="reviewer")
    client.force_login(outsider)
    for url in page_urls(demo)[2:]:
        if url.startswith(
            ("/batches/new", "/review", "/qc/trends", "/storage/", "/protocols", "/labels")
        ) or url.endswith(("/donors/", "/cell-lines/", "/passages/", "/primings/")):
            continue
        assert client.get(url).status_code == 404, url
    listing = client.get("/batches/").content.decode()
    assert "SB-25-002" not in listing
    labels = client.get(f"/labels/?batch={demo.pk}").content.decode()
    assert demo.code not in labels
    assert client.post(f"/review/qc/{demo.qc_results.first().pk}/verify/", {"password": "x"}).status_code == 404


def test_an_auditor_reads_but_cannot_write(client, demo):
    _login(client, "auditor")
    before = m.Donor.objects.count()
    response = client.post("/records/donors/new/", {"code": "D-AUD", "species": "human", "tissue_source": "adipose"})
    assert response.status_code == 403
    assert m.Donor.objects.count() == before
    response = client.post(f"/batches/{demo.pk}/log/production/", {"_version": demo.version})
    assert response.status_code == 403


def test_a_technician_records_a_donor_through_the_form(client, demo):
    _login(client, "tech")
    response = client.post(
        "/records/donors/new/",
        {
            "code": "HD-SY-09",
            "species": "human",
            "tissue_source": "synovial_membrane",
            "sex": "male",
            "age_years": "52",
            "health_status": "healthy",
            "n_donors": "1",
            "consent_obtained": "true",
        },
    )
    donor = m.Donor.objects.get(code="HD-SY-09")
    assert response.status_code == 302 and response["Location"].endswith(f"/records/donors/{donor.pk}/")
    assert donor.created_by.username == "tech" and donor.lab.slug == "demo-lab"


def test_a_bad_value_comes_back_on_its_field_and_nothing_is_written(client, demo):
    _login(client, "tech")
    draft = m.SecretomeBatch.objects.get(code="SB-25-004")
    response = client.post(
        f"/batches/{draft.pk}/log/production/",
        {
            "_version": draft.version,
            "harvest_viability_percent": "140",
            "conditioning_volume_ml": "30",
            "conditioning_time_h": "24",
        },
    )
    assert response.status_code == 200
    assert "harvest_viability_percent" in response.context["form"].errors
    draft.refresh_from_db()
    assert draft.harvest_viability_percent is None


def test_inline_validation_answers_errors_per_field_without_saving(client, demo):
    _login(client, "tech")
    draft = m.SecretomeBatch.objects.get(code="SB-25-004")
    response = client.post(
        f"/batches/{draft.pk}/log/production/",
        {"_validate": "1", "_version": draft.version, "harvest_viability_percent": "140", "conditioning_time_h": "24"},
    )
    errors = response.json()["errors"]
    assert "harvest_viability_percent" in errors
    assert "conditioning_volume_ml" not in errors  # untouched fields are not nagged
    draft.refresh_from_db()
    assert draft.harvest_viability_percent is None


def test_a_stale_form_is_refused_and_says_so(client, demo):
    _login(client, "tech")
    draft = m.SecretomeBatch.objects.get(code="SB-25-004")
    stale = draft.version
    m.SecretomeBatch.objects.filter(pk=draft.pk).update(conditioning_time_h=30)
    response = client.post(
        f"/batches/{draft.pk}/log/production/",
        {"_version": stale, "conditioning_volume_ml": "31", "conditioning_time_h": "24", "serum_free": "true"},
    )
    assert response.status_code == 200
    assert response.context["form"].non_field_errors()
    draft.refresh_from_db()
    assert draft.conditioning_time_h == 30


def test_each_missing_checklist_item_links_to_the_form_that_fills_it(client, demo):
    _login(client, "tech")
    draft = m.SecretomeBatch.objects.get(code="SB-25-004")
    body = client.get(f"/batches/{draft.pk}/").content.decode()
    assert f"/batches/{draft.pk}/log/production/#field-conditioning_o2_percent" in body
    assert f"/batches/{draft.pk}/log/aliquots/" in body


def test_the_batch_page_shows_lineage_qc_against_specification_and_history(client, demo):
    _login(client, "pi")
    lyo = m.SecretomeBatch.objects.get(code="SB-25-003")
    body = client.get(f"/batches/{lyo.pk}/").content.decode()
    for text in (
        "HD-UC-03",
        "MSC-UC03",
        "Deferoxamine 150 µM, 24 h",
        "Lyophilisation",
        "outcome-fail",
        "≤ 0.5 EU/mL",
        "History",
        "/api/v1/batches/",
    ):
        assert text in body, text


def test_the_trend_data_marks_the_out_of_spec_point_and_carries_the_limits(client, demo):
    _login(client, "pi")
    data = client.get("/qc/trends/data/?assay=endotoxin").json()
    outcomes = {point["batch"]: point["outcome"] for point in data["points"]}
    assert outcomes["SB-25-003"] == "fail" and outcomes["SB-25-001"] == "pass"
    assert data["limits"]["max_value"] == 0.5


def test_query_strings_that_make_no_sense_do_not_break_pages(client, demo):
    _login(client, "pi")
    for url in (
        "/labels/?box=abc&aliquot=1;drop",
        "/qc/trends/?assay=nonsense&product_type=ZZ",
        "/qc/trends/data/?assay=%00&colour_by=nope",
        "/batches/?status=<script>",
        "/records/nope/",
    ):
        assert client.get(url).status_code in (200, 400, 404), url


def test_a_nul_byte_in_a_query_or_form_answers_400_naming_the_field(client, demo):
    _login(client, "tech")
    response = client.get("/records/donors/?q=a%00b")
    assert response.status_code == 400 and b"'q'" in response.content
    response = client.post("/records/donors/new/", {"code": "D\x00X", "species": "human"})
    assert response.status_code == 400 and b"'code'" in response.content
    assert not m.Donor.objects.filter(code__startswith="D").exclude(code__startswith="HD-").exists()


def test_the_api_docs_load_their_scripts_from_this_server_not_a_cdn(client, demo):
    _login(client, "tech")
    body = client.get("/api/docs/").content.decode()
    assert "/static/drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js" in body
    assert "cdn." not in body and "jsdelivr" not in body


def test_a_pi_rechecks_every_batch_and_watches_the_progress_bar_fill(client, demo, django_capture_on_commit_callbacks):
    from lims.models import Job

    _login(client, "pi")
    m.ChecklistReport.objects.filter(batch__lab=demo.lab).delete()
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post("/jobs/recheck/")
    job = Job.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/jobs/{job.pk}/"
    assert (job.total, job.done, job.status) == (
        m.SecretomeBatch.objects.filter(lab=demo.lab).count(),
        job.total,
        "done",
    )
    assert m.ChecklistReport.objects.filter(batch__lab=demo.lab).count() == job.total
    progress = client.get(f"/jobs/{job.pk}/progress/").content.decode()
    assert "100 %" in progress and "hx-trigger" not in progress  # finished: polling stops


def test_a_running_job_keeps_polling_and_technicians_cannot_start_one(client, demo):
    from lims.models import Job

    running = Job.objects.create(
        lab=demo.lab, kind="checklist_recheck", total=10, done=4, status="running", started_by=demo.operator
    )
    _login(client, "pi")
    progress = client.get(f"/jobs/{running.pk}/progress/").content.decode()
    assert "40 %" in progress and 'hx-trigger="every 1s"' in progress
    _login(client, "tech")
    client.post("/jobs/recheck/")
    assert Job.objects.count() == 1
    outsider = f.UserFactory(username="olga")
    f.MembershipFactory(user=outsider, lab=f.LabFactory(slug="far-away"), role="reviewer")
    client.force_login(outsider)
    assert client.get(f"/jobs/{running.pk}/").status_code == 404


def test_rejecting_a_qc_result_or_a_batch_in_the_app_is_a_signature(client, demo):
    from lims.signatures import Signature

    _login(client, "pi")
    result = demo.qc_results.filter(status="recorded").first()
    client.post(f"/review/qc/{result.pk}/reject/", {"reason": "Wrong dilution", "password": "wrong"})
    result.refresh_from_db()
    assert result.status == "recorded"
    client.post(f"/review/qc/{result.pk}/reject/", {"reason": "Wrong dilution", "password": "demo-password"})
    result.refresh_from_db()
    assert result.status == "rejected"
    client.post(f"/batches/{demo.pk}/reject/", {"reason": "EV markers unclear", "password": "demo-password"})
    demo.refresh_from_db()
    assert demo.status == "rejected"
    meanings = set(Signature.objects.filter(meaning="rejected").values_list("comment", flat=True))
    assert meanings == {"Wrong dilution", "EV markers unclear"}


def test_the_study_page_shows_its_administrations_checklist_and_exports_the_methods(client, demo):
    _login(client, "pi")
    study = m.Study.objects.get(lab__slug="demo-lab")
    assert study.title in client.get("/studies/").content.decode()
    body = client.get(f"/studies/{study.pk}/").content.decode()
    for text in ("SB-25-001", "Intra-articular", "von Frey", 'id="checklist-score"', 'data-export="docx"'):
        assert text in body, text
    exported = client.post(
        "/api/v1/exports/methods", {"study": study.pk, "format": "md"}, content_type="application/json"
    )
    assert exported.status_code == 200
    assert "Reporting completeness" in exported.content.decode()
