"""One engine for every checklist version: conditions, requirements, items, score, gates, fingerprint."""

import datetime as dt
import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

from batches.checklist.computed import COMPUTED
from batches.checklist.definition import Checklist, Condition, Gate, Item, Requirement, RowCondition
from batches.checklist.inputs import Inputs

# Where each source and collection sits relative to its subject, and what to call it in a message.
SOURCE_PATHS = {
    "batch": ("", "batch"),
    "passage": ("passage.", "producing passage"),
    "cell_line": ("passage.cell_line.", "cell line"),
    "donor": ("passage.cell_line.donor.", "donor"),
    "priming": ("priming.", "priming condition"),
    "study": ("", "study"),
    "administration": ("", "administration"),
}
COLLECTION_PATHS = {
    "passages": "passage",
    "immunophenotypes": "passage.cell_line.immunophenotypes",
    "differentiations": "passage.cell_line.differentiations",
    "priming_agents": "priming.agents",
    "processing_steps": "processing_steps",
    "qc_results": "qc_results",
    "aliquots": "aliquots",
    "aliquot_uses": "aliquots.events",
    "administrations": "administrations",
    "outcome_measures": "outcome_measures",
    "study_groups": "groups",
}
SHOWN_ROWS = 12


@dataclass
class ItemResult:
    item_id: str
    category: str
    level: str  # effective level: R, Rec or C
    status: str  # satisfied | missing | invalid | not_applicable
    message: str
    field: str
    label: str
    value: Any = None
    entity: str = ""
    subject: str = ""  # for per-administration items: which administration
    warnings: list[str] = field(default_factory=list)

    @property
    def weight_level(self) -> str:
        return self.level

    @property
    def blocks_release(self) -> bool:
        return self.level in ("R", "C") and self.status in ("missing", "invalid")

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class GateResult:
    gate_id: str
    passed: bool
    message: str
    number: int = 0
    label: str = ""
    blocking: bool = False  # a failed gate that blocks release (in-vivo or clinical use)
    flagged: bool = False  # something was seen but not judged (e.g. phenotype of IFN-γ-primed cells)
    value: Any = None

    def as_dict(self) -> dict:
        return asdict(self)


@dataclass
class Evaluation:
    version: str
    score: float
    score_by_category: dict[str, float]
    items: list[ItemResult]
    gates: list[GateResult]
    fingerprint: str
    subject_kind: str = "batch"
    subject_id: int = 0
    lab_id: int = 0

    def item(self, item_id: str) -> ItemResult:
        return next(result for result in self.items if result.item_id == item_id)

    def items_for(self, item_id: str) -> list[ItemResult]:
        return [result for result in self.items if result.item_id == item_id]

    def gate(self, gate_id: str) -> GateResult:
        return next(result for result in self.gates if result.gate_id == gate_id)

    @property
    def release_problems(self) -> list[str]:
        """Readable sentences: required items missing or invalid, and gates that fail and block release."""
        problems = [
            f"Required item '{r.label}' ({r.item_id}) is {r.status}: {r.message}"
            for r in self.items
            if r.blocks_release
        ]
        problems += [f"Gate {g.number} ({g.label}) fails: {g.message}" for g in self.gates if g.blocking]
        return problems


# --- Values ------------------------------------------------------------------------------------------------


def jsonable(value: Any) -> Any:
    if value is None or isinstance(value, bool | int | str):
        return value
    if isinstance(value, float):
        return value if value == value and value not in (float("inf"), float("-inf")) else str(value)
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, dict):
        return {str(k): jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set):
        return [jsonable(v) for v in value]
    return str(value)


def is_present(value: Any, absent: tuple = ()) -> bool:
    if value is None or value == "" or value in absent:
        return False
    return not (isinstance(value, list | dict | tuple) and not value)


def _compare(operator: str, value: Any, argument: Any) -> bool:
    if operator == "present":
        return is_present(value) is bool(argument)
    if operator == "equals":
        return value == argument
    if operator == "not_equals":
        return value != argument
    if operator == "in":
        return value in argument
    if operator == "not_in":
        return value not in argument
    if operator == "in_ci":
        return isinstance(value, str) and value.casefold() in {str(a).casefold() for a in argument}
    if value is None or isinstance(value, str):
        return False
    try:
        if operator == "gt":
            return value > argument
        if operator == "gte":
            return value >= argument
        if operator == "lt":
            return value < argument
        if operator == "lte":
            return value <= argument
    except TypeError:
        return False
    raise ValueError(f"unknown operator {operator}")


RULE_WORDS = {
    "equals": "be {}",
    "not_equals": "not be {}",
    "in": "be one of {}",
    "not_in": "not be one of {}",
    "in_ci": "be one of {}",
    "present": "be recorded",
    "gt": "be greater than {}",
    "gte": "be at least {}",
    "lt": "be below {}",
    "lte": "be at most {}",
}


def _rule_text(operator: str, argument: Any) -> str:
    shown = ", ".join(map(_shown, argument)) if isinstance(argument, list) else _shown(argument)
    return RULE_WORDS[operator].format(shown)


def _shown(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None or value == "":
        return "empty"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def row_matches(condition: RowCondition | None, row: dict) -> bool:
    if condition is None:
        return True
    if condition.op == "column":
        return _compare(condition.operator, column_value(row, condition.column), condition.argument)
    if condition.op == "all":
        return all(row_matches(c, row) for c in condition.children)
    if condition.op == "any":
        return any(row_matches(c, row) for c in condition.children)
    return not row_matches(condition.children[0], row)


# --- Evaluating one subject --------------------------------------------------------------------------------


@dataclass
class _Outcome:
    status: str  # satisfied | missing | invalid
    value: Any = None
    missing: list[tuple[str, str]] = field(default_factory=list)  # (field path, label)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field path, sentence)


class _Context:
    """One subject's inputs, with `administration` bound for per-administration study items."""

    def __init__(self, inputs: Inputs, administration: dict | None = None):
        self.inputs = inputs
        self.sources = dict(inputs.sources)
        if administration is not None:
            self.sources["administration"] = administration

    def resolve(self, path: str) -> Any:
        source, column = path.split(".", 1)
        row = self.sources.get(source)
        return None if row is None else column_value(row, column)

    def rows(self, collection: str) -> list[dict]:
        return self.inputs.collections.get(collection, [])

    def holds(self, condition: Condition) -> bool:
        if condition.op == "true":
            return True
        if condition.op == "field":
            return _compare(condition.operator, self.resolve(condition.path), condition.argument)
        if condition.op == "rows":
            return any(row_matches(condition.where, row) for row in self.rows(condition.collection))
        if condition.op == "all":
            return all(self.holds(c) for c in condition.children)
        if condition.op == "any":
            return any(self.holds(c) for c in condition.children)
        return not self.holds(condition.children[0])


def column_value(row: dict, column: str) -> Any:
    """A row's value for a field name; foreign keys are loaded under their column (priming -> priming_id)."""
    if column in row:
        return row[column]
    return row.get(f"{column}_id")


def field_path(path: str) -> str:
    """A checklist path (donor.species) as the model field path from the subject (passage.cell_line.donor.species)."""
    source, column = path.split(".", 1)
    return SOURCE_PATHS[source][0] + column


def _describe(context: _Context, path: str) -> str:
    source = path.split(".", 1)[0]
    row = context.sources.get(source)
    noun = SOURCE_PATHS[source][1]
    if row is None:
        return f"no {noun} is linked"
    name = row.get("code") or row.get("name") or row.get("title") or row.get("group")
    if source == "passage":
        name = f"P{row.get('number')}"
    return f"on the {noun} {name}" if name else f"on the {noun}"


def _row_summary(requirement: Requirement, row: dict) -> dict:
    columns = ["id"]
    if requirement.key:
        columns.append(requirement.key)
    for column in ("assay", "analyte", "kind", "agent", "marker", "lineage", "test", "role", "code"):
        if column in row and column not in columns:
            columns.append(column)
    columns += [f.name for f in requirement.fields if f.name not in columns]
    return {column: jsonable(column_value(row, column)) for column in columns}


def _row_missing_fields(requirement: Requirement, row: dict) -> list[str]:
    return [
        f.label
        for f in requirement.fields
        if (f.when is None or row_matches(f.when, row)) and not is_present(column_value(row, f.name))
    ]


def _evaluate_rows(requirement: Requirement, context: _Context) -> _Outcome:
    path = COLLECTION_PATHS[requirement.collection]
    rows = [row for row in context.rows(requirement.collection) if row_matches(requirement.where, row)]
    value = [_row_summary(requirement, row) for row in rows[:SHOWN_ROWS]]
    if requirement.none:
        if not rows:
            return _Outcome("satisfied", value)
        return _Outcome("invalid", value, problems=[(path, f"{requirement.label}: {len(rows)} found")])
    if requirement.groups:
        missing, invalid = [], []
        for group in requirement.groups:
            in_group = [r for r in rows if _compare("in_ci", r.get(requirement.key), list(group))]
            complete = [r for r in in_group if not _row_missing_fields(requirement, r)]
            if not complete:
                missing.append(" or ".join(group))
            elif requirement.valid is not None and not any(row_matches(requirement.valid, r) for r in complete):
                invalid.append(" or ".join(group))
        if missing:
            return _Outcome("missing", value, missing=[(path, f"{requirement.label}: {', '.join(missing)}")])
        if invalid:
            return _Outcome(
                "invalid", value, problems=[(path, f"{requirement.label}: none valid for {', '.join(invalid)}")]
            )
        return _Outcome("satisfied", value)
    if not rows:
        return _Outcome("missing", value, missing=[(path, requirement.label)])
    incomplete = [(row, _row_missing_fields(requirement, row)) for row in rows]
    incomplete = [(row, fields) for row, fields in incomplete if fields]
    complete = [row for row in rows if all(row is not r for r, _ in incomplete)]
    if (requirement.each and incomplete) or not complete:
        row, fields = incomplete[0]
        return _Outcome(
            "missing", value, missing=[(f"{path}[{row['id']}]", f"{requirement.label}: {', '.join(fields)}")]
        )
    if requirement.valid is not None:
        valid = [row for row in complete if row_matches(requirement.valid, row)]
        if (requirement.each and len(valid) < len(complete)) or not valid:
            return _Outcome(
                "invalid", value, problems=[(path, f"{requirement.label}: the recorded rows do not qualify")]
            )
    return _Outcome("satisfied", value)


def _evaluate_field(requirement: Requirement, context: _Context) -> _Outcome:
    value = context.resolve(requirement.path)
    path = field_path(requirement.path)
    if not is_present(value, requirement.absent):
        where = _describe(context, requirement.path)
        return _Outcome("missing", jsonable(value), missing=[(path, f"{requirement.label} ({where}, field '{path}')")])
    if requirement.rule is not None and not _compare(requirement.rule[0], value, requirement.rule[1]):
        operator, argument = requirement.rule
        sentence = f"{requirement.label} is {_shown(value)}; it must {_rule_text(operator, argument)}"
        return _Outcome("invalid", jsonable(value), problems=[(path, sentence)])
    return _Outcome("satisfied", jsonable(value))


def evaluate_requirement(requirement: Requirement, context: _Context) -> _Outcome:
    if requirement.kind == "field":
        return _evaluate_field(requirement, context)
    if requirement.kind == "rows":
        return _evaluate_rows(requirement, context)
    if requirement.kind == "compute":
        value, missing = COMPUTED[requirement.computation](context.inputs)
        if missing:
            return _Outcome("missing", None, missing=missing)
        return _Outcome("satisfied", jsonable(value))
    outcomes = [_evaluate_all(alternative, context) for alternative in requirement.alternatives]
    for outcome in outcomes:
        if outcome.status == "satisfied":
            return outcome
    invalid = next((o for o in outcomes if o.status == "invalid"), None)
    if invalid is not None:
        return invalid
    first = outcomes[0].missing[0][0] if outcomes[0].missing else ""
    return _Outcome("missing", [o.value for o in outcomes], missing=[(first, requirement.label)])


def _evaluate_all(requirements: tuple[Requirement, ...], context: _Context) -> _Outcome:
    combined = _Outcome("satisfied", [])
    for requirement in requirements:
        if not context.holds(requirement.when):
            continue
        outcome = evaluate_requirement(requirement, context)
        combined.value.append(outcome.value)
        combined.missing += outcome.missing
        combined.problems += outcome.problems
    if combined.missing:
        combined.status = "missing"
    elif combined.problems:
        combined.status = "invalid"
    if len(combined.value) == 1:
        combined.value = combined.value[0]
    return combined


def evaluate_item(item: Item, context: _Context, subject: str = "") -> ItemResult:
    level = item.level
    if not context.holds(item.when):
        if item.otherwise is None:
            why = f" (only for {item.when_text})" if item.when_text else ""
            return ItemResult(
                item_id=item.item_id,
                category=item.category,
                level=item.level,
                status="not_applicable",
                message=f"Not applicable{why}.",
                field="",
                label=item.label,
                subject=subject,
            )
        level = item.otherwise
    values: dict[str, Any] = {}
    missing: list[tuple[str, str]] = []
    problems: list[tuple[str, str]] = []
    warnings: list[str] = []
    first_path = ""
    for requirement in item.requirements:
        if not context.holds(requirement.when):
            continue
        outcome = evaluate_requirement(requirement, context)
        values[requirement.label] = outcome.value
        if not first_path:
            first_path = field_path(requirement.path) if requirement.kind == "field" else ""
        if requirement.advisory:
            if outcome.status == "missing":
                warnings.append(f"Recommended: {requirement.label}.")
            elif outcome.status == "invalid":
                warnings.append(f"Check: {'; '.join(sentence for _, sentence in outcome.problems)}.")
            continue
        missing += outcome.missing
        problems += outcome.problems
    if missing:
        status = "missing"
        message = f"{item.message} Missing: {'; '.join(label for _, label in missing)}."
        path = missing[0][0]
    elif problems:
        status = "invalid"
        message = f"{item.message} Invalid: {'; '.join(sentence for _, sentence in problems)}."
        path = problems[0][0]
    else:
        status = "satisfied"
        message = "Recorded."
        path = first_path
    if warnings:
        message = f"{message} {' '.join(warnings)}"
    value = next(iter(values.values())) if len(values) == 1 else values
    return ItemResult(
        item_id=item.item_id,
        category=item.category,
        level=level,
        status=status,
        message=message,
        field=path,
        label=item.label,
        value=jsonable(value),
        entity=_entity(item, path, context.inputs.kind),
        subject=subject,
        warnings=warnings,
    )


def _entity(item: Item, path: str, kind: str) -> str:
    """Which record holds the field: a source (donor, priming…) or a collection (qc_results…)."""
    if item.per == "administration":
        return "administration"
    head = path.split("[", 1)[0]
    for collection, collection_path in COLLECTION_PATHS.items():
        if head == collection_path:
            return collection
    for source, (prefix, _noun) in sorted(SOURCE_PATHS.items(), key=lambda kv: -len(kv[1][0])):
        if prefix and head.startswith(prefix) and "." not in head.removeprefix(prefix):
            return source
    return kind


# --- Score -------------------------------------------------------------------------------------------------


def score(results: list[ItemResult], weights: dict[str, int]) -> float:
    applicable = [r for r in results if r.status != "not_applicable"]
    total = sum(weights[r.level] for r in applicable)
    if total == 0:
        return 100.0
    earned = sum(weights[r.level] for r in applicable if r.status == "satisfied")
    return round(100.0 * earned / total, 1)


def _scores(checklist: Checklist, scope: str, results: list[ItemResult]) -> tuple[float, dict[str, float]]:
    by_category = {
        c.category_id: score([r for r in results if r.category == c.category_id], checklist.weights)
        for c in checklist.categories_for(scope)
    }
    return score(results, checklist.weights), by_category


# --- Gates -------------------------------------------------------------------------------------------------


def _latest_by_marker(rows: list[dict]) -> tuple[dict[str, dict], set[str]]:
    """The latest unprimed measurement per marker, and the markers measured only on IFN-γ-primed cells."""

    def order(row: dict):
        return (row["measured_on"] or dt.date.min, row["passage_number"] or 0, row["id"])

    latest: dict[str, dict] = {}
    primed_only: set[str] = set()
    for row in sorted(rows, key=order):
        if row["primed_with_ifng"]:
            primed_only.add(row["marker"])
            continue
        latest[row["marker"]] = row
    return latest, primed_only - set(latest)


def _gate_isct(gate: Gate, context: _Context) -> tuple[bool, str, bool, Any]:
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


def _gate_no_rows(gate: Gate, context: _Context) -> tuple[bool, str, bool, Any]:
    found = []
    for spec in gate.rows:
        for row in context.rows(spec.collection):
            if row_matches(spec.where, row):
                found.append((spec, row))
    if not found:
        return True, "No failing result recorded.", False, []
    details = "; ".join(
        f"{spec.label} ({COLLECTION_PATHS[spec.collection]} #{row['id']}"
        + (f", {row['performed_on']:%Y-%m-%d}" if isinstance(row.get("performed_on"), dt.date) else "")
        + ")"
        for spec, row in found
    )
    return False, f"{gate.message} Found: {details}.", False, [row["id"] for _, row in found]


def _gate_endotoxin(gate: Gate, context: _Context) -> tuple[bool, str, bool, Any]:
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
        if administration["route"] in skipped or not administration["body_weight_g"]:
            continue
        k = float(limits.get(administration["route"], limits["default"]))
        dose = eu_per_ml * administration["volume_ul"] / 1000 / (administration["body_weight_g"] / 1000)
        judged.append({"administration": administration["id"], "eu_per_kg": round(dose, 4), "limit": k})
        if dose > k:
            failures.append(
                f"administration #{administration['id']} ({administration['route']}): {dose:.3g} EU/kg > {k:g} EU/kg"
            )
    value = {"eu_per_ml": eu_per_ml, "administrations": judged}
    if failures:
        return False, f"{gate.message} {'; '.join(failures)}.", False, value
    if not judged:
        return True, "Not judged: no parenteral administration with a body weight yet.", False, value
    return True, f"{eu_per_ml:g} EU/mL stays below K in every administration.", False, value


GATE_KINDS = {"isct_phenotype": _gate_isct, "no_rows": _gate_no_rows, "endotoxin_limit": _gate_endotoxin}


def evaluate_gates(checklist: Checklist, context: _Context) -> list[GateResult]:
    blocking = context.holds(checklist.gate_blocking_when)
    results = []
    for gate in checklist.gates:
        if not context.holds(gate.when):
            results.append(
                GateResult(
                    gate_id=gate.gate_id, passed=True, message="Not applicable.", number=gate.number, label=gate.label
                )
            )
            continue
        passed, message, flagged, value = GATE_KINDS[gate.kind](gate, context)
        if not passed and not blocking:
            message += f" Release is not blocked because not {checklist.gate_blocking_text}."
        results.append(
            GateResult(
                gate_id=gate.gate_id,
                passed=passed,
                message=message,
                number=gate.number,
                label=gate.label,
                blocking=not passed and blocking,
                flagged=flagged,
                value=jsonable(value),
            )
        )
    return results


# --- Fingerprint and evaluation ----------------------------------------------------------------------------


def fingerprint(checklist: Checklist, inputs: Inputs) -> str:
    payload = {
        "checklist": checklist.version,
        "definition": checklist.digest,
        "subject": [inputs.kind, inputs.subject_id],
        "inputs": jsonable(inputs.snapshot()),
    }
    encoded = json.dumps(payload, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(encoded.encode("utf-8")).hexdigest()


def evaluate_batch_inputs(checklist: Checklist, inputs: Inputs) -> Evaluation:
    context = _Context(inputs)
    results = [evaluate_item(item, context) for item in checklist.items_for("batch")]
    total, by_category = _scores(checklist, "batch", results)
    return Evaluation(
        version=checklist.version,
        score=total,
        score_by_category=by_category,
        items=results,
        gates=evaluate_gates(checklist, context),
        fingerprint=fingerprint(checklist, inputs),
        subject_kind="batch",
        subject_id=inputs.subject_id,
        lab_id=inputs.lab_id,
    )


def evaluate_study_inputs(checklist: Checklist, inputs: Inputs) -> Evaluation:
    study_context = _Context(inputs)
    administrations = inputs.collections["administrations"]
    results: list[ItemResult] = []
    for item in checklist.items_for("study"):
        if item.per != "administration":
            results.append(evaluate_item(item, study_context))
            continue
        if not administrations:
            results.append(
                ItemResult(
                    item_id=item.item_id,
                    category=item.category,
                    level=item.level,
                    status="missing",
                    message=f"{item.message} Missing: an administration of a batch in this study.",
                    field="administrations",
                    label=item.label,
                    entity="administration",
                )
            )
            continue
        for administration in administrations:
            subject = (
                f"administration #{administration['id']} ({administration['group']}, {administration['batch_code']})"
            )
            results.append(evaluate_item(item, _Context(inputs, administration), subject=subject))
    total, by_category = _scores(checklist, "study", results)
    return Evaluation(
        version=checklist.version,
        score=total,
        score_by_category=by_category,
        items=results,
        gates=[],
        fingerprint=fingerprint(checklist, inputs),
        subject_kind="study",
        subject_id=inputs.subject_id,
        lab_id=inputs.lab_id,
    )
