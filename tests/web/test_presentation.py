"""Pages a technician, a PI and an author read: labels with units, the box map, SOP pickers, a readable
history, release blockers before the password, and QC trends in words."""

import re
from html.parser import HTMLParser

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command

from batches import forms as f
from batches import models as m
from batches.api.serializers import CellLineSerializer, PassageSerializer
from batches.selectors.storage import box_occupancy
from batches.services.records import record_update
from protocols.models import ProtocolVersion

pytestmark = pytest.mark.django_db


@pytest.fixture
def demo():
    call_command("seed_demo", verbosity=0)


def _login(client, username):
    user = get_user_model().objects.get(username=username)
    client.force_login(user)
    return user


def _batch(code):
    return m.SecretomeBatch.objects.get(code=code)


class Options(HTMLParser):
    """The option texts of one <select>, by its id."""

    def __init__(self, select_id):
        super().__init__()
        self.select_id, self.inside, self.in_option, self.options = select_id, False, False, []

    def handle_starttag(self, tag, attrs):
        if tag == "select" and dict(attrs).get("id") == self.select_id:
            self.inside = True
        elif tag == "option" and self.inside:
            self.in_option = True
            self.options.append("")

    def handle_endtag(self, tag):
        if tag == "select":
            self.inside = False
        if tag == "option":
            self.in_option = False

    def handle_data(self, data):
        if self.in_option:
            self.options[-1] += data


def options_of(html: str, select_id: str) -> list[str]:
    parser = Options(select_id)
    parser.feed(html)
    return [option.strip() for option in parser.options]


# --- 1. Labels and units from one source ---------------------------------------------------------------


def test_forms_and_the_api_name_a_field_with_the_same_words_and_the_right_unit():
    form = f.CellLineForm()
    assert (form.fields["isolation_enzyme_mg_per_ml"].label, form.fields["isolation_enzyme_mg_per_ml"].unit) == (
        "Enzyme concentration",
        "mg/mL",
    )
    assert (form.fields["heparin_u_per_ml"].label, form.fields["heparin_u_per_ml"].unit) == ("Heparin", "U/mL")
    passage = f.PassageForm()
    assert (passage.fields["co2_percent"].label, passage.fields["co2_percent"].unit) == ("Incubator CO₂", "%")
    assert f.DonorForm().fields["age_years"].label == "Age"
    assert f.ProcessingStepForm().fields["mwco_kda"].label == "Molecular-weight cut-off"
    api = CellLineSerializer().fields
    assert api["heparin_u_per_ml"].label == "Heparin" and "U/mL" in api["heparin_u_per_ml"].help_text
    assert api["isolation_enzyme_mg_per_ml"].label == "Enzyme concentration"
    assert "mg/mL" in api["isolation_enzyme_mg_per_ml"].help_text
    assert PassageSerializer().fields["co2_percent"].label == "Incubator CO₂"


def test_the_checklist_panel_explains_its_level_badges(client, demo):
    _login(client, "tech")
    page = client.get(f"/batches/{_batch('SB-25-004').pk}/").content.decode()
    assert 'id="level-legend"' in page
    assert "required in this case" in page and "recommended" in page
    assert '<abbr title="Required">R</abbr>' in page


# --- 2. Box map and several aliquots in one go -----------------------------------------------------------


def test_the_aliquot_form_shows_the_boxes_with_their_taken_positions(client, demo):
    _login(client, "tech")
    page = client.get(f"/batches/{_batch('SB-25-004').pk}/log/aliquots/").content.decode()
    assert 'id="box-occupancy"' in page and "data-box-map" in page
    assert '"A1": "SB-25-001-A01"' in page
    assert 'data-box-positions="1"' in page and 'data-box-count="1"' in page


def free_positions(box) -> list[str]:
    taken = next(b["taken"] for b in box_occupancy(lab_id=box.lab_id) if b["id"] == box.pk)
    every = [f"{chr(65 + row)}{column}" for row in range(box.rows) for column in range(1, box.columns + 1)]
    return [position for position in every if position not in taken]


def test_several_aliquots_are_logged_in_one_go_at_the_positions_picked(client, demo):
    _login(client, "tech")
    batch = _batch("SB-25-004")
    box = m.StorageLocation.objects.get(kind="box", lab=batch.lab)
    free = free_positions(box)
    response = client.post(
        f"/batches/{batch.pk}/log/aliquots/",
        {
            "code": "SB-25-004-A01",
            "count": "3",
            "positions": f"{free[0].lower()}, {free[1]} {free[2]}",
            "volume_ul": "250",
            "state": "frozen",
            "temperature_c": "-80",
            "location": box.pk,
        },
    )
    assert response.status_code == 302, response.context["form"].errors
    made = list(batch.aliquots.order_by("code").values_list("code", "position", "volume_ul"))
    assert made == [("SB-25-004-A01", free[0], 250), ("SB-25-004-A02", free[1], 250), ("SB-25-004-A03", free[2], 250)]
    follow = client.get(response["Location"]).content.decode()
    assert "3 aliquots added: SB-25-004-A01, SB-25-004-A02, SB-25-004-A03." in follow


def test_several_aliquots_are_all_written_or_none_and_the_error_names_the_tube(client, demo):
    _login(client, "tech")
    batch = _batch("SB-25-004")
    box = m.StorageLocation.objects.get(kind="box", lab=batch.lab)
    response = client.post(
        f"/batches/{batch.pk}/log/aliquots/",
        {"code": "SB-25-004-A01", "count": "2", "positions": f"{free_positions(box)[0]}, A1", "location": box.pk},
    )
    assert response.status_code == 200
    assert not batch.aliquots.exists()
    errors = response.context["form"].errors
    assert any("Tube 2 (SB-25-004-A02)" in message for message in errors["positions"])


def test_positions_and_tubes_must_agree(client, demo):
    _login(client, "tech")
    batch = _batch("SB-25-004")
    box = m.StorageLocation.objects.get(kind="box", lab=batch.lab)
    response = client.post(
        f"/batches/{batch.pk}/log/aliquots/",
        {"code": "SB-25-004-A01", "count": "3", "positions": "E1, E2", "location": box.pk},
    )
    assert response.status_code == 200 and not batch.aliquots.exists()
    assert response.context["form"].errors["positions"] == [
        "2 positions chosen for 3 tubes: choose one position per tube."
    ]


# --- 3. SOP pickers --------------------------------------------------------------------------------------


def test_sop_pickers_offer_only_effective_versions_of_the_right_category_with_titles(client, demo):
    _login(client, "tech")
    batch = _batch("SB-25-004")
    production = options_of(client.get(f"/batches/{batch.pk}/log/start/").content.decode(), "id_protocol_version")[1:]
    effective = ProtocolVersion.objects.filter(
        lab=batch.lab, status="effective", protocol__category="conditioning"
    ).select_related("protocol")
    assert production == [f"{v.protocol.code} v{v.number} — {v.protocol.title}" for v in effective]
    assert ProtocolVersion.objects.filter(lab=batch.lab, protocol__category="conditioning").count() > len(production)
    processing = options_of(client.get(f"/batches/{batch.pk}/log/processing/").content.decode(), "id_protocol_version")[
        1:
    ]
    assert processing and all(option.startswith("SOP-PRC-") and " — " in option for option in processing)


# --- 4. History a PI reads -------------------------------------------------------------------------------


def test_the_history_says_what_changed_in_lab_words_with_units_who_and_why(client, demo):
    technician = _login(client, "tech")
    batch = _batch("SB-25-004")
    record_update(
        instance=batch,
        actor=technician,
        data={"conditioning_volume_ml": 35.0, "serum_free": True},
        version=batch.version,
        reason="Volume re-measured with a serological pipette",
    )
    page = client.get(f"/batches/{batch.pk}/").content.decode()
    history = page[page.index('id="history"') :]
    assert 'Conditioning volume (mL): <span class="old">' in history
    assert re.search(
        r"Conditioning volume \(mL\): <span class=\"old\">[^<]+ mL</span> → <span class=\"new\">35 mL", history
    )
    assert "Volume re-measured with a serological pipette" in history
    assert technician.get_full_name() in history
    assert '<details class="raw" data-raw>' in history
    readable = re.sub(r"<details class=\"raw\".*?</details>", "", history, flags=re.S)
    for raw in ("content_type", "conditioning_volume_ml", "updated_at", "object_id"):
        assert raw not in readable


def test_an_added_row_is_named_and_its_values_are_folded(client, demo):
    _login(client, "pi")
    batch = _batch("SB-25-002")
    page = client.get(f"/batches/{batch.pk}/").content.decode()
    history = page[page.index('id="history"') :]
    assert "QC result Endotoxin added" in history and "Processing step #1 Centrifugation added" in history
    assert re.search(r'<details class="values"><summary>\d+ values recorded</summary>', history)
    approved = re.search(r"Approved by: <span class=\"old\">—</span> → <span class=\"new\">([^<]+)</span>", history)
    assert approved and approved.group(1) == "Priya Iyer"  # a person by name, not by login


def test_the_batch_page_shows_the_latest_40_changes_and_points_to_the_full_trail(client, demo):
    technician = _login(client, "tech")
    batch = _batch("SB-25-004")
    for n in range(45):
        data = {"conditioning_medium_details": f"Re-read {n}"}
        batch = record_update(instance=batch, actor=technician, data=data, version=batch.version)
    page = client.get(f"/batches/{batch.pk}/").content.decode()
    history = page[page.index('id="history"') :]
    assert len(re.findall(r'<td class="nowrap">', history)) == 40
    assert "Re-read 44" in history and "Re-read 3<" not in history
    assert f'<a href="/batches/{batch.pk}/audit/">the full audit trail</a> has every one' in history


# --- 5. Release blockers before the password -------------------------------------------------------------


def test_release_blockers_are_sentences_shown_before_the_password(client, demo):
    _login(client, "pi")
    batch = _batch("SB-25-003")
    page = client.get(f"/batches/{batch.pk}/").content.decode()
    dialog = page[page.index('<dialog id="release-dialog"') :]
    dialog = dialog[: dialog.index("</dialog>")]
    assert "cannot be released yet" in dialog
    assert 'id="release-password"' not in dialog
    blockers = re.findall(r"<li>(.*?)</li>", dialog, flags=re.S)
    assert blockers
    for blocker in blockers:
        assert not re.search(r"\b[a-z]+_[a-z_]+\b", blocker), blocker


def test_a_reviewer_reads_before_the_password_that_their_own_batch_is_released_by_another(client, demo):
    pi = _login(client, "pi")
    batch = _batch("SB-25-002")
    page = client.get(f"/batches/{batch.pk}/").content.decode()
    assert "You made or recorded this batch" not in page  # the technician made it
    m.SecretomeBatch.objects.filter(pk=batch.pk).update(operator=pi)
    page = client.get(f"/batches/{batch.pk}/").content.decode()
    dialog = page[page.index('<dialog id="release-dialog"') :]
    dialog = dialog[: dialog.index("</dialog>")]
    assert "You made or recorded this batch: another reviewer of the lab releases it." in dialog
    assert 'id="release-password"' not in dialog


def test_a_refused_release_says_so_once(client, demo):
    _login(client, "pi")
    batch = _batch("SB-25-003")
    response = client.post(
        f"/batches/{batch.pk}/release/", {"password": "demo-password", "meaning": "released"}, follow=True
    )
    errors = [str(message) for message in response.context["messages"] if message.level_tag == "error"]
    assert len(errors) == 1
    assert errors[0].startswith("The batch was not released.")
    assert _batch("SB-25-003").status == "submitted"


# --- 6. QC trends ----------------------------------------------------------------------------------------


def test_trend_data_carry_a_title_in_words(client, demo):
    _login(client, "pi")
    data = client.get("/qc/trends/data/?assay=particle_concentration").json()
    assert data["title"] == "Particle concentration"
    assert data["points"] and all(point["batch"].startswith("SB-") for point in data["points"])


def test_a_qualitative_assay_shows_its_results_in_words_instead_of_an_empty_chart(client, demo):
    _login(client, "pi")
    page = client.get("/qc/trends/?assay=sterility").content.decode()
    assert 'id="trend-empty"' in page and "<canvas" not in page
    assert "Sterility is recorded as a result in words" in page
    assert "SB-25-001" in page
