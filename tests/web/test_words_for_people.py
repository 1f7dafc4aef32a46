"""Pages speak a lab's words: no field name and no checklist item id reaches the visible text of a page."""

import re
from html.parser import HTMLParser

import pytest
from django.apps import apps
from django.contrib.auth import get_user_model
from django.core.management import call_command

from batches import models as m
from batches.checklist.definition import available_versions, load_checklist

pytestmark = pytest.mark.django_db

HIDDEN_TAGS = {"script", "style", "template", "head"}


class VisibleText(HTMLParser):
    """The text a person reads: text nodes and labelling attributes outside scripts and styles.

    The raw database record folded under a history entry (`<details data-raw>`) is the audit detail a reader
    opens on purpose; it is left out.
    """

    def __init__(self) -> None:
        super().__init__()
        self.hidden_depth = 0
        self.raw_depth = 0
        self.chunks: list[str] = []

    def handle_starttag(self, tag, attrs):
        values = dict(attrs)
        if tag == "details" and (self.raw_depth or "data-raw" in values):
            self.raw_depth += 1
        if tag in HIDDEN_TAGS:
            self.hidden_depth += 1
        for attribute in ("placeholder", "title", "aria-label", "alt"):
            if values.get(attribute) and not self.hidden_depth and not self.raw_depth:
                self.chunks.append(values[attribute])

    def handle_endtag(self, tag):
        if tag in HIDDEN_TAGS and self.hidden_depth:
            self.hidden_depth -= 1
        if tag == "details" and self.raw_depth:
            self.raw_depth -= 1

    def handle_data(self, data):
        if not self.hidden_depth and not self.raw_depth and data.strip():
            self.chunks.append(data.strip())


def visible_text(html: str) -> str:
    parser = VisibleText()
    parser.feed(html)
    return "\n".join(parser.chunks)


def machine_words() -> set[str]:
    """Every snake_case field name of the lab's records and every checklist item and gate id."""
    words = set()
    for app_label in ("batches", "protocols", "lims"):
        for model in apps.get_app_config(app_label).get_models():
            words |= {field.name for field in model._meta.get_fields() if "_" in field.name}
    for version in available_versions():
        checklist = load_checklist(version)
        words |= {item.item_id for item in checklist.items}
        words |= {gate.gate_id for gate in checklist.gates if "_" in gate.gate_id}
    return words


@pytest.fixture
def demo():
    call_command("seed_demo", verbosity=0)


def main_pages() -> list[str]:
    lab_batches = m.SecretomeBatch.objects.filter(lab__name="Demo Lab").order_by("pk")
    box = m.StorageLocation.objects.filter(kind="box", lab__name="Demo Lab").first()
    study = m.Study.objects.filter(lab__name="Demo Lab").first()
    some = lab_batches.first()
    urls = ["/", "/batches/", "/review/", "/storage/", f"/storage/box/{box.pk}/", "/studies/", "/protocols/"]
    urls += [f"/studies/{study.pk}/"]
    urls += [f"/qc/trends/?assay={assay}" for assay in ("endotoxin", "particle_concentration", "sterility")]
    urls += [f"/records/{kind}/" for kind in ("donors", "cell-lines", "passages", "primings")]
    cell_line = some.passage.cell_line
    urls += [
        f"/records/donors/{cell_line.donor_id}/",
        f"/records/cell-lines/{cell_line.pk}/",
        f"/records/passages/{some.passage_id}/",
        "/batches/new/",
    ]
    if some.priming_id:
        urls.append(f"/records/primings/{some.priming_id}/")
    for batch in lab_batches:
        urls += [f"/batches/{batch.pk}/", f"/batches/{batch.pk}/checklist/"]
    draft = lab_batches.filter(status="draft").first() or some
    urls += [f"/batches/{draft.pk}/log/{step}/" for step in ("start", "production", "processing", "aliquots", "qc")]
    return urls


@pytest.mark.parametrize("username", ["tech", "pi"])
def test_no_page_shows_a_field_name_or_a_checklist_item_id(client, demo, username):
    client.force_login(get_user_model().objects.get(username=username))
    pattern = re.compile(
        r"(?<![\w/.-])(" + "|".join(sorted(map(re.escape, machine_words()), key=len, reverse=True)) + r")(?![\w-])"
    )
    leaks = {}
    for url in main_pages():
        response = client.get(url)
        assert response.status_code == 200, url
        text = visible_text(response.content.decode())
        found = [line[:160] for line in text.splitlines() if pattern.search(line)]
        if found:
            leaks[url] = found
    assert leaks == {}, "\n".join(f"{url}: {lines}" for url, lines in leaks.items())
