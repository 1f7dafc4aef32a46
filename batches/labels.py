"""What every recorded field is called, and its unit, in a lab's words.

One source for the web forms, the API's help texts, the checklist's messages, the history a PI reads and the
exports: a field is named here once, never derived from its column name on a page.
"""

import re
from dataclasses import dataclass


@dataclass(frozen=True)
class FieldWords:
    label: str
    unit: str = ""

    @property
    def with_unit(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit and self.unit not in ("cells", "years") else self.label


W = FieldWords

# By column name; a model whose column means something narrower says so in MODEL_FIELDS below.
FIELDS: dict[str, FieldWords] = {
    # identity and links
    "code": W("Code"),
    "title": W("Title"),
    "name": W("Name"),
    "lab": W("Lab"),
    "donor": W("Donor"),
    "cell_line": W("Cell line"),
    "passage": W("Passage"),
    "parent": W("Previous passage"),
    "priming": W("Priming"),
    "batch": W("Batch"),
    "aliquot": W("Aliquot"),
    "study": W("Study"),
    "location": W("Storage box"),
    "position": W("Position in the box"),
    "protocol_version": W("SOP"),
    "protocol": W("SOP"),
    "specification": W("Specification"),
    "reference_batch": W("Reference batch"),
    "mock_control": W("Mock control batch"),
    "operator": W("Operator"),
    "performed_by": W("Performed by"),
    "verified_by": W("Verified by"),
    "verified_at": W("Verified at"),
    "approved_by": W("Approved by"),
    "approved_at": W("Approved at"),
    "created_by": W("Created by"),
    "created_at": W("Created"),
    "updated_at": W("Last changed"),
    "status": W("Status"),
    "version": W("Version"),
    "kind": W("Kind"),
    "details": W("Details"),
    "notes": W("Notes"),
    # donor
    "species": W("Species"),
    "species_details": W("Species (other)"),
    "tissue_source": W("Tissue of origin"),
    "tissue_source_details": W("Tissue (other)"),
    "anatomical_site": W("Anatomical site"),
    "sex": W("Sex"),
    "age_years": W("Age", "years"),
    "health_status": W("Health status"),
    "health_details": W("Condition"),
    "pooled": W("Pooled donors"),
    "n_donors": W("Number of donors"),
    "supplier": W("Supplier"),
    "catalogue_number": W("Catalogue number"),
    "lot": W("Lot"),
    "ethics_approval_ref": W("Ethics approval reference"),
    "consent_obtained": W("Informed consent obtained"),
    "genetically_modified": W("Genetically modified or immortalised"),
    "modification_details": W("Modification"),
    # cell line
    "isolation_method": W("Isolation method"),
    "isolation_enzyme": W("Enzyme"),
    "isolation_enzyme_mg_per_ml": W("Enzyme concentration", "mg/mL"),
    "isolation_digestion_min": W("Digestion time", "min"),
    "isolation_details": W("Isolation details"),
    "isolated_on": W("Isolated on"),
    "basal_medium": W("Basal medium"),
    "basal_medium_details": W("Basal medium (other)"),
    "antibiotics": W("Antibiotics"),
    "antibiotics_details": W("Antibiotics (other)"),
    "supplement": W("Supplement"),
    "supplement_details": W("Supplement (other)"),
    "supplement_percent": W("Supplement", "% v/v"),
    "supplement_lot": W("Supplement lot"),
    "heparin_u_per_ml": W("Heparin", "U/mL"),
    "culture_format": W("Culture format"),
    "culture_format_details": W("3D system"),
    "plastic_adherent": W("Plastic adherent"),
    "three_d_system": W("3D system"),
    # immunophenotype and differentiation
    "marker": W("Marker"),
    "marker_details": W("Marker (other)"),
    "percent_positive": W("Positive cells", "%"),
    "passage_number": W("Passage tested"),
    "measured_on": W("Measured on"),
    "primed_with_ifng": W("Measured on IFN-γ-primed cells"),
    "lineage": W("Lineage"),
    "result": W("Result"),
    "method": W("Method"),
    "method_details": W("Method (other)"),
    # passage
    "number": W("Passage number"),
    "started_on": W("Seeded on"),
    "harvested_on": W("Harvested on"),
    "vessel": W("Vessel"),
    "vessel_details": W("Vessel (other)"),
    "area_cm2": W("Growth area", "cm²"),
    "cells_seeded": W("Cells seeded", "cells"),
    "cells_harvested": W("Cells harvested", "cells"),
    "viability_percent": W("Viability", "%"),
    "confluence_percent": W("Confluence at harvest", "%"),
    "temperature_c": W("Temperature", "°C"),
    "co2_percent": W("CO₂", "%"),
    "o2_percent": W("O₂", "%"),
    "mycoplasma_result": W("Mycoplasma test"),
    "seeding_density_per_cm2": W("Seeding density", "cells/cm²"),
    "population_doublings": W("Population doublings"),
    "cumulative_population_doublings": W("Cumulative population doublings"),
    "doubling_time_h": W("Doubling time", "h"),
    # priming
    "duration_h": W("Duration", "h"),
    "device": W("Device"),
    "washout": W("Agents washed out"),
    "washes": W("Number of washes"),
    "delay_to_conditioning_h": W("Delay before conditioning", "h"),
    "agent": W("Agent"),
    "agent_details": W("Agent (other)"),
    "concentration": W("Concentration"),
    "concentration_unit": W("Concentration unit"),
    "exposure": W("Exposure"),
    "exposure_unit": W("Exposure unit"),
    # batch
    "product_type": W("Product type"),
    "intended_use": W("Intended use"),
    "confluence_start_percent": W("Confluence at start", "%"),
    "cells_at_start": W("Cells at start", "cells"),
    "conditioning_medium": W("Conditioning medium"),
    "conditioning_medium_details": W("Conditioning medium details"),
    "serum_free": W("Serum-free"),
    "serum_percent": W("Serum", "% v/v"),
    "ev_depletion_method": W("EV depletion of the serum"),
    "ev_depletion_details": W("EV depletion details"),
    "conditioning_volume_ml": W("Conditioning volume", "mL"),
    "conditioning_time_h": W("Conditioning time", "h"),
    "conditioning_o2_percent": W("O₂ during conditioning", "%"),
    "harvest_viability_percent": W("Viability at harvest", "%"),
    "harvest_viable_cells": W("Viable cells at harvest", "cells"),
    "collected_at": W("Collected at"),
    "final_volume_ml": W("Final volume", "mL"),
    "data_repository_ids": W("Data repository identifiers"),
    "ev_track_id": W("EV-TRACK ID"),
    "ml_per_million_cells": W("Conditioning volume per million cells", "mL/10⁶ cells"),
    # processing
    "order": W("Step number"),
    "g_force": W("Centrifugal force", "× g"),
    "duration_min": W("Duration", "min"),
    "rotor": W("Rotor"),
    "k_factor": W("k-factor"),
    "pore_size_um": W("Pore size", "µm"),
    "mwco_kda": W("Molecular-weight cut-off", "kDa"),
    "concentration_factor": W("Concentration factor", "×"),
    "lyoprotectant": W("Lyoprotectant"),
    "lyoprotectant_mm": W("Lyoprotectant concentration", "mM"),
    "lyophilisation_cycle": W("Lyophilisation cycle"),
    "residual_moisture_percent": W("Residual moisture", "%"),
    "reconstitution": W("Reconstitution"),
    "reconstitution_volume_ml": W("Reconstitution volume", "mL"),
    # aliquot
    "volume_ul": W("Volume", "µL"),
    "container": W("Container"),
    "container_details": W("Container (other)"),
    "buffer": W("Buffer"),
    "buffer_details": W("Buffer (other)"),
    "state": W("State"),
    "freeze_thaw_count": W("Freeze–thaw cycles"),
    "stored_at": W("Stored on"),
    "used_fresh": W("Used fresh"),
    # QC
    "assay": W("Assay"),
    "assay_details": W("Assay (other)"),
    "analyte": W("Analyte"),
    "sample": W("Sample"),
    "instrument": W("Instrument"),
    "value": W("Value"),
    "unit": W("Unit"),
    "result_text": W("Result in words"),
    "performed_on": W("Performed on"),
    "outcome": W("Outcome"),
    "raw_data": W("Raw data"),
    "acceptance_justification": W("Justification for accepting"),
    "min_value": W("Lower limit"),
    "max_value": W("Upper limit"),
    "warn_min": W("Lower warning limit"),
    "warn_max": W("Upper warning limit"),
    "expected_text": W("Expected result"),
    # study
    "pain_model": W("Pain model"),
    "pain_model_details": W("Pain model (other)"),
    "model_induction": W("Model induction"),
    "strain": W("Strain"),
    "age_weeks_min": W("Age, youngest", "weeks"),
    "age_weeks_max": W("Age, oldest", "weeks"),
    "weight_g_min": W("Body weight, lightest", "g"),
    "weight_g_max": W("Body weight, heaviest", "g"),
    "design": W("Design"),
    "groups": W("Groups"),
    "n_per_group": W("Animals per group"),
    "sample_size_rationale": W("Sample-size rationale"),
    "randomisation": W("Randomisation"),
    "blinding": W("Blinding"),
    "inclusion_exclusion": W("Inclusion and exclusion criteria"),
    "exclusions": W("Animals excluded"),
    "statistics": W("Statistics"),
    "tissue_analyses": W("Tissue analyses"),
    "adverse_events": W("Adverse events"),
    "experimental_unit": W("Experimental unit"),
    "ethics_ref": W("Ethics approval"),
    "group": W("Group"),
    "dose_value": W("Dose"),
    "dose_unit": W("Dose unit"),
    "dose_unit_details": W("Dose unit (other)"),
    "route": W("Route"),
    "route_details": W("Route (other)"),
    "site": W("Site"),
    "n_doses": W("Number of doses"),
    "interval": W("Interval between doses"),
    "interval_unit": W("Interval unit"),
    "schedule_days": W("Dosing days after induction"),
    "day_after_induction": W("Day after induction"),
    "preventive": W("Given before symptoms (preventive)"),
    "vehicle": W("Vehicle"),
    "vehicle_details": W("Vehicle (other)"),
    "body_weight_g": W("Body weight", "g"),
    "test": W("Test"),
    "test_details": W("Test (other)"),
    "time_points": W("Time points", "days"),
    "is_primary": W("Primary outcome"),
    "baseline": W("Baseline"),
    "assessed_on": W("Assessed on"),
    # SOPs and deviations
    "category": W("Category"),
    "body": W("Procedure"),
    "change_summary": W("What changed"),
    "parameter": W("Parameter"),
    "expected": W("Expected"),
    "actual": W("Actual"),
    "justification": W("Justification"),
    "record_type": W("Kind of record"),
    "record_label": W("Record"),
}

MODEL_FIELDS: dict[tuple[str, str], FieldWords] = {
    ("passage", "temperature_c"): W("Incubator temperature", "°C"),
    ("passage", "co2_percent"): W("Incubator CO₂", "%"),
    ("passage", "o2_percent"): W("Incubator O₂", "%"),
    ("primingcondition", "kind"): W("Kind of priming"),
    ("primingcondition", "o2_percent"): W("O₂ during priming", "%"),
    ("primingcondition", "duration_h"): W("Priming duration", "h"),
    ("processingstep", "kind"): W("Step"),
    ("processingstep", "details"): W("Other details"),
    ("processingstep", "final_volume_ml"): W("Volume after the step", "mL"),
    ("aliquot", "temperature_c"): W("Storage temperature", "°C"),
    ("aliquot", "code"): W("Tube code"),
    ("storagelocation", "kind"): W("Level"),
    ("storagelocation", "parent"): W("Inside"),
    ("immunophenotype", "result"): W("Result"),
    ("differentiation", "method"): W("Staining or readout"),
    ("qcresult", "method"): W("Method"),
    ("protocolversion", "number"): W("Version"),
    ("batchevent", "kind"): W("Event"),
    ("batchevent", "data"): W("Event details"),
}


def _model_key(model) -> str:
    if model is None:
        return ""
    if isinstance(model, str):
        return model.rsplit(".", 1)[-1].lower()
    return model._meta.model_name


def words_for(model, name: str) -> FieldWords:
    """The words for a field of a model (a model class, an instance's class, or 'app.model' / 'model')."""
    key = _model_key(model)
    if (key, name) in MODEL_FIELDS:
        return MODEL_FIELDS[(key, name)]
    if name in FIELDS:
        return FIELDS[name]
    if name.endswith("_id") and name[:-3] in FIELDS:
        return FIELDS[name[:-3]]
    return W(_sentence_case(name))


def field_label(model, name: str) -> str:
    return words_for(model, name).label


def field_unit(model, name: str) -> str:
    return words_for(model, name).unit


def label_with_unit(model, name: str) -> str:
    return words_for(model, name).with_unit


def help_text(model, name: str) -> str:
    words = words_for(model, name)
    return f"{words.label}, in {words.unit}." if words.unit else f"{words.label}."


_SNAKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")


def in_words(text: str, model=None) -> str:
    """Replace column names that reached a sentence (e.g. from a stored message) with their labels."""

    def replace(match: re.Match) -> str:
        name = match.group(0)
        known = (_model_key(model), name) in MODEL_FIELDS or name in FIELDS
        return mid_sentence(field_label(model, name)) if known else match.group(0)

    return _SNAKE.sub(replace, text)


def mid_sentence(label: str) -> str:
    """'Final volume' → 'final volume'; 'O₂ during conditioning' and 'EV-TRACK ID' keep their capitals."""
    return label[:1].lower() + label[1:] if label[1:2].islower() else label


def _sentence_case(name: str) -> str:
    words = name.replace("_", " ").strip()
    return words[:1].upper() + words[1:]


def describe_field(model, source: str, field) -> None:
    """Gives an API serializer field the label and help text the forms and pages use (registered with
    lims.vocabulary, so the API schema speaks as the pages do)."""
    if "." in source or (source not in FIELDS and (model._meta.model_name, source) not in MODEL_FIELDS):
        return
    field.label = field_label(model, source)
    if not field.help_text:
        field.help_text = help_text(model, source)
