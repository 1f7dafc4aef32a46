"""A frozen copy of the checklist report packing as it stood at fca8323.

Migration 0016 turns the reports of that time into packed rows, and back when reversed. It must keep doing
exactly that whatever `batches.checklist.storage` and `batches.checklist.results` become later, so it reads
this copy, not the live modules (Django's advice for code a migration runs). The migration loader skips
modules whose name starts with "_". Do not edit: a later format needs a migration and a copy of its own.
"""

import datetime as dt
import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import dataclass, field, fields
from typing import Any

from django.db import connection

# --- batches/checklist/results.py, as at fca8323 ---


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


def json_default(value: Any) -> Any:
    """For json.dumps: what the encoder does not know (dates, times, decimals) as text."""
    if isinstance(value, dt.datetime | dt.date | dt.time):
        return value.isoformat()
    return str(value)


# --- batches/checklist/storage.py, as at fca8323 ---


STATUS_LETTERS = {"satisfied": "s", "missing": "m", "invalid": "i", "not_applicable": "n"}
STATUS_NAMES = {letter: name for name, letter in STATUS_LETTERS.items()}

# The order the API shows an item's (a gate's) keys in, whatever order jsonb stored them in.
_ORDER = {
    "item_id": [f.name for f in fields(ItemResult)],
    "gate_id": [f.name for f in fields(GateResult)],
}

# What makes an explanation one batch's own: row ids ("aliquots[1321]", "qc_results #753") and the subject's
# code ("on the batch SB-25-001"). They are cut out of the text, kept with the report (`details`), and the
# explanation keeps a placeholder, so "freeze-thaw cycles missing on aliquots[…]" is stored once for all.
PLACEHOLDER = "\u241f"
_ROW_IDS = r"(?<=\[)\d+(?=\])|(?<= #)\d+"
_TEXT_KEYS = ("field", "message")

# The `details` key whose bits (1 << position) mark the values stored in the explanation (ResultPacker).
SHARED = "shared"

_BODIES: dict[int, dict] = {}
_BODIES_LIMIT = 200_000


def _canonical(body: dict) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=json_default)


def digest(body: dict) -> str:
    return hashlib.md5(_canonical(body).encode(), usedforsecurity=False).hexdigest()


_DIGESTS: dict[tuple, str] = {}
_DIGESTS_LIMIT = 100_000


def _body_key(body: dict) -> tuple:
    """A body as a hashable tuple (its keys come in a fixed order; lists of sentences become tuples)."""
    return tuple((key, tuple(value) if isinstance(value, list) else value) for key, value in body.items())


def cached_digest(body: dict) -> str:
    """digest(), remembered: most bodies ("Recorded.", the same missing field) recur in every chunk."""
    try:
        key = _body_key(body)
        known = _DIGESTS.get(key)
    except TypeError:  # something unhashable in the body: no shortcut
        return digest(body)
    if known is None:
        if len(_DIGESTS) >= _DIGESTS_LIMIT:
            _DIGESTS.clear()
        known = _DIGESTS[key] = digest(body)
    return known


_ROW_IDS_PATTERN = re.compile(_ROW_IDS)


def _is_word(char: str) -> bool:
    """What the regular expression `[\\w-]` matches (\\w: str.isalnum() or the underscore)."""
    return char.isalnum() or char in "_-"


def _spans(text: str, code: str | None) -> list[tuple[int, int]]:
    """Where the row ids and the subject's code stand in `text`, as `_ROW_IDS|(?<![\\w-])CODE(?![\\w-])` would
    find them (leftmost first, a row id before the code at the same place), without compiling a pattern per code."""
    spans = (
        [(match.start(), match.end(), 0) for match in _ROW_IDS_PATTERN.finditer(text)]
        if "[" in text or " #" in text
        else []
    )
    if code and len(code) >= 3:
        at = text.find(code)
        while at >= 0:
            end = at + len(code)
            if (at == 0 or not _is_word(text[at - 1])) and (end == len(text) or not _is_word(text[end])):
                spans.append((at, end, 1))
            at = text.find(code, at + 1)
    chosen, position = [], 0
    for start, end, _ in sorted(spans):
        if start >= position:
            chosen.append((start, end))
            position = end
    return chosen


def split(entry: dict, code: str | None = None) -> tuple[dict, object, list[str]]:
    """An item (or gate) dictionary as (explanation body, value, the subject's own tokens cut out of its text)."""
    body = {key: value for key, value in entry.items() if key != "value"}
    tokens: list[str] = []
    for key in _TEXT_KEYS:
        text = body.get(key)
        if isinstance(text, str) and PLACEHOLDER not in text:
            spans = _spans(text, code)
            if spans:
                tokens += [text[start:end] for start, end in spans]
                pieces, position = [], 0
                for start, end in spans:
                    pieces += [text[position:start], PLACEHOLDER]
                    position = end
                body[key] = "".join(pieces) + text[position:]
    return body, entry.get("value"), tokens


def _fill(body: dict, tokens: list[str]) -> dict:
    remaining = iter(tokens)
    filled = dict(body)
    for key in _TEXT_KEYS:
        text = filled.get(key)
        if isinstance(text, str) and PLACEHOLDER in text:
            filled[key] = re.sub(PLACEHOLDER, lambda _: next(remaining, ""), text)
    return filled


def intern(bodies: Iterable[dict], digests: Iterable[str] | None = None) -> dict[str, int]:
    """The explanation id of every body (digest -> id), inserting the new ones: two queries at most.

    `digests`, when given, are the bodies' digests in the same order (already computed)."""
    wanted: dict[str, dict] = {}
    if digests is None:
        for body in bodies:
            wanted.setdefault(cached_digest(body), body)
    else:
        for body, key in zip(bodies, digests, strict=True):
            wanted.setdefault(key, body)
    if not wanted:
        return {}
    ids: dict[str, int] = {}
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT digest, id FROM batches_checklistexplanation WHERE digest = ANY(%s::varchar[])", [list(wanted)]
        )
        ids.update(cursor.fetchall())
        new = sorted(key for key in wanted if key not in ids)
        if new:
            # ON CONFLICT … DO UPDATE would be an update (refused); a no-op conflict returns nothing, so
            # the rows a concurrent check inserted first are read back by the final SELECT.
            cursor.execute(
                "WITH added AS (INSERT INTO batches_checklistexplanation (digest, body, created_at) "
                "SELECT d, b::jsonb, clock_timestamp() FROM unnest(%s::varchar[], %s::text[]) AS t(d, b) "
                "ON CONFLICT (digest) DO NOTHING RETURNING digest, id) "
                "SELECT digest, id FROM added UNION ALL "
                "SELECT digest, id FROM batches_checklistexplanation WHERE digest = ANY(%s::varchar[])",
                [new, [_canonical(wanted[key]) for key in new], new],
            )
            ids.update(cursor.fetchall())
    return ids


def pack_many(reports: list[tuple[list[dict], list[dict], str | None]]) -> list[tuple[str, list[int], list, dict]]:
    """pack() for a chunk of (items, gates, subject code): every explanation interned in one go."""
    parts = [[split(entry, code) for entry in [*items, *gates]] for items, gates, code in reports]
    ids = intern(body for report in parts for body, _, _ in report)
    return [_assemble(items, report, ids) for (items, _, _), report in zip(reports, parts, strict=True)]


_RESULT_KEYS = {cls: tuple(f.name for f in fields(cls) if f.name != "value") for cls in (ItemResult, GateResult)}


def _columns(statuses: str, explanations: list[int], parts: list) -> tuple[str, list[int], list, dict]:
    values = [part[1] for part in parts]
    while values and values[-1] is None:
        values.pop()
    details = {str(index): part[2] for index, part in enumerate(parts) if part[2]}
    shared = sum(1 << index for index, part in enumerate(parts) if len(part) > 4 and part[4])
    if shared:
        details[SHARED] = shared  # a bit per position: a few bytes where a list would take a hundred
    return statuses, explanations, values, details


def _assemble(items: list[dict], parts: list, ids: dict[str, int]) -> tuple[str, list[int], list, dict]:
    statuses = "".join(STATUS_LETTERS.get(item.get("status", ""), "?") for item in items)
    return _columns(statuses, [ids[cached_digest(body)] for body, _, _ in parts], parts)


def load_bodies(ids: Iterable[int]) -> dict[int, dict]:
    """Explanation bodies by id, from this process's cache or in one query."""
    missing = sorted({pk for pk in ids if pk not in _BODIES})
    if missing:
        if len(_BODIES) + len(missing) > _BODIES_LIMIT:
            _BODIES.clear()
        with connection.cursor() as cursor:
            cursor.execute("SELECT id, body FROM batches_checklistexplanation WHERE id = ANY(%s)", [missing])
            for pk, body in cursor.fetchall():
                _BODIES[pk] = json.loads(body) if isinstance(body, str) else body
    return _BODIES


def unpack(
    statuses: str, explanations: list[int], values: list, bodies: dict[int, dict], details: dict | None = None
) -> tuple[list, list]:
    entries = []
    shared = details.get(SHARED, 0) if details else 0
    for index, pk in enumerate(explanations):
        body = bodies[pk]
        if details and str(index) in details:
            body = _fill(body, details[str(index)])
        if shared >> index & 1:  # stored with the explanation
            value = body["value"]
        elif index < len(values):
            value = values[index]
        else:
            value = None
        order = _ORDER["item_id"] if "item_id" in body else _ORDER["gate_id"] if "gate_id" in body else ()
        entry = {key: value if key == "value" else body[key] for key in order if key in body or key == "value"}
        entry.update((key, item) for key, item in body.items() if key not in entry)
        entries.append(entry)
    count = len(statuses)
    return entries[:count], entries[count:]


