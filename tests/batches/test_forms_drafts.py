"""The web forms save what the lab knows: a draft with gaps is saved, and the live checklist lists the gaps."""

import pytest

from batches import forms
from batches import models as m
from tests import factories as f

pytestmark = pytest.mark.django_db


@pytest.fixture
def tech_client(client, technician):
    client.force_login(technician)
    return client


def _saved(response) -> None:
    assert response.status_code == 302, response.context["form"].errors if response.context else response


def test_a_donor_cell_line_and_passage_are_saved_with_only_their_identity_and_links(tech_client, lab):
    _saved(tech_client.post("/records/donors/new/", {"code": "D-PAPER-1"}))
    donor = m.Donor.objects.get(code="D-PAPER-1")
    assert (donor.species, donor.tissue_source, donor.sex, donor.pooled, donor.n_donors) == ("", "", "", None, None)

    _saved(tech_client.post("/records/cell-lines/new/", {"code": "CL-PAPER-1", "donor": donor.pk}))
    line = m.CellLine.objects.get(code="CL-PAPER-1")
    assert (line.isolation_method, line.basal_medium, line.antibiotics, line.supplement) == ("", "", "", "")
    assert line.culture_format == ""

    _saved(tech_client.post("/records/passages/new/", {"cell_line": line.pk, "number": "2"}))
    passage = m.Passage.objects.get(cell_line=line, number=2)
    assert (passage.started_on, passage.vessel, passage.area_cm2, passage.cells_seeded) == (None, "", None, None)
    assert (passage.temperature_c, passage.co2_percent, passage.o2_percent, passage.mycoplasma_result) == (
        None,
        None,
        None,
        "",
    )


def test_a_batch_draft_with_gaps_is_saved_step_by_step_and_the_live_checklist_lists_the_gaps(
    tech_client, lab, technician
):
    passage = f.PassageFactory(lab=lab)
    response = tech_client.post("/batches/new/", {"code": "SB-DRAFT-1", "passage": passage.pk, "product_type": "EV"})
    _saved(response)
    batch = m.SecretomeBatch.objects.get(code="SB-DRAFT-1")
    assert (batch.priming, batch.intended_use) == (None, "")

    _saved(tech_client.post(f"/batches/{batch.pk}/log/production/", {"_version": batch.version}))
    _saved(tech_client.post(f"/batches/{batch.pk}/log/processing/", {"order": "1", "kind": "ultracentrifugation"}))
    _saved(tech_client.post(f"/batches/{batch.pk}/log/aliquots/", {"code": "SB-DRAFT-1-A01"}))
    # The QC form starts on sample "product" (what was tested), as the browser posts it.
    _saved(tech_client.post(f"/batches/{batch.pk}/log/qc/", {"assay": "particle_concentration", "sample": "product"}))
    aliquot = m.Aliquot.objects.get(code="SB-DRAFT-1-A01")
    assert (aliquot.volume_ul, aliquot.container, aliquot.buffer, aliquot.temperature_c) == (None, "", "", None)
    assert aliquot.freeze_thaw_count is None
    result = batch.qc_results.get()
    assert (result.value, result.method, result.performed_on, result.outcome) == (None, "", None, "")

    page = tech_client.get(f"/batches/{batch.pk}/log/qc/")
    todo = {entry["item"].item_id: entry["item"] for entry in page.context["todo"]}
    for item_id in (
        "sp_conditioning_time",
        "sp_priming_type",
        "sp_ev_separation",
        "st_temperature",
        "st_freeze_thaw",
        "ch_particle_conc",
    ):
        assert item_id in todo, item_id
        assert todo[item_id].status == "missing"
    body = page.content.decode()
    assert "Still to record" in body
    assert "storage temperature" in body
    panel = tech_client.get(f"/batches/{batch.pk}/checklist/").content.decode()
    assert "storage temperature" in panel


def test_a_batch_used_fresh_needs_no_storage_temperature(tech_client, lab):
    batch = f.SecretomeBatchFactory(lab=lab, status="draft")
    _saved(tech_client.post(f"/batches/{batch.pk}/log/production/", {"_version": batch.version, "used_fresh": "true"}))
    page = tech_client.get(f"/batches/{batch.pk}/log/aliquots/")
    todo = {entry["item"].item_id for entry in page.context["todo"]}
    assert {"st_state", "st_temperature", "st_freeze_thaw"}.isdisjoint(todo)
    assert m.SecretomeBatch.objects.get(pk=batch.pk).used_fresh is True


def test_bought_cells_need_no_isolation_data(tech_client, lab):
    _saved(
        tech_client.post(
            "/records/donors/new/",
            {"code": "D-BOUGHT", "species": "human", "supplier": "Lonza", "catalogue_number": "PT-2501", "lot": "0000"},
        )
    )
    donor = m.Donor.objects.get(code="D-BOUGHT")
    _saved(tech_client.post("/records/cell-lines/new/", {"code": "CL-BOUGHT", "donor": donor.pk}))
    line = m.CellLine.objects.get(code="CL-BOUGHT")
    batch = f.SecretomeBatchFactory(lab=lab, passage=f.PassageFactory(lab=lab, cell_line=line))
    page = tech_client.get(f"/batches/{batch.pk}/log/start/")
    item = next(i for i in page.context["checklist"].items if i.item_id == "ie_isolation_method")
    assert item.status == "not_applicable"


def test_an_impossible_value_is_still_refused_on_its_field(tech_client, lab):
    response = tech_client.post("/records/donors/new/", {"code": "D-OLD", "age_years": "-4"})
    assert response.status_code == 200
    assert "age_years" in response.context["form"].errors
    assert not m.Donor.objects.filter(code="D-OLD").exists()


def test_empty_choices_read_not_recorded_and_only_identity_is_marked_required(technician):
    form = forms.DonorForm(user=technician)
    assert [name for name, field in form.fields.items() if field.required] == ["code"]
    assert form.fields["sex"].choices[0] == ("", "Not recorded")
    assert ("unknown", "Not known") in form.fields["sex"].choices
    assert form.fields["pooled"].widget.choices[0] == ("unknown", "Not recorded")
    line_form = forms.CellLineForm(user=technician)
    assert [name for name, field in line_form.fields.items() if field.required] == ["code", "donor"]
    assert line_form.fields["protocol_version"].empty_label == "Not recorded"
    batch_form = forms.BatchStartForm(user=technician)
    assert [name for name, field in batch_form.fields.items() if field.required] == [
        "code",
        "passage",
        "product_type",
    ]
