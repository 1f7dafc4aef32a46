"""Every number a technician types carries its unit; every categorical field has a controlled list."""

import re

import pytest
from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from batches import choices
from lims.models import LabOwnedModel

UNIT_IN_NAME = re.compile(
    r"^percent_|_(percent|ml|ul|c|h|min|um|kda|cm2|g|mm|years|weeks|u_per_ml|mg_per_ml|per_ml|per_cm2|kg)(_min|_max)?$"
)
# Numbers whose unit is a sibling field, or that are counts / ratios without a unit.
UNIT_BESIDE = {
    ("PrimingAgent", "concentration"),
    ("PrimingAgent", "exposure"),
    ("QCResult", "value"),
    ("QCSpecification", "min_value"),
    ("QCSpecification", "max_value"),
    ("QCSpecification", "warn_min"),
    ("QCSpecification", "warn_max"),
    ("Administration", "dose_value"),
    ("Administration", "interval"),
    ("ProtocolParameter", "min_value"),
    ("ProtocolParameter", "max_value"),
}
COUNTS = {
    "record_id",
    "cells_seeded",
    "cells_harvested",
    "cells_at_start",
    "harvest_viable_cells",
    "n_donors",
    "number",
    "order",
    "passage_number",
    "washes",
    "freeze_thaw_count",
    "n_doses",
    "n_per_group",
    "rows",
    "columns",
    "version",
    "spec_version",
    "day_after_induction",
    "g_force",
    "k_factor",
    "concentration_factor",
    "score",
}
# Identifiers, names and references: free text by nature, not a catch-all for structured data.
FREE_TEXT = {
    "record_label",
    "code",
    "name",
    "title",
    "anatomical_site",
    "health_details",
    "supplier",
    "catalogue_number",
    "lot",
    "ethics_approval_ref",
    "ethics_ref",
    "modification_details",
    "isolation_details",
    "basal_medium_details",
    "supplement_lot",
    "culture_format_details",
    "three_d_system",
    "conditioning_medium_details",
    "ev_track_id",
    "data_repository_ids",
    "rotor",
    "lyophilisation_cycle",
    "details",
    "position",
    "note",
    "analyte",
    "instrument",
    "raw_data",
    "acceptance_justification",
    "model_induction",
    "strain",
    "design",
    "sample_size_rationale",
    "randomisation",
    "blinding",
    "inclusion_exclusion",
    "exclusions",
    "statistics",
    "tissue_analyses",
    "adverse_events",
    "group",
    "site",
    "body",
    "change_summary",
    # Shipments between labs (batches/models/shipments.py) and invitations (lims/invitations.py):
    "invitee",  # the invited person's e-mail or username: an identifier
    "courier",  # the carrier company's name
    "tracking_reference",  # the carrier's reference
    "aliquot_code",  # the producer's codes, frozen at packing: references
    "batch_code",
    "notes",  # narrative, like note and body
    "refusal_reason",  # why a shipment or an aliquot was refused: narrative, like acceptance_justification
    "rejection_reason",
    "message",  # the text of an impact notice to the receiving lab: narrative, like body
    "default",
    "parameter",
    "expected",
    "actual",
    "justification",
    "checklist_version",
    "fingerprint",
    "slug",
    "institution",
    "unit",
}

# The records people type: every lab-owned model (system tables such as outboxes are not typed by hand).
DOMAIN_MODELS = [
    model for model in apps.get_models() if issubclass(model, LabOwnedModel) and not model.__name__.endswith("History")
]


def _typed_fields(model):
    for field in model._meta.get_fields():
        if isinstance(field, models.Field) and not field.auto_created and field.editable and not field.is_relation:
            yield field


@pytest.mark.parametrize("model", DOMAIN_MODELS, ids=lambda model: model.__name__)
def test_every_number_has_a_unit_in_its_name_a_unit_field_or_its_help_text(model):
    missing = []
    for field in _typed_fields(model):
        if not isinstance(field, models.FloatField | models.IntegerField | models.DecimalField):
            continue
        if field.name in COUNTS or (model.__name__, field.name) in UNIT_BESIDE or UNIT_IN_NAME.search(field.name):
            continue
        missing.append(field.name)
    assert not missing, f"{model.__name__}: give these a unit: {missing}"


def _details_of_other(model, name: str) -> bool:
    """`<list>_details` names the value when the list `<list>` says "other"."""
    if not name.endswith("_details"):
        return False
    stem = name.removesuffix("_details")
    for listed_name in (stem, f"{stem}_method"):
        try:
            listed = model._meta.get_field(listed_name)
        except FieldDoesNotExist:
            continue
        if "other" in dict(listed.choices or ()):
            return True
    return False


def test_every_open_list_has_other_and_a_field_for_its_details():
    lists = {
        (model.__name__, field.name): field
        for model in DOMAIN_MODELS
        for field in _typed_fields(model)
        if field.choices and "other" in dict(field.choices)
    }
    for (model_name, name), field in lists.items():
        model = field.model
        named = {f"{name}_details", f"{name.removesuffix('_method')}_details", "details", "isolation_details"}
        if model_name == "QCSpecification":
            named.add("analyte")  # a specification for an "other" assay is told apart by its analyte
        if (model_name, name) == ("ShipmentReceipt", "condition_on_arrival"):
            named.add("notes")  # "Other (see notes)": the receipt's notes describe the arrival
        details = {f.name for f in model._meta.get_fields()} & named
        assert details, f"{model_name}.{name} has 'other' but no field for its details"


@pytest.mark.parametrize("model", DOMAIN_MODELS, ids=lambda model: model.__name__)
def test_every_short_text_field_is_a_choice_list_unless_it_is_a_name_or_reference(model):
    loose = [
        field.name
        for field in _typed_fields(model)
        if isinstance(field, models.CharField | models.TextField)
        and not field.choices
        and field.name not in FREE_TEXT
        and not _details_of_other(model, field.name)
    ]
    assert not loose, f"{model.__name__}: free text where a controlled list belongs: {loose}"


def test_every_tissue_source_belongs_to_one_of_the_three_groups():
    assert set(choices.TISSUE_GROUP) == set(choices.TissueSource.values) - {"other"}
    groups = {choices.TISSUE_GROUP[source] for source in ("whartons_jelly", "bone_marrow", "menstrual_blood")}
    assert groups == {"perinatal", "adult", "alternative"}
    assert len(choices.TissueSource.values) >= 29


def test_the_controlled_lists_hold_the_design_vocabularies():
    assert set(choices.ProductType.values) == {"CM", "CONC", "EV", "EVD", "LYO"}
    assert set(choices.PrimingKind.values) == {
        "none",
        "cytokine",
        "hypoxia",
        "hypoxia_mimetic",
        "three_d",
        "combined",
        "other",
    }
    assert set(choices.DoseUnit.values) == {
        "cell_equivalents",
        "particles",
        "ug_protein",
        "mg_lyophilisate",
        "ml_cm",
        "other",
    }
    assert {
        "intravenous",
        "intraperitoneal",
        "intrathecal",
        "intra_articular",
        "intraplantar",
        "perineural",
        "intranasal",
        "biomaterial_implant",
    } <= set(choices.Route.values)
