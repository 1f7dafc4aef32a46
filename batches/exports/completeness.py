"""The checklist's verdict on the exported records, as plain data the methods text and its JSON carry."""

import re
from collections.abc import Iterable

from batches.checklist import load_checklist
from batches.models import SecretomeBatch, Study
from batches.selectors.checklist import checklist_current_evaluations

# The checklist names rows by database id ("qc_results #753", "processing_steps[348]"); ids differ between
# databases holding the same records, so they are dropped to keep the export reproducible.
_ROW_ID = re.compile(r" #\d+|\[\d+\]")

# Required items are flagged in the text; recommended ones only count toward the score.
FLAGGED_LEVELS = {"R", "C"}
FLAGGED_STATUSES = {"missing", "invalid"}


def _value(value):
    """Keep JSON-native values only, so the snapshot stays serialisable and stable."""
    if value is None or isinstance(value, bool | int | float | str):
        return value
    if isinstance(value, list | tuple):
        return [_value(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _value(v) for k, v in value.items()}
    return str(value)


def _stable(text: str) -> str:
    return _ROW_ID.sub("", text or "")


def _item(item) -> dict:
    return {
        "item_id": item.item_id,
        "category": item.category,
        "level": item.level,
        "status": item.status,
        "label": item.label,
        "field": _stable(item.field),
    }


def _gate(gate) -> dict:
    return {
        "gate_id": gate.gate_id,
        "number": gate.number,
        "label": gate.label,
        "passed": gate.passed,
        "blocking": gate.blocking,
        "flagged": gate.flagged,
        "message": _stable(gate.message),
    }


def evaluation_snapshot(evaluation) -> dict:
    """Score, per-category scores, the flagged items and the gates of one evaluation.

    The checklist's own fingerprint names database ids, so it stays out: the export's fingerprint is
    computed over this verdict and the records, which are spelled with natural keys only.
    """
    by_category = evaluation.score_by_category
    flagged = {
        (item.item_id, item.status): _item(item)
        for item in evaluation.items
        if item.level in FLAGGED_LEVELS and item.status in FLAGGED_STATUSES
    }
    return {
        "version": evaluation.version,
        "score": _value(evaluation.score),
        "score_by_category": [
            {
                "category": category.category_id,
                "label": category.label,
                "score": _value(by_category[category.category_id]),
            }
            for category in load_checklist(evaluation.version).categories
            if category.category_id in by_category
        ],
        "flagged": [flagged[key] for key in sorted(flagged)],
        "gates": sorted((_gate(gate) for gate in evaluation.gates), key=lambda g: (g["number"], g["gate_id"])),
    }


def completeness(*, batches: Iterable[SecretomeBatch], study: Study | None = None) -> dict:
    """Evaluate every exported batch (in one bulk load) and the study against the active checklist."""
    batches = list(batches)
    # Current reports where they stand for the records as stored now; the rest evaluated in one bulk load.
    evaluations, studies = checklist_current_evaluations(
        batch_ids=[batch.pk for batch in batches], study_ids=[study.pk] if study is not None else []
    )
    per_batch = {batch.code: evaluation_snapshot(evaluations[batch.pk]) for batch in batches}
    study_snapshot = evaluation_snapshot(studies[study.pk]) if study is not None else None
    versions = {snap["version"] for snap in per_batch.values()}
    if study_snapshot:
        versions.add(study_snapshot["version"])
    return {"version": ", ".join(sorted(versions)), "batches": dict(sorted(per_batch.items())), "study": study_snapshot}
