"""The batches app's plausibility rules (registered with lims.plausibility; every write path applies them)."""

import datetime as dt
from dataclasses import dataclass

from django.db.models import Max, Min, Q
from django.utils import timezone

from batches.choices import QC_NOT_COUNTED
from batches.models import Administration, Aliquot, Passage, QCResult, SecretomeBatch
from lims.plausibility import register

OTHER = "other"


@dataclass(frozen=True)
class AssayRule:
    methods: frozenset[str]
    units: frozenset[str] | None  # None: any unit
    minimum: float | None = None
    above_minimum: bool = False  # the value must be strictly greater than the minimum
    qualitative: bool = False  # a result text (negative / detected …) is a meaningful answer


def _rule(methods, units=None, **kwargs) -> AssayRule:
    return AssayRule(frozenset(methods), frozenset(units) if units is not None else None, **kwargs)


_CONCENTRATION = ("µg/mL", "mg/mL", "ng/mL", "pg/mL")
ASSAY_RULES: dict[str, AssayRule] = {
    "sterility": _rule(
        ("bact_alert", "direct_inoculation", "membrane_filtration"), ("CFU/mL",), minimum=0, qualitative=True
    ),
    "endotoxin": _rule(("lal_kinetic", "lal_gel_clot", "rfc"), ("EU/mL",), minimum=0),
    "mycoplasma": _rule(("myco_pcr", "myco_luminescence", "myco_culture"), None, minimum=0, qualitative=True),
    "total_protein": _rule(("bca", "bradford", "micro_bca"), ("µg/mL", "mg/mL"), minimum=0),
    "particle_concentration": _rule(("nta", "trps", "nfcm", "dls"), ("particles/mL",), minimum=0, above_minimum=True),
    "particle_size": _rule(("nta", "trps", "nfcm", "dls", "tem", "cryo_em"), ("nm",), minimum=0, above_minimum=True),
    "ev_marker": _rule(("western_blot", "bead_flow", "elisa", "multiplex", "mass_spec", "nfcm"), qualitative=True),
    "contaminant_marker": _rule(("western_blot", "bead_flow", "elisa", "multiplex", "mass_spec"), qualitative=True),
    "cytokine": _rule(("elisa", "multiplex", "mass_spec", "western_blot"), _CONCENTRATION, minimum=0, qualitative=True),
    "potency": _rule(("cell_assay", "elisa", "multiplex"), ("% inhibition", "%", "fold")),
    "residual_bsa": _rule(("elisa", "western_blot", "mass_spec"), _CONCENTRATION, minimum=0),
    "imaging": _rule(("tem", "cryo_em", "nfcm"), qualitative=True),
}


@register(QCResult)
def qc_result_plausible(result: QCResult) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    rule = ASSAY_RULES.get(result.assay)
    assay = result.get_assay_display() if result.assay else "this assay"
    if rule is not None:
        if result.method and result.method != OTHER and result.method not in rule.methods:
            allowed = ", ".join(sorted(rule.methods))
            errors["method"] = [f"{assay} is not measured by {result.method}; use one of: {allowed} (or other)."]
        if result.value is not None and result.unit and rule.units is not None and result.unit not in rule.units:
            errors["unit"] = [f"{assay} is reported in {', '.join(sorted(rule.units))}, not {result.unit}."]
        if (
            result.value is not None
            and rule.minimum is not None
            and (result.value < rule.minimum or (rule.above_minimum and result.value == rule.minimum))
        ):
            # Worded as the assay's rule: the schema states one range for every assay, this one depends on `assay`.
            relation = "greater than" if rule.above_minimum else "at least"
            errors["value"] = [f"{assay} values are {relation} {rule.minimum:g}."]
        if result.result_text and not rule.qualitative:
            errors["result_text"] = [
                f"{assay} is quantitative: give its value and unit; a qualitative result does not apply."
            ]
    if result.value is not None and result.unit in {"%", "% inhibition"} and "value" not in errors:
        low = -100 if result.unit == "% inhibition" else 0
        if not low <= result.value <= 100:
            errors["value"] = [f"A value in {result.unit} runs from {low} to 100."]
    return errors


# --- Dates in order along the chain ----------------------------------------------------------------
# passage seeded ≤ passage harvested ≤ conditioning start ≤ collection ≤ QC performed ≤ administration.
# Conditioning starts `conditioning_time_h` before the collection. Dates are compared as the lab's days;
# a date that is not recorded is not compared (and not an error). The database keeps the pairs that may
# never be out of order (batches.models.dates).

_COUNTED_QC = ~Q(status__in=QC_NOT_COUNTED) & Q(performed_on__isnull=False)


def _day(moment: dt.datetime | None) -> dt.date | None:
    return timezone.localtime(moment).date() if moment is not None else None


def _conditioning_start(batch: SecretomeBatch) -> dt.date | None:
    if batch.collected_at is None or batch.conditioning_time_h is None:
        return None
    return _day(batch.collected_at - dt.timedelta(hours=batch.conditioning_time_h))


def _iso(day: dt.date) -> str:
    return f"{day:%Y-%m-%d}"


@register(SecretomeBatch)
def batch_dates_in_order(batch: SecretomeBatch) -> dict[str, list[str]]:
    collected = _day(batch.collected_at)
    if collected is None:
        return {}
    errors: dict[str, list[str]] = {}
    passage = batch.passage if batch.passage_id else None  # usually in hand: the caller gave it
    start = _conditioning_start(batch)
    if passage is not None:
        if passage.started_on and collected < passage.started_on:
            errors["collected_at"] = [
                f"Collected on {_iso(collected)}, before its producing passage was seeded ({_iso(passage.started_on)})."
            ]
        elif passage.harvested_on and collected < passage.harvested_on:
            errors["collected_at"] = [
                f"Collected on {_iso(collected)}, before its producing passage was harvested "
                f"({_iso(passage.harvested_on)})."
            ]
        elif start is not None and passage.harvested_on and start < passage.harvested_on:
            errors["conditioning_time_h"] = [
                f"Conditioning would have started on {_iso(start)} (the collection minus the conditioning time), "
                f"before the producing passage was harvested ({_iso(passage.harvested_on)})."
            ]
        elif start is not None and passage.started_on and start < passage.started_on:
            errors["conditioning_time_h"] = [
                f"Conditioning would have started on {_iso(start)} (the collection minus the conditioning time), "
                f"before the producing passage was seeded ({_iso(passage.started_on)})."
            ]
    if batch.pk is not None and "collected_at" not in errors:
        first_qc = batch.qc_results.filter(_COUNTED_QC).aggregate(first=Min("performed_on"))["first"]
        first_dose = batch.administrations.aggregate(first=Min("administered_on"))["first"]
        if first_qc is not None and first_qc < collected:
            errors["collected_at"] = [f"Collected on {_iso(collected)}, after its QC was performed ({_iso(first_qc)})."]
        elif first_dose is not None and first_dose < collected:
            errors["collected_at"] = [
                f"Collected on {_iso(collected)}, after it was administered ({_iso(first_dose)})."
            ]
    return errors


@register(Passage)
def passage_dates_in_order(passage: Passage) -> dict[str, list[str]]:
    if passage.pk is None or (passage.started_on is None and passage.harvested_on is None):
        return {}
    errors: dict[str, list[str]] = {}
    for batch in passage.batches.filter(collected_at__isnull=False).only(
        "code", "collected_at", "conditioning_time_h", "passage_id"
    ):
        collected = _day(batch.collected_at)
        start = _conditioning_start(batch) or collected
        if passage.started_on and passage.started_on > collected and "started_on" not in errors:
            errors["started_on"] = [
                f"Seeded on {_iso(passage.started_on)}, after batch {batch.code} was collected ({_iso(collected)})."
            ]
        if passage.harvested_on and passage.harvested_on > start and "harvested_on" not in errors:
            errors["harvested_on"] = [
                f"Harvested on {_iso(passage.harvested_on)}, after batch {batch.code} started conditioning "
                f"({_iso(start)})."
            ]
    return errors


def _batch_of(record) -> SecretomeBatch | None:
    return record.batch if record.batch_id is not None else None


@register(QCResult)
def qc_result_dates_in_order(result: QCResult) -> dict[str, list[str]]:
    if result.performed_on is None or result.batch_id is None or result.status in QC_NOT_COUNTED:
        return {}
    batch = _batch_of(result)
    collected = _day(batch.collected_at) if batch is not None else None
    if collected is not None and result.performed_on < collected:
        return {
            "performed_on": [
                f"Performed on {_iso(result.performed_on)}, before batch {batch.code} was collected "
                f"({_iso(collected)})."
            ]
        }
    first_dose = Administration.objects.filter(batch_id=result.batch_id).aggregate(first=Min("administered_on"))
    if first_dose["first"] is not None and first_dose["first"] < result.performed_on:
        return {
            "performed_on": [
                f"Performed on {_iso(result.performed_on)}, after batch {batch.code} was administered "
                f"({_iso(first_dose['first'])}); QC comes before the batch is used."
            ]
        }
    return {}


@register(Administration)
def administration_dates_in_order(administration: Administration) -> dict[str, list[str]]:
    given = administration.administered_on
    batch = _batch_of(administration) if given is not None else None
    if batch is None:
        return {}
    collected = _day(batch.collected_at)
    if collected is not None and given < collected:
        return {
            "administered_on": [f"Given on {_iso(given)}, before batch {batch.code} was collected ({_iso(collected)})."]
        }
    last_qc = batch.qc_results.filter(_COUNTED_QC).aggregate(last=Max("performed_on"))["last"]
    if last_qc is not None and given < last_qc:
        return {
            "administered_on": [
                f"Given on {_iso(given)}, before the QC of batch {batch.code} was performed ({_iso(last_qc)})."
            ]
        }
    return {}


@register(Aliquot)
def aliquot_plausible(aliquot: Aliquot) -> dict[str, list[str]]:
    if not aliquot.position or aliquot.location_id is None:
        return {}
    box = aliquot.location
    if not box.rows or not box.columns or len(aliquot.position) < 2 or not aliquot.position[1:].isdigit():
        return {}
    row = ord(aliquot.position[0].upper()) - ord("A") + 1
    column = int(aliquot.position[1:])
    if not (1 <= row <= box.rows and 1 <= column <= box.columns):
        last = f"{chr(ord('A') + box.rows - 1)}{box.columns}"
        return {"position": [f"{box.name} is a {box.rows} × {box.columns} box: positions run from A1 to {last}."]}
    return {}
