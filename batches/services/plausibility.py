"""The batches app's plausibility rules (registered with lims.plausibility; every write path applies them)."""

from dataclasses import dataclass

from batches.models import Aliquot, QCResult, SecretomeBatch
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


@register(SecretomeBatch)
def batch_plausible(batch: SecretomeBatch) -> dict[str, list[str]]:
    if batch.collected_at is None or batch.passage_id is None:
        return {}
    passage = batch.passage
    collected = batch.collected_at.date()
    if passage.started_on and collected < passage.started_on:
        return {
            "collected_at": [
                f"Collected on {collected:%Y-%m-%d}, before its producing passage was seeded "
                f"({passage.started_on:%Y-%m-%d})."
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
