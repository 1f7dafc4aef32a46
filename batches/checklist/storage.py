"""How reports are stored: a status letter per item, a shared explanation per item and gate, and the values.

An item as the API shows it is a dictionary (item_id, category, level, status, message, field, label,
value, entity, subject, warnings). Everything but the value is the same for most batches ("Recorded.",
or the same missing field), so it is stored once in ChecklistExplanation, keyed by the MD5 of its
canonical JSON, and a report keeps the explanation's id. The value stays with the report.

Explanations are insert-only, so an id always means the same body: this process keeps the bodies it has
read (`_BODIES`), and reading reports costs one query for the explanations it has not seen yet.
"""

import hashlib
import json
import re
from collections.abc import Iterable
from dataclasses import fields

from django.db import connection

from batches.checklist.results import GateResult, ItemResult, json_default

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

_BODIES: dict[int, dict] = {}
_BODIES_LIMIT = 200_000


def _canonical(body: dict) -> str:
    return json.dumps(body, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=json_default)


def digest(body: dict) -> str:
    return hashlib.md5(_canonical(body).encode(), usedforsecurity=False).hexdigest()


def _pattern(code: str | None) -> re.Pattern:
    if code and len(code) >= 3:
        return re.compile(rf"{_ROW_IDS}|(?<![\w-]){re.escape(code)}(?![\w-])")
    return re.compile(_ROW_IDS)


def split(entry: dict, code: str | None = None) -> tuple[dict, object, list[str]]:
    """An item (or gate) dictionary as (explanation body, value, the subject's own tokens cut out of its text)."""
    body = {key: value for key, value in entry.items() if key != "value"}
    tokens: list[str] = []
    pattern = _pattern(code)
    for key in _TEXT_KEYS:
        text = body.get(key)
        if isinstance(text, str) and PLACEHOLDER not in text:
            found = pattern.findall(text)
            if found:
                tokens += found
                body[key] = pattern.sub(PLACEHOLDER, text)
    return body, entry.get("value"), tokens


def _fill(body: dict, tokens: list[str]) -> dict:
    remaining = iter(tokens)
    filled = dict(body)
    for key in _TEXT_KEYS:
        text = filled.get(key)
        if isinstance(text, str) and PLACEHOLDER in text:
            filled[key] = re.sub(PLACEHOLDER, lambda _: next(remaining, ""), text)
    return filled


def intern(bodies: Iterable[dict]) -> dict[str, int]:
    """The explanation id of every body (digest -> id), inserting the new ones: two queries at most."""
    wanted: dict[str, dict] = {}
    for body in bodies:
        wanted.setdefault(digest(body), body)
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


def pack(items: list[dict], gates: list[dict], code: str | None = None) -> tuple[str, list[int], list, dict]:
    """(statuses, explanation ids, values, details) of one report."""
    return pack_many([(items, gates, code)])[0]


def _assemble(items: list[dict], parts: list, ids: dict[str, int]) -> tuple[str, list[int], list, dict]:
    statuses = "".join(STATUS_LETTERS.get(item.get("status", ""), "?") for item in items)
    explanations = [ids[digest(body)] for body, _, _ in parts]
    values = [value for _, value, _ in parts]
    while values and values[-1] is None:
        values.pop()
    details = {str(index): tokens for index, (_, _, tokens) in enumerate(parts) if tokens}
    return statuses, explanations, values, details


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
    for index, pk in enumerate(explanations):
        body = bodies[pk]
        if details and str(index) in details:
            body = _fill(body, details[str(index)])
        value = values[index] if index < len(values) else None
        order = _ORDER["item_id"] if "item_id" in body else _ORDER["gate_id"] if "gate_id" in body else ()
        entry = {key: value if key == "value" else body[key] for key in order if key in body or key == "value"}
        entry.update((key, item) for key, item in body.items() if key not in entry)
        entries.append(entry)
    count = len(statuses)
    return entries[:count], entries[count:]


def unpack_reports(reports: Iterable) -> None:
    """Give every report its `items` and `gates` back, reading the explanations in one query."""
    reports = [r for r in reports if getattr(r, "_unpacked", None) is None]
    if not reports:
        return
    bodies = load_bodies(pk for report in reports for pk in report.explanations)
    for report in reports:
        report._unpacked = unpack(report.statuses, report.explanations, report.values, bodies, report.details)
