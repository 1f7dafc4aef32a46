"""What an evaluation says: item results, gate results, and the evaluation of one subject."""

import datetime as dt
from dataclasses import dataclass, field, fields
from typing import Any


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
    def blocks_release(self) -> bool:
        return self.level in ("R", "C") and self.status in ("missing", "invalid")

    def as_dict(self) -> dict:
        # Shallow on purpose: values are JSON-ready already, and dataclasses.asdict deep-copies them.
        return {name: getattr(self, name) for name in _ITEM_FIELDS}


_ITEM_FIELDS = tuple(f.name for f in fields(ItemResult))


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
        # Shallow on purpose: values are JSON-ready already, and dataclasses.asdict deep-copies them.
        return {name: getattr(self, name) for name in _GATE_FIELDS}


_GATE_FIELDS = tuple(f.name for f in fields(GateResult))


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
        problems = [f"Required: {r.label}. {r.message}" for r in self.items if r.blocks_release]
        problems += [f"Release gate {g.number}, {g.label}: {g.message}" for g in self.gates if g.blocking]
        return problems


_PLAIN = (str, int, bool, type(None))


def scalar(value: Any) -> Any:
    """One database value as JSON: dates and times as ISO text, the rest as they are."""
    if isinstance(value, _PLAIN):
        return value
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return jsonable(value)


def jsonable(value: Any) -> Any:
    if isinstance(value, _PLAIN):
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


def json_default(value: Any) -> Any:
    """For json.dumps: what the encoder does not know (dates, times, decimals) as text."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)
