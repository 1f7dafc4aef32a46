"""Under the Content-Security-Policy (no inline script or style), the pages still behave: sizes set from data,
dialogs, live population doublings, the API docs. open_page fails a test on anything the policy blocks."""

import pytest
from playwright.sync_api import expect

from batches.models import Passage, SecretomeBatch, StorageLocation

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_pages_work_under_the_content_security_policy(demo, open_page, live_server):
    page = open_page("pi")
    response = page.goto(f"{live_server.url}/")
    assert "unsafe-inline" not in response.headers["content-security-policy"]
    # Score bars take their width from data, through app.js.
    widths = page.locator(".bar > span").evaluate_all("spans => spans.map(s => s.style.width)")
    assert widths and all(width.endswith("%") for width in widths), widths

    box = StorageLocation.objects.get(name="Box A1")
    page.goto(f"{live_server.url}/storage/box/{box.pk}/")
    columns = page.locator(".box-grid").evaluate("grid => getComputedStyle(grid).gridTemplateColumns.split(' ').length")
    assert columns == 1 + box.columns

    batch = SecretomeBatch.objects.get(code="SB-25-002")
    page.goto(f"{live_server.url}/batches/{batch.pk}/")
    page.get_by_role("button", name="Release…").click()
    expect(page.locator("#release-dialog")).to_be_visible()
    # SB-25-002 still has release blockers: the dialog lists them and offers Close instead of a password.
    page.locator("#release-dialog").get_by_role("button", name="Close").click()
    expect(page.locator("#release-dialog")).to_be_hidden()

    passage = Passage.objects.filter(cell_line__code="MSC-BM01", number=1).get()
    page.goto(f"{live_server.url}/records/passages/{passage.pk}/")
    page.locator("#id_cells_seeded").fill("1000000")
    page.locator("#id_cells_harvested").fill("4000000")
    expect(page.locator("#pd-value")).to_have_text("2.00")

    page.goto(f"{live_server.url}/api/docs/")
    expect(page.locator(".swagger-ui .info .title")).to_contain_text("Secretome", timeout=30_000)
