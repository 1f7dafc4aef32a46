"""The daily loop in a real browser: a technician logs the demo's complete EV batch from the dashboard (no typed
URL, at most 25 page loads), checks and submits it; the PI returns it for changes; the technician changes it,
submits again and amends it with a reason; the PI approves the deviation, verifies QC and releases; an author
creates a study with two groups and an irregular schedule and exports its methods."""

import re
import shutil
from pathlib import Path

import pytest
from playwright.sync_api import expect

from batches.models import Aliquot, QCResult, SecretomeBatch, StorageLocation
from protocols.models import Deviation, ProtocolVersion

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.takes_minutes(2)]

MAX_PAGE_LOADS = 25
CODE = "SB-UI-EV1"


def fill(scope, values: dict, prefix: str = "id_") -> None:
    """Fill fields by name; a <select> by visible label, else by value."""
    for name, value in values.items():
        field = scope.locator(f"#{prefix}{name}")
        tag = field.evaluate("element => element.tagName")
        if tag == "SELECT":
            labels = [text.strip() for text in field.locator("option").all_inner_texts()]
            if str(value) in labels:
                field.select_option(label=str(value))
            else:
                field.select_option(value=str(value))
        elif field.get_attribute("type") == "checkbox":
            field.set_checked(bool(value))
        else:
            field.fill(str(value))


def click_and_load(page, role: str, name: str, exact: bool = False) -> None:
    with page.expect_navigation():
        page.get_by_role(role, name=name, exact=exact).first.click()


def add_in_place(page, expected: str, added: int = 1) -> None:
    """A step page adds its rows in place (htmx): the list and a fresh form come back without a page load."""
    rows = page.locator("#step-rows tr")
    before = rows.count()

    def is_save(response) -> bool:
        return response.request.method == "POST" and "_validate=1" not in (response.request.post_data or "")

    with page.expect_response(is_save) as saved:
        page.get_by_role("button", name="Add", exact=True).click()
    assert saved.value.status == 200
    problems = re.findall(r"<li>([^<]+)</li>", saved.value.text())
    expect(rows, str(problems)).to_have_count(before + added)
    expect(page.locator("#just-saved")).to_contain_text(expected)


def test_the_daily_loop_of_a_technician_a_pi_and_an_author(demo, open_page, live_server, tmp_path, screenshots):
    shots = tmp_path / "screenshots"
    shots.mkdir()
    ev = SecretomeBatch.objects.select_related("passage", "priming").get(code="SB-25-002")
    # The demo's EV batch, made from the cells of its released batch: the demo's adipose line fails the ISCT
    # phenotype gate (CD105 93 %), which rightly blocks an in-vivo release.
    cells = SecretomeBatch.objects.get(code="SB-25-001").passage_id
    uc_sop = ProtocolVersion.objects.get(protocol__code="SOP-PRC-003", status="effective")
    box = StorageLocation.objects.get(lab=ev.lab, kind="box")

    # --- The technician logs the EV batch, starting on the dashboard, typing no URL -----------------------
    tech = open_page("tech")
    loads = [tech.url]
    tech.on("load", lambda: loads.append(tech.url))
    tech.screenshot(path=shots / "01-dashboard.png", full_page=True)
    click_and_load(tech, "link", "Log a new batch")
    fill(tech, {"code": CODE, "passage": cells, "priming": ev.priming_id})
    fill(tech, {"product_type": "EV", "intended_use": "in_vivo"})
    click_and_load(tech, "button", "Create draft and continue")
    expect(tech.locator("h1")).to_contain_text(f"{CODE}: Production")
    production = {
        "confluence_start_percent": 80,
        "cells_at_start": 12000000,
        "conditioning_medium": "dmem_f12",
        "conditioning_medium_details": "phenol-red-free, no supplements",
        "serum_free": "true",
        "conditioning_volume_ml": 30,
        "conditioning_time_h": 48,
        "conditioning_o2_percent": 1,
        "harvest_viability_percent": 94,
        "harvest_viable_cells": 12600000,
        "collected_at": "2025-03-01T10:00",
        "final_volume_ml": 0.5,
        "mock_control": "SB-25-000-MOCK",
        "data_repository_ids": "ZENODO:10.5281/zenodo.0000003",
    }
    fill(tech, production)
    click_and_load(tech, "button", "Save and continue")
    clearing = [
        {"kind": "centrifugation", "g_force": 300, "duration_min": 10, "temperature_c": 4},
        {"kind": "centrifugation", "g_force": 2000, "duration_min": 20, "temperature_c": 4},
        {"kind": "filtration", "pore_size_um": 0.22, "temperature_c": 20},
    ]
    ultracentrifugation = {
        "kind": "ultracentrifugation",
        "g_force": 100000,
        "duration_min": 70,
        "temperature_c": 4,
        "rotor": "Type 70 Ti",
        "k_factor": 44,
        "final_volume_ml": 0.5,
        "details": "pellet washed once in PBS and spun again at the same settings",
        "protocol_version": uc_sop.pk,
    }
    for number, step in enumerate([*clearing, ultracentrifugation], start=1):
        fill(tech, step)
        add_in_place(tech, f"Processing step {number} added")
    expect(tech.locator("#step-deviations")).to_contain_text("1 open SOP deviation")
    tech.screenshot(path=shots / "02-processing-steps.png", full_page=True)
    click_and_load(tech, "link", "Continue to next step")
    first_tube = {
        "volume_ul": 100,
        "container": "low_bind_tube",
        "buffer": "pbs_trehalose",
        "state": "frozen",
        "temperature_c": -80,
        "location": box.pk,
        "freeze_thaw_count": 0,
    }
    taken = set(
        Aliquot.objects.filter(location=box, status__in=["available", "reserved"]).values_list("position", flat=True)
    )
    free = [f"{row}{column}" for row in "HGFE" for column in range(1, 10) if f"{row}{column}" not in taken]
    # Four tubes in one go: the shared values once, the positions clicked on the box map.
    fill(tech, first_tube)
    for position in free[:4]:
        tech.locator(f'[data-box-map] button[data-position="{position}"]').click()
    expect(tech.locator("[data-box-count]")).to_have_value("4")
    add_in_place(tech, f"4 aliquots added: {CODE}-A01", added=4)
    click_and_load(tech, "link", "Continue to next step")
    qc = [
        ("sterility", "product", "", "bact_alert", None, "", "negative"),
        ("endotoxin", "product", "", "lal_kinetic", 0.05, "EU/mL", ""),
        ("mycoplasma", "product", "", "myco_pcr", None, "", "negative"),
        ("mycoplasma", "cells", "", "myco_pcr", None, "", "negative"),
        ("potency", "product", "TNF-α", "cell_assay", 58, "% inhibition", ""),
        ("cytokine", "product", "IL-10", "elisa", 86, "pg/mL", ""),
        ("cytokine", "product", "HGF", "elisa", 2140, "pg/mL", ""),
        ("cytokine", "product", "VEGF", "elisa", 930, "pg/mL", ""),
        ("particle_concentration", "product", "", "nta", 42000000000, "particles/mL", ""),
        ("particle_size", "product", "mode", "nta", 118, "nm", ""),
        ("particle_size", "product", "D10", "nta", 82, "nm", ""),
        ("particle_size", "product", "D50", "nta", 131, "nm", ""),
        ("particle_size", "product", "D90", "nta", 214, "nm", ""),
        ("ev_marker", "product", "CD63", "western_blot", None, "", "detected"),
        ("ev_marker", "product", "CD81", "western_blot", None, "", "detected"),
        ("ev_marker", "product", "TSG101", "western_blot", None, "", "detected"),
        ("contaminant_marker", "product", "calnexin", "western_blot", None, "", "not_detected"),
        ("contaminant_marker", "product", "ApoA1", "western_blot", None, "", "not_detected"),
        ("imaging", "product", "", "tem", None, "", "detected"),
        ("total_protein", "product", "", "micro_bca", 410, "µg/mL", ""),
    ]
    for assay, sample, analyte, method, value, unit, text in qc:
        values = {"assay": assay, "sample": sample, "analyte": analyte, "method": method}
        values |= {"value": value, "unit": unit} if value is not None else {"result_text": text}
        if assay == "potency":
            values["reference_batch"] = "SB-25-001"
        if assay == "imaging":
            values["raw_data"] = f"ELN/{CODE}/tem"
        fill(tech, {"performed_on": "2025-03-03", **values})
        add_in_place(tech, "recorded")
    tech.screenshot(path=shots / "03-qc-results.png", full_page=True)
    click_and_load(tech, "link", "Done — open the batch page")
    batch = SecretomeBatch.objects.get(code=CODE)
    assert batch.qc_results.count() == len(qc) and batch.aliquots.count() == 4
    expect(tech.locator("#deviations")).to_contain_text("SOP-PRC-003")
    tech.locator("#deviations textarea").fill("The Type 70 Ti rotor pellets EVs in 70 min at its k-factor of 44.")
    click_and_load(tech, "button", "Justify")
    tech.screenshot(path=shots / "04-batch-page-deviation.png")
    click_and_load(tech, "link", "Submit for review…")
    expect(tech.locator("#precheck-deviations")).to_contain_text("SOP-PRC-003")
    tech.screenshot(path=shots / "05-pre-submit-check.png", full_page=True)
    tech.locator("#confirm-submit").check()
    click_and_load(tech, "button", "Submit for review", exact=True)
    expect(tech.locator("#batch-status")).to_have_text("Submitted")
    assert len(loads) <= MAX_PAGE_LOADS, loads
    assert all("/new/" not in url or "batches/new" in url for url in loads)
    logging_loads = len(loads)

    # --- The PI returns it for changes ------------------------------------------------------------------
    pi = open_page("pi")
    click_and_load(pi, "link", "Review")
    click_and_load(pi, "link", CODE)
    pi.get_by_role("button", name="Return for changes…").click()
    pi.locator("#return-reason").fill("Record the second spin's pellet wash volume in the ultracentrifugation.")
    pi.screenshot(path=shots / "06-return-for-changes.png")
    click_and_load(pi, "button", "Return for changes", exact=True)
    expect(pi.locator("#batch-status")).to_have_text("Draft")

    # --- The technician changes it, submits again, and amends the submitted batch with a reason ---------
    tech.reload()
    expect(tech.locator("#returned-note")).to_contain_text("pellet wash volume")
    click_and_load(tech, "link", "Ultracentrifugation")
    tech.locator("#id_details").fill("pellet washed once in 60 mL PBS and spun again at the same settings")
    click_and_load(tech, "button", "Save", exact=True)
    click_and_load(tech, "link", "Batch page →")
    click_and_load(tech, "link", "Submit for review…")
    tech.locator("#confirm-submit").check()
    click_and_load(tech, "button", "Submit for review", exact=True)
    expect(tech.locator("#batch-status")).to_have_text("Submitted")
    click_and_load(tech, "link", f"{CODE}-A04")
    expect(tech.locator("#id_reason")).to_be_visible()
    tech.locator("#id_volume_ul").fill("95")
    tech.locator("#id_reason").fill("The last tube was short: 95 µL, read off the pipette.")
    tech.screenshot(path=shots / "07-amend-with-a-reason.png", full_page=True)
    click_and_load(tech, "button", "Save", exact=True)
    assert Aliquot.objects.get(code=f"{CODE}-A04").volume_ul == 95

    # --- The PI approves the deviation, verifies QC and releases -----------------------------------------
    pi.reload()
    click_and_load(pi, "button", "Approve the deviation")
    assert Deviation.objects.get(batch=batch, status="approved")
    for index in range(QCResult.objects.filter(batch=batch, status="recorded").count()):
        pi.get_by_role("button", name="Verify…").first.click()
        dialog = pi.locator("#verify-dialog")
        dialog.locator("#verify-password").fill("demo-password")
        if index == 0:
            pi.screenshot(path=shots / "08-verify-qc.png")
        with pi.expect_navigation():
            dialog.get_by_role("button", name="Sign and verify").click()
        expect(pi.locator(".messages")).to_contain_text("verified and signed")
    pi.get_by_role("button", name="Release…").click()
    pi.locator("#release-password").fill("demo-password")
    click_and_load(pi, "button", "Sign and release")
    expect(pi.locator("#batch-status"), pi.locator(".messages").inner_text()).to_have_text("Released")
    pi.screenshot(path=shots / "09-released.png")

    # --- An author creates a study with two groups and an irregular schedule, and exports its methods ---
    click_and_load(tech, "link", "Studies")
    click_and_load(tech, "link", "New study")
    fill(tech, {"title": "EV after chronic constriction injury in mice", "pain_model": "cci", "species": "mouse"})
    fill(tech, {"strain": "C57BL/6J", "sex": "male", "n_per_group": 10})
    click_and_load(tech, "button", "Create the study")
    for name, role in (("EV", "treatment"), ("Vehicle", "vehicle")):
        fill(tech, {"name": name, "role": role}, prefix="id_group_")
        click_and_load(tech, "button", "Add the group")
        expect(tech.locator("#group-list")).to_contain_text(name)
    tech.get_by_text("Add an administration").click()
    fill(
        tech,
        {
            "batch": batch.pk,
            "group": "EV",
            "dose_value": 1000000000,
            "dose_unit": "particles",
            "route": "intrathecal",
            "volume_ul": 10,
            "schedule_days": "-1, 7, 11",
            "vehicle": "pbs",
        },
        prefix="id_administration_",
    )
    click_and_load(tech, "button", "Add the administration")
    expect(tech.locator("#administrations")).to_contain_text("3 doses on days -1, 7, 11")
    tech.screenshot(path=shots / "10-study.png", full_page=True)
    with tech.expect_download() as download:
        tech.locator("[data-export='md']").click()
    methods = Path(download.value.path()).read_text()
    assert "on days −1, 7 and 11" in methods, methods  # the irregular schedule, as a journal prints it
    expect(tech.locator("#export-status")).to_contain_text("Downloaded")

    for shot in sorted(shots.glob("*.png")):  # beside the README's other screenshots (var/screenshots)
        shutil.copyfile(shot, screenshots / f"daily-loop-{shot.name}")
    print(f"page loads while logging: {logging_loads}: {loads}")
