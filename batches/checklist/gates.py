"""The gates: checks separate from the score that block release (CHECKLIST.md "Gates")."""

import datetime as dt
from typing import Any

from batches.checklist.context import Context, row_matches
from batches.checklist.definition import Checklist, Gate
from batches.checklist.results import GateResult, jsonable
from batches.choices import Route


def _latest_by_marker(rows: list[dict]) -> tuple[dict[str, dict], set[str]]:
    """The latest unprimed measurement per marker, and the markers measured only on IFN-γ-primed cells."""

    def order(row: dict):
        return (row["measured_on"] or dt.date.min, row["passage_number"] or 0, row["id"])

    latest: dict[str, dict] = {}
    primed_only: set[str] = set()
    for row in sorted(rows, key=order):
        if row["percent_positive"] is None:
            continue  # a marker without its % is not recorded; the checklist item asks for it
        if row["primed_with_ifng"]:
            primed_only.add(row["marker"])
            continue
        latest[row["marker"]] = row
    return latest, primed_only - set(latest)


def _gate_isct(gate: Gate, context: Context) -> tuple[bool, str, bool, Any]:
    latest, primed_only = _latest_by_marker(context.rows("immunophenotypes"))
    failures: list[str] = []
    minimum = gate.params["positive"]["min_percent"]
    maximum = gate.params["negative"]["max_percent"]
    for group in gate.params["positive"]["groups"]:
        for marker in group:
            row = latest.get(marker)
            if row is not None and row["percent_positive"] < minimum:
                failures.append(f"{marker} {row['percent_positive']:g} % (needs ≥ {minimum:g} %)")
    for group in gate.params["negative"]["groups"]:
        for marker in group:
            row = latest.get(marker)
            if row is not None and row["percent_positive"] > maximum:
                failures.append(f"{marker} {row['percent_positive']:g} % (needs ≤ {maximum:g} %)")
    value = {marker: row["percent_positive"] for marker, row in sorted(latest.items())}
    flag = ""
    if primed_only:
        flag = f" Measured only on IFN-γ-primed cells, flagged and not judged: {', '.join(sorted(primed_only))}."
    if failures:
        return False, f"{gate.message} Outside the thresholds: {'; '.join(failures)}.{flag}", bool(primed_only), value
    return True, f"The recorded markers meet the ISCT thresholds.{flag}", bool(primed_only), value


ROUTE_WORDS = {value: label.lower() for value, label in Route.choices}

# What a found row is, in a reviewer's words (ids stay in the report's data, not in its sentences).
ROW_NOUNS = {
    "passages": "passage",
    "immunophenotypes": "phenotype measurement",
    "differentiations": "differentiation result",
    "priming_agents": "priming agent",
    "processing_steps": "processing step",
    "qc_results": "QC result",
    "aliquots": "aliquot",
    "aliquot_uses": "aliquot use",
    "administrations": "administration",
}


def _gate_no_rows(gate: Gate, context: Context) -> tuple[bool, str, bool, Any]:
    found = []
    for spec in gate.rows:
        for row in context.rows(spec.collection):
            if row_matches(spec.where, row):
                found.append((spec, row))
    if not found:
        return True, "No failing result recorded.", False, []
    details = "; ".join(
        f"{spec.label} ({ROW_NOUNS.get(spec.collection, 'record')}"
        + (f" of {row['performed_on']:%Y-%m-%d}" if isinstance(row.get("performed_on"), dt.date) else "")
        + ")"
        for spec, row in found
    )
    return False, f"{gate.message} Found: {details}.", False, [row["id"] for _, row in found]


def _gate_endotoxin(gate: Gate, context: Context) -> tuple[bool, str, bool, Any]:
    results = [
        r
        for r in context.rows("qc_results")
        if r["assay"] == "endotoxin" and r["value"] is not None and r["unit"] == "EU/mL"
    ]
    if not results:
        return True, "Not judged: no endotoxin result in EU/mL yet.", False, None
    eu_per_ml = max(r["value"] for r in results)
    limits = gate.params["k_eu_per_kg"]
    skipped = set(gate.params.get("non_parenteral_routes") or ())
    judged, failures = [], []
    for administration in context.rows("administrations"):
        if administration["route"] in skipped or not administration["body_weight_g"] or not administration["volume_ul"]:
            continue
        k = float(limits.get(administration["route"], limits["default"]))
        dose = eu_per_ml * administration["volume_ul"] / 1000 / (administration["body_weight_g"] / 1000)
        judged.append({"administration": administration["id"], "eu_per_kg": round(dose, 4), "limit": k})
        if dose > k:
            failures.append(
                f"the {ROUTE_WORDS.get(administration['route'], 'administration')} dose "
                f"({administration.get('group') or 'a group'}): {dose:.3g} EU/kg > {k:g} EU/kg"
            )
    value = {"eu_per_ml": eu_per_ml, "administrations": judged}
    if failures:
        return False, f"{gate.message} {'; '.join(failures)}.", False, value
    if not judged:
        return True, "Not judged: no parenteral administration with a volume and a body weight yet.", False, value
    return True, f"{eu_per_ml:g} EU/mL stays below K in every administration.", False, value


GATE_KINDS = {"isct_phenotype": _gate_isct, "no_rows": _gate_no_rows, "endotoxin_limit": _gate_endotoxin}


def evaluate_gate(checklist: Checklist, gate: Gate, context: Context, blocking: bool) -> GateResult:
    """One gate; `blocking`: whether the subject is meant for a use whose failed gates block release."""
    if not context.holds(gate.when):
        return GateResult(
            gate_id=gate.gate_id, passed=True, message="Not applicable.", number=gate.number, label=gate.label
        )
    passed, message, flagged, value = GATE_KINDS[gate.kind](gate, context)
    if not passed and not blocking:
        message += f" Release is not blocked because not {checklist.gate_blocking_text}."
    return GateResult(
        gate_id=gate.gate_id,
        passed=passed,
        message=message,
        number=gate.number,
        label=gate.label,
        blocking=not passed and blocking,
        flagged=flagged,
        value=jsonable(value),
    )


def evaluate_gates(checklist: Checklist, context: Context) -> list[GateResult]:
    blocking = context.holds(checklist.gate_blocking_when)
    return [evaluate_gate(checklist, gate, context, blocking) for gate in checklist.gates]
