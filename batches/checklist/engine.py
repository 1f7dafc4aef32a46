"""One engine for every checklist version: requirements, items, score and fingerprint (gates in gates.py)."""

import hashlib
import io
import pickle
from dataclasses import dataclass, field
from typing import Any

from batches.checklist.computed import COMPUTED
from batches.checklist.context import (
    COLLECTION_PATHS,
    SOURCE_PATHS,
    Context,
    column_value,
    compare,
    describe,
    field_path,
    is_present,
    row_matches,
    rule_text,
    shown,
)
from batches.checklist.definition import Checklist, Item, Requirement
from batches.checklist.gates import evaluate_gate, evaluate_gates
from batches.checklist.inputs import Inputs
from batches.checklist.memo import ChunkMemo
from batches.checklist.results import Evaluation, GateResult, ItemResult, scalar

__all__ = ["Evaluation", "GateResult", "ItemResult", "evaluate_batch_inputs", "evaluate_study_inputs", "fingerprint"]

SHOWN_ROWS = 12


@dataclass
class _Outcome:
    status: str  # satisfied | missing | invalid
    value: Any = None
    missing: list[tuple[str, str]] = field(default_factory=list)  # (field path, label)
    problems: list[tuple[str, str]] = field(default_factory=list)  # (field path, sentence)


def _row_summary(requirement: Requirement, row: dict) -> dict:
    columns = ["id"]
    if requirement.key:
        columns.append(requirement.key)
    for column in ("assay", "analyte", "kind", "agent", "marker", "lineage", "test", "role", "code"):
        if column in row and column not in columns:
            columns.append(column)
    columns += [f.name for f in requirement.fields if f.name not in columns]
    return {column: scalar(column_value(row, column)) for column in columns}


def _row_missing_fields(requirement: Requirement, row: dict) -> list[str]:
    return [
        f.label
        for f in requirement.fields
        if (f.when is None or row_matches(f.when, row)) and not is_present(column_value(row, f.name))
    ]


def _evaluate_rows(requirement: Requirement, context: Context) -> _Outcome:
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
            folded = {name.casefold() for name in group}
            in_group = [r for r in rows if str(r.get(requirement.key) or "").casefold() in folded]
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


def _evaluate_field(requirement: Requirement, context: Context) -> _Outcome:
    value = context.resolve(requirement.path)
    path = field_path(requirement.path)
    if not is_present(value, requirement.absent):
        where = describe(context, requirement.path)
        return _Outcome("missing", scalar(value), missing=[(path, f"{requirement.label} ({where})")])
    if requirement.rule is not None and not compare(requirement.rule[0], value, requirement.rule[1]):
        operator, argument = requirement.rule
        sentence = f"{requirement.label} is {shown(value)}; it must {rule_text(operator, argument)}"
        return _Outcome("invalid", scalar(value), problems=[(path, sentence)])
    return _Outcome("satisfied", scalar(value))


def evaluate_requirement(requirement: Requirement, context: Context) -> _Outcome:
    if requirement.kind == "field":
        return _evaluate_field(requirement, context)
    if requirement.kind == "rows":
        return _evaluate_rows(requirement, context)
    if requirement.kind == "compute":
        value, missing = COMPUTED[requirement.computation](context.inputs)
        if missing:
            return _Outcome("missing", None, missing=missing)
        return _Outcome("satisfied", value)
    outcomes = [_evaluate_all(alternative, context) for alternative in requirement.alternatives]
    for outcome in outcomes:
        if outcome.status == "satisfied":
            return outcome
    invalid = next((o for o in outcomes if o.status == "invalid"), None)
    if invalid is not None:
        return invalid
    first = outcomes[0].missing[0][0] if outcomes[0].missing else ""
    return _Outcome("missing", [o.value for o in outcomes], missing=[(first, requirement.label)])


def _evaluate_all(requirements: tuple[Requirement, ...], context: Context) -> _Outcome:
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


def evaluate_item(item: Item, context: Context, subject: str = "") -> ItemResult:
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
        value=value,
        entity=_entity(item, path, context.inputs.kind),
        subject=subject,
        warnings=warnings,
    )


_COLLECTION_BY_PATH = {path: collection for collection, path in COLLECTION_PATHS.items()}
_SOURCE_PREFIXES = sorted(
    ((prefix, source) for source, (prefix, _noun) in SOURCE_PATHS.items() if prefix), key=lambda p: -len(p[0])
)


def _entity(item: Item, path: str, kind: str) -> str:
    """Which record holds the field: a source (donor, priming…) or a collection (qc_results…)."""
    if item.per == "administration":
        return "administration"
    head = path.split("[", 1)[0]
    if head in _COLLECTION_BY_PATH:
        return _COLLECTION_BY_PATH[head]
    for prefix, source in _SOURCE_PREFIXES:
        if head.startswith(prefix) and "." not in head.removeprefix(prefix):
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


# --- Fingerprint and evaluation ----------------------------------------------------------------------------


# A fingerprint is the SHA-256 of the inputs' canonical bytes: a scheme tag, then the pickles (protocol 5,
# fast mode: no memo, so a value shared by two rows is written out twice, and equal values always give the
# same bytes, whichever objects hold them) of (checklist version, definition digest, subject kind, subject
# id), then of each source's name and row, then of each collection's name and rows, in the loader's order
# (fixed by the code). Pickles delimit themselves, so the concatenation is unambiguous; they keep types apart
# that JSON text would not (1 / 1.0 / True, a date / its ISO string). Pickling is ~2x faster than JSON
# encoding, and encoding each batch's own rows was most of what the nightly sweep did beyond loading them.
# Reports fingerprinted before this scheme (JSON text, "fingerprint/1") no longer match: the first sweep after
# the upgrade checks every subject once more and writes its report again under the new fingerprint.
FINGERPRINT_SCHEME = b"lims-checklist-fingerprint/2\n"


class _Pickles:
    """Canonical bytes of a value: a fast-mode pickler, kept for many values (no memo, nothing carried over)."""

    def __init__(self):
        self._buffer = io.BytesIO()
        self._pickler = pickle.Pickler(self._buffer, protocol=5)
        self._pickler.fast = True

    def __call__(self, value) -> bytes:
        self._buffer.seek(0)
        self._buffer.truncate()
        self._pickler.dump(value)
        return self._buffer.getvalue()


def fingerprint(checklist: Checklist, inputs: Inputs) -> str:
    """The fingerprint of one subject's inputs, every piece pickled afresh (Fingerprints does it for a chunk)."""
    pickled = _Pickles()
    parts = [FINGERPRINT_SCHEME, pickled((checklist.version, checklist.digest, inputs.kind, inputs.subject_id))]
    for name, row in inputs.sources.items():
        parts += (pickled(name), pickled(row))
    for name, rows in inputs.collections.items():
        parts += (pickled(name), pickled(rows))
    return hashlib.sha256(b"".join(parts)).hexdigest()


class Fingerprints:
    """fingerprint() for the subjects of one chunk: a row, or a list of rows, shared by several subjects (the
    loader hands the same objects to every batch of a cell line) is pickled once, and so are the names. The
    bytes hashed are the same as fingerprint() puts together."""

    def __init__(self, checklist: Checklist):
        self._pickled = _Pickles()
        self._head = (checklist.version, checklist.digest)
        self._names: dict[str, bytes] = {}
        self._encoded: dict[object, tuple[object, bytes]] = {}

    def _name(self, name: str) -> bytes:
        known = self._names.get(name)
        if known is None:
            known = self._names[name] = self._pickled(name)
        return known

    def _source(self, row) -> bytes:
        known = self._encoded.get(id(row))
        if known is None:
            known = self._encoded[id(row)] = (row, self._pickled(row))  # the row is kept, so its id stays its own
        return known[1]

    def _rows(self, rows: list) -> bytes:
        key = tuple(map(id, rows))  # the same rows, in a list of their own or not (a passage chain)
        known = self._encoded.get(key)
        if known is None:
            known = self._encoded[key] = (rows, self._pickled(rows))
        return known[1]

    def __call__(self, inputs: Inputs) -> str:
        parts = [FINGERPRINT_SCHEME, self._pickled((*self._head, inputs.kind, inputs.subject_id))]
        for name, row in inputs.sources.items():
            parts += (self._name(name), self._source(row))
        for name, rows in inputs.collections.items():
            parts += (self._name(name), self._rows(rows))
        return hashlib.sha256(b"".join(parts)).hexdigest()


def evaluate_batch_inputs(
    checklist: Checklist, inputs: Inputs, *, known_fingerprint: str = "", memo: ChunkMemo | None = None
) -> Evaluation:
    """One batch's evaluation; with a chunk's `memo`, what another batch of the chunk read alike is not judged again."""
    context = Context(inputs)
    if memo is None:
        results = [evaluate_item(item, context) for item in checklist.items_for("batch")]
        gates = evaluate_gates(checklist, context)
    else:
        results = [
            memo.item(item, context, lambda item=item: evaluate_item(item, context))
            for item in checklist.items_for("batch")
        ]
        blocking = context.holds(checklist.gate_blocking_when)
        gates = [
            memo.gate(gate, context, lambda gate=gate: evaluate_gate(checklist, gate, context, blocking))
            for gate in checklist.gates
        ]
    if memo is None:
        total, by_category = _scores(checklist, "batch", results)
    else:
        total, by_category = memo.scores(results, lambda: _scores(checklist, "batch", results))
    return Evaluation(
        version=checklist.version,
        score=total,
        score_by_category=by_category,
        items=results,
        gates=gates,
        fingerprint=known_fingerprint or fingerprint(checklist, inputs),
        subject_kind="batch",
        subject_id=inputs.subject_id,
        lab_id=inputs.lab_id,
    )


def evaluate_study_inputs(checklist: Checklist, inputs: Inputs, *, known_fingerprint: str = "") -> Evaluation:
    study_context = Context(inputs)
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
            results.append(evaluate_item(item, Context(inputs, administration), subject=subject))
    total, by_category = _scores(checklist, "study", results)
    return Evaluation(
        version=checklist.version,
        score=total,
        score_by_category=by_category,
        items=results,
        gates=[],
        fingerprint=known_fingerprint or fingerprint(checklist, inputs),
        subject_kind="study",
        subject_id=inputs.subject_id,
        lab_id=inputs.lab_id,
    )
