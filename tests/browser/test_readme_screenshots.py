"""The screenshots in the README, taken in a real browser from the demo data (copied to docs/screenshots/)."""

import pytest

from batches.models import SecretomeBatch, StorageLocation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_screenshots_of_the_pages_a_technician_and_a_pi_live_in(demo, open_page, live_server, screenshots):
    submitted = SecretomeBatch.objects.get(code="SB-25-002")
    blocked = SecretomeBatch.objects.get(code="SB-25-003")
    draft = SecretomeBatch.objects.get(code="SB-25-004")
    box = StorageLocation.objects.filter(kind="box", lab=draft.lab).order_by("pk").first()

    pi = open_page("pi")
    pi.screenshot(path=screenshots / "dashboard.png")
    pi.goto(f"{live_server.url}/batches/{submitted.pk}/")
    pi.screenshot(path=screenshots / "batch-page.png", full_page=True)
    history = pi.locator("#history")
    history.scroll_into_view_if_needed()
    frame = history.bounding_box()
    pi.screenshot(
        path=screenshots / "history.png",
        full_page=True,
        clip={
            "x": frame["x"],
            "y": frame["y"] + pi.evaluate("() => window.scrollY"),
            "width": frame["width"],
            "height": min(frame["height"], 900),
        },
    )

    pi.goto(f"{live_server.url}/batches/{blocked.pk}/")
    pi.get_by_role("button", name="Release…").click()
    dialog = pi.locator("#release-dialog")
    assert dialog.locator("#release-blockers").is_visible()
    assert dialog.locator("#release-password").count() == 0
    dialog.screenshot(path=screenshots / "release-blockers.png")

    pi.goto(f"{live_server.url}/qc/trends/?assay=particle_concentration&colour_by=donor")
    pi.wait_for_selector("#trend[data-ready='1']")
    ticks = pi.evaluate("() => window.trendChart.scales.x.ticks.map(t => t.label)")
    assert "SB-25-002" in ticks and all(label.startswith("SB-") for label in ticks)
    pi.screenshot(path=screenshots / "qc-trend-particles.png")

    tech = open_page("tech")
    tech.goto(f"{live_server.url}/batches/{draft.pk}/log/aliquots/")
    tech.select_option("#id_location", value=str(box.pk))
    picked = []
    for _ in range(3):
        free = tech.locator("[data-box-map] button.free[aria-pressed='false']").first
        picked.append(free.get_attribute("data-position"))
        free.click()
    assert tech.input_value("#id_positions") == ", ".join(picked)
    assert tech.input_value("#id_count") == "3"
    tech.locator("#record-form").screenshot(path=screenshots / "aliquots-box-map.png")

    tech.set_viewport_size({"width": 390, "height": 844})
    tech.goto(f"{live_server.url}/batches/{submitted.pk}/")
    tech.get_by_role("button", name="Menu").click()
    tech.screenshot(path=screenshots / "phone-menu.png")
