"""In a real browser: log a batch to a full checklist, sign QC and release, spot out-of-spec results, stay in lab."""

import re

import pytest
from playwright.sync_api import expect

from batches.models import QCResult, SecretomeBatch
from tests import factories as f

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.takes_minutes(1)]


def fill(page, values: dict) -> None:
    """Fill a form field by field; <select>s by visible label (or value when the label does not match)."""
    for name, value in values.items():
        field = page.locator(f"#id_{name}")
        tag = field.evaluate("element => element.tagName")
        if tag == "SELECT":
            labels = field.locator("option").all_inner_texts()
            if value in labels:
                field.select_option(label=value)
            else:
                field.select_option(value=value)
        elif field.get_attribute("type") == "checkbox":
            field.set_checked(bool(value))
        else:
            field.fill(str(value))


def submit(page, label: str) -> None:
    """Click a submit button and wait for the page it leads to (not the page we are on)."""
    with page.expect_navigation():
        page.get_by_role("button", name=label).click()


def add_in_place(page, expected: str) -> None:
    """A step page adds its rows in place (htmx): the list and a fresh form come back without a page load."""
    rows = page.locator("#step-rows tr")
    before = rows.count()

    def is_save(response) -> bool:
        return response.request.method == "POST" and "_validate=1" not in (response.request.post_data or "")

    with page.expect_response(is_save) as saved:
        page.get_by_role("button", name="Add", exact=True).click()
    assert saved.value.status == 200
    problems = re.findall(r"<li>([^<]+)</li>", saved.value.text())
    expect(rows, str(problems)).to_have_count(before + 1)
    expect(page.locator("#just-saved")).to_contain_text(expected)


def score(page) -> str:
    return page.locator("#checklist-score").inner_text().strip()


PRODUCTION = {
    "confluence_start_percent": 80,
    "cells_at_start": 12000000,
    "conditioning_medium": "DMEM/F-12",
    "conditioning_medium_details": "phenol-red-free, no supplements",
    "serum_free": "Yes",
    "conditioning_volume_ml": 30,
    "conditioning_time_h": 48,
    "conditioning_o2_percent": 21,
    "harvest_viability_percent": 94,
    "harvest_viable_cells": 12600000,
    "collected_at": "2025-03-01T10:00",
    "final_volume_ml": 28,
    "mock_control": "SB-25-000-MOCK",
    "data_repository_ids": "ZENODO:10.5281/zenodo.0000002",
}
PROCESSING = [
    {"kind": "Centrifugation", "g_force": 300, "duration_min": 10, "temperature_c": 4},
    {"kind": "Centrifugation", "g_force": 2000, "duration_min": 20, "temperature_c": 4},
    {"kind": "Filtration", "pore_size_um": 0.22, "temperature_c": 20},
]
ALIQUOT = {
    "volume_ul": 500,
    "container": "Cryovial",
    "buffer": "As collected (conditioning medium)",
    "state": "Frozen",
    "temperature_c": -80,
    "location": "Freezer F-80-1 → Rack A → Box A1",
    "positions": "E1",
    "freeze_thaw_count": 0,
}
QC = [
    {"assay": "Sterility", "sample": "Secretome product", "method": "bact_alert", "result_text": "Negative"},
    {"assay": "Endotoxin", "sample": "Secretome product", "method": "lal_kinetic", "value": 0.04, "unit": "EU/mL"},
    {"assay": "Mycoplasma", "sample": "Secretome product", "method": "myco_pcr", "result_text": "Negative"},
    {"assay": "Mycoplasma", "sample": "Producing cells", "method": "myco_pcr", "result_text": "Negative"},
    {"assay": "Total protein", "sample": "Secretome product", "method": "bca", "value": 148, "unit": "µg/mL"},
    {
        "assay": "Potency",
        "sample": "Secretome product",
        "analyte": "TNF-α",
        "method": "cell_assay",
        "value": 55,
        "unit": "% inhibition",
        "reference_batch": "SB-25-001",
    },
    {
        "assay": "Cytokine / growth factor",
        "sample": "Secretome product",
        "analyte": "IL-10",
        "method": "elisa",
        "value": 90,
        "unit": "pg/mL",
    },
    {
        "assay": "Particle concentration",
        "sample": "Secretome product",
        "method": "nta",
        "value": 2100000000,
        "unit": "particles/mL",
    },
]


def log_complete_batch(page, base_url: str, code: str) -> SecretomeBatch:
    page.goto(f"{base_url}/batches/new/")
    fill(
        page,
        {
            "code": code,
            "passage": "MSC-BM01 P4",
            "priming": "IFN-γ 25 ng/mL + TNF-α 10 ng/mL, 48 h",
            "product_type": "CM",
            "intended_use": "in_vivo",
        },
    )
    submit(page, "Create draft and continue")
    expect(page.locator("h1")).to_contain_text(f"{code}: Production")
    first_score = float(score(page))
    fill(page, PRODUCTION)
    submit(page, "Save and continue")
    for number, step in enumerate(PROCESSING, start=1):
        fill(page, step)
        add_in_place(page, f"Processing step {number} added")
    with page.expect_navigation():
        page.get_by_role("link", name="Continue to next step").click()
    fill(page, ALIQUOT)
    add_in_place(page, "added")
    with page.expect_navigation():
        page.get_by_role("link", name="Continue to next step").click()
    for result in QC:
        page.locator("#id_performed_on").fill("2025-03-03")
        fill(page, result)
        add_in_place(page, "recorded")
    # The checklist panel follows each added row (htmx); a reload shows the same score.
    page.reload()
    assert first_score < 100
    return SecretomeBatch.objects.get(code=code)


def test_a_technician_logs_a_complete_batch_and_watches_its_checklist_reach_100(
    demo, open_page, live_server, screenshots
):
    page = open_page("tech")
    batch = log_complete_batch(page, live_server.url, "SB-UI-001")
    still_missing = page.locator("#checklist-panel").inner_text()
    expect(page.locator("#checklist-score"), still_missing).to_have_text("100")
    page.screenshot(path=screenshots / "batch-logging-checklist-100.png", full_page=True)
    page.goto(f"{live_server.url}/batches/{batch.pk}/")
    expect(page.locator("#checklist-score")).to_have_text("100")
    expect(page.locator("#lineage")).to_contain_text("HD-BM-01")
    page.screenshot(path=screenshots / "batch-page.png", full_page=True)
    page.goto(f"{live_server.url}/")
    page.screenshot(path=screenshots / "dashboard.png", full_page=True)


def test_inline_validation_names_the_field_before_anything_is_saved(demo, open_page, live_server, screenshots):
    page = open_page("tech")
    batch = SecretomeBatch.objects.get(code="SB-25-004")
    page.goto(f"{live_server.url}/batches/{batch.pk}/log/production/")
    page.locator("#id_harvest_viability_percent").fill("140")
    page.locator("#id_harvest_viability_percent").dispatch_event("change")
    expect(page.locator("#field-harvest_viability_percent .errorlist")).to_contain_text(re.compile(r"100"))
    page.screenshot(path=screenshots / "inline-validation.png")
    batch.refresh_from_db()
    assert batch.harvest_viability_percent is None


def test_a_pi_verifies_qc_through_the_signature_dialog_and_releases_the_batch(
    demo, open_page, live_server, screenshots
):
    tech = open_page("tech")
    batch = log_complete_batch(tech, live_server.url, "SB-UI-002")
    tech.goto(f"{live_server.url}/batches/{batch.pk}/submit/")
    tech.locator("#confirm-submit").check()
    submit(tech, "Submit for review")
    expect(tech.locator("#batch-status")).to_have_text("Submitted")

    pi = open_page("pi")
    pi.goto(f"{live_server.url}/batches/{batch.pk}/")
    for _ in range(QCResult.objects.filter(batch=batch).count()):
        pi.get_by_role("button", name="Verify…").first.click()
        dialog = pi.locator("#verify-dialog")
        expect(dialog).to_be_visible()
        dialog.locator("#verify-password").fill("demo-password")
        dialog.locator("#verify-meaning").select_option("verified")
        if _ == 0:
            pi.screenshot(path=screenshots / "signature-dialog.png")
        with pi.expect_navigation():
            dialog.get_by_role("button", name="Sign and verify").click()
        expect(pi.locator(".messages")).to_contain_text("verified and signed")
    assert not QCResult.objects.filter(batch=batch).exclude(status="verified").exists()

    pi.get_by_role("button", name="Release…").click()
    pi.locator("#release-password").fill("demo-password")
    with pi.expect_navigation():
        pi.get_by_role("button", name="Sign and release").click()
    expect(pi.locator("#batch-status"), pi.locator("body").inner_text()[:1500]).to_have_text("Released")
    expect(pi.locator("body")).to_contain_text("Released by")
    pi.screenshot(path=screenshots / "batch-released.png", full_page=True)
    batch.refresh_from_db()
    assert batch.status == "released"


def test_a_wrong_password_in_the_signature_dialog_verifies_nothing(demo, open_page, live_server):
    batch = SecretomeBatch.objects.get(code="SB-25-002")
    pi = open_page("pi")
    pi.goto(f"{live_server.url}/batches/{batch.pk}/")
    pending = QCResult.objects.filter(batch=batch, status="recorded").count()
    pi.get_by_role("button", name="Verify…").first.click()
    pi.locator("#verify-password").fill("not-my-password")
    with pi.expect_navigation():
        pi.get_by_role("button", name="Sign and verify").click()
    expect(pi.locator(".messages .error")).to_contain_text("password")
    assert QCResult.objects.filter(batch=batch, status="recorded").count() == pending


def test_an_out_of_spec_result_shows_red_on_the_batch_page_and_on_the_trend_chart(
    demo, open_page, live_server, screenshots
):
    batch = SecretomeBatch.objects.get(code="SB-25-003")
    page = open_page("pi")
    page.goto(f"{live_server.url}/batches/{batch.pk}/")
    row = page.locator('tr[data-qc="endotoxin"]')
    expect(row).to_have_class(re.compile("outcome-fail"))
    expect(row.locator(".badge.fail")).to_have_text("Fail")
    assert row.locator("td").first.evaluate("cell => getComputedStyle(cell).backgroundColor") == "rgb(253, 231, 229)"
    page.screenshot(path=screenshots / "out-of-spec-batch.png", full_page=True)

    page.goto(f"{live_server.url}/qc/trends/?assay=endotoxin&colour_by=priming")
    page.wait_for_selector("#trend[data-ready='1']")
    colours = page.evaluate(
        """() => {
            const chart = window.trendChart;
            const found = [];
            chart.data.datasets.forEach((dataset, d) => (dataset.data || []).forEach((point, i) => {
                if (point && point.batch) {
                    const element = chart.getDatasetMeta(d).data[i];
                    found.push({batch: point.batch, colour: element.options.backgroundColor});
                }
            }));
            return found;
        }"""
    )
    by_batch = {point["batch"]: point["colour"] for point in colours}
    assert by_batch["SB-25-003"] == "#b3261e"
    assert by_batch["SB-25-001"] != "#b3261e"
    page.screenshot(path=screenshots / "qc-trend-endotoxin.png", full_page=True)


def test_a_user_of_another_lab_gets_404_for_the_batch_page(demo, open_page, live_server, screenshots):
    outsider = f.UserFactory(username="otto")
    outsider.set_password("outsider-password")
    outsider.save()
    f.MembershipFactory(user=outsider, lab=f.LabFactory(name="Other Lab", slug="other-lab"), role="technician")
    batch = SecretomeBatch.objects.get(code="SB-25-001")
    page = open_page("otto", "outsider-password")
    response = page.goto(f"{live_server.url}/batches/{batch.pk}/")
    assert response.status == 404
    page.screenshot(path=screenshots / "other-lab-404.png")
    assert page.goto(f"{live_server.url}/batches/").status == 200
    expect(page.locator("body")).not_to_contain_text("SB-25-001")
