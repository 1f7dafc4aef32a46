"""In a real browser: the main pages fit a phone's width, keep their menu behind a button, and axe-core finds
no critical or serious accessibility violation on them."""

import pytest
from axe_playwright_python.sync_playwright import Axe

from batches.models import SecretomeBatch, StorageLocation, Study

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True), pytest.mark.takes_minutes(1)]

PHONE = {"width": 390, "height": 844}


def phone_pages() -> dict[str, str]:
    batch = SecretomeBatch.objects.get(code="SB-25-002")
    box = StorageLocation.objects.filter(kind="box", lab=batch.lab).order_by("pk").first()
    study = Study.objects.filter(lab=batch.lab).order_by("pk").first()
    return {
        "dashboard": "/",
        "batch list": "/batches/",
        "batch page": f"/batches/{batch.pk}/",
        "review queue": "/review/",
        "storage box": f"/storage/box/{box.pk}/",
        "study page": f"/studies/{study.pk}/",
    }


def main_pages() -> dict[str, str]:
    draft = SecretomeBatch.objects.get(code="SB-25-004")
    submitted = SecretomeBatch.objects.get(code="SB-25-003")
    return {
        **phone_pages(),
        "submitted batch page": f"/batches/{submitted.pk}/",
        "aliquot form": f"/batches/{draft.pk}/log/aliquots/",
        "production form": f"/batches/{draft.pk}/log/production/",
        "QC trends": "/qc/trends/?assay=endotoxin",
        "QC trends in words": "/qc/trends/?assay=sterility",
        "storage": "/storage/",
        "studies": "/studies/",
        "protocols": "/protocols/",
        "donors": "/records/donors/",
        "new batch": "/batches/new/",
    }


def test_the_main_pages_are_no_wider_than_a_phone(demo, open_page, live_server, screenshots):
    page = open_page("pi")
    page.set_viewport_size(PHONE)
    too_wide = {}
    for name, url in phone_pages().items():
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("networkidle")
        width = page.evaluate("() => document.documentElement.scrollWidth")
        if width > PHONE["width"]:
            too_wide[name] = width
        page.screenshot(path=screenshots / f"phone-{name.replace(' ', '-')}.png")
    assert too_wide == {}, too_wide


def test_on_a_phone_the_menu_opens_from_a_button(demo, open_page, live_server):
    page = open_page("tech")
    page.set_viewport_size(PHONE)
    page.goto(f"{live_server.url}/batches/")
    menu = page.get_by_role("button", name="Menu")
    nav = page.locator("#main-nav")
    assert menu.is_visible() and not nav.is_visible()
    menu.click()
    assert nav.is_visible() and menu.get_attribute("aria-expanded") == "true"
    nav.get_by_role("link", name="Review").click()
    page.wait_for_url(f"{live_server.url}/review/")


def test_on_a_laptop_the_menu_shows_without_a_button(demo, open_page, live_server):
    page = open_page("tech")
    assert page.locator("#main-nav").is_visible()
    assert not page.get_by_role("button", name="Menu").is_visible()


@pytest.mark.parametrize("username", ["tech", "pi"])
def test_axe_core_finds_no_critical_or_serious_violation_on_the_main_pages(demo, open_page, live_server, username):
    axe = Axe()
    page = open_page(username)
    found = {}
    for name, url in main_pages().items():
        page.goto(f"{live_server.url}{url}")
        page.wait_for_load_state("networkidle")
        results = axe.run(page)
        bad = [
            f"{v['id']} ({v['impact']}, {len(v['nodes'])} elements), e.g. {v['nodes'][0]['target']}: "
            f"{v['nodes'][0]['failureSummary'][:200]}"
            for v in results.response["violations"]
            if v["impact"] in ("critical", "serious")
        ]
        if bad:
            found[name] = bad
    assert found == {}, "\n".join(f"{name}: {problems}" for name, problems in found.items())


def test_axe_core_finds_no_critical_or_serious_violation_on_the_members_page_of_a_lab_admin(
    demo, open_page, live_server
):
    page = open_page("labadmin")
    page.goto(f"{live_server.url}/members/")
    page.wait_for_load_state("networkidle")
    assert page.locator("text=Send invitation").count() == 1
    page.locator("details.remove summary").first.click()  # the opened "Remove…" confirmation too
    violations = [v for v in Axe().run(page).response["violations"] if v["impact"] in ("critical", "serious")]
    assert violations == [], [(v["id"], v["nodes"][0]["target"]) for v in violations]
