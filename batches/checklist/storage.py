"""How reports are stored: a status letter per item, a shared explanation per item and gate, and the values.

An item as the API shows it is a dictionary (item_id, category, level, status, message, field, label,
value, entity, subject, warnings). Everything but the value is the same for most batches ("Recorded.",
or the same missing field), so it is stored once in ChecklistExplanation, keyed by the MD5 of its
canonical JSON, and a report keeps the explanation's id. The value stays with the report, except a value
read only from records many batches share (the donor, the cell line and its phenotype, the priming): a
sweep stores it in the explanation too, and the report marks its position in the bits of `details["shared"]`.

Explanations are insert-only, so an id always means the same body: this process keeps the bodies it has
read (`_BODIES`), and reading reports costs one query for the explanations it has not seen yet.
"""

import hashlib
import json
import re
import zlib
from collections.abc import Iterable
from dataclasses import fields
from decimal import Decimal

from django.db import connection

from batches.checklist.packed_dictionary import DICTIONARY
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


def pack(items: list[dict], gates: list[dict], code: str | None = None) -> tuple[str, list[int], list, dict]:
    """(statuses, explanation ids, values, details) of one report."""
    return pack_many([(items, gates, code)])[0]


_EXPLANATIONS: dict[tuple, tuple[dict, str]] = {}


def _explanation(result) -> tuple[dict, str]:
    """A result's explanation body (everything but its value) and that body's digest, remembered by content."""
    names = _RESULT_KEYS[type(result)]
    key = (type(result), *(tuple(v) if isinstance(v := getattr(result, n), list) else v for n in names))
    known = _EXPLANATIONS.get(key)
    if known is None:
        if len(_EXPLANATIONS) >= _DIGESTS_LIMIT:
            _EXPLANATIONS.clear()
        body = {name: getattr(result, name) for name in names}
        known = _EXPLANATIONS[key] = (body, digest(body))
    return known


_RESULT_KEYS = {cls: tuple(f.name for f in fields(cls) if f.name != "value") for cls in (ItemResult, GateResult)}


class ResultPacker:
    """pack_many() for a chunk's evaluations, straight from their item and gate results.

    A result object shared by several evaluations (batches.checklist.memo) is split and digested once.
    Its row ids are cut out once; the subject's own code is looked for in its text for every subject,
    and only a text that holds it is split again for that subject.

    The value of an item or gate named in `shared_values` (read from records many batches share: the
    donor, the cell line and its phenotype, the priming; batches.checklist.memo.values_shared) is stored
    in its explanation with the rest of the item, once for all the reports that show it; the report
    marks those positions in the bits of the `details` key SHARED.
    """

    def __init__(self, shared_values: frozenset[str] = frozenset()):
        self.shared_values = shared_values
        self._parts: dict[int, tuple] = {}

    def _part(self, result, code: str | None) -> tuple[dict, object, list[str], str, bool]:
        cached = self._parts.get(id(result))
        if cached is None:
            cached = self._parts[id(result)] = (result, *self._split(result, None))
        parts = cached[1:]
        if code and len(code) >= 3:
            texts = [getattr(result, name, None) for name in _TEXT_KEYS]
            if any(isinstance(text, str) and code in text for text in texts):
                parts = self._split(result, code)
        return parts

    def _split(self, result, code: str | None) -> tuple[dict, object, list[str], str, bool]:
        texts = [getattr(result, key, "") for key in _TEXT_KEYS]
        own = code if code and len(code) >= 3 else None
        if all(
            isinstance(text, str) and "[" not in text and " #" not in text and (own is None or own not in text)
            for text in texts
        ):
            # Nothing of the subject's own in the text (the common case): the explanation is the result
            # without its value, known already when another result said the same.
            body, key = _explanation(result)
            value, tokens = result.value, []
        else:
            body, value, tokens = split(result.as_dict(), code)
            key = None
        name = getattr(result, "item_id", None) or getattr(result, "gate_id", None)
        if value is not None and name in self.shared_values:
            body = {**body, "value": value}
            return body, None, tokens, digest(body), True
        return body, value, tokens, key or cached_digest(body), False

    def pack(self, reports: list[tuple[list, list, str | None]]) -> list[tuple[str, list[int], list, dict]]:
        """(statuses, explanation ids, values, details) of each (item results, gate results, subject code)."""
        parts = [[self._part(result, code) for result in [*items, *gates]] for items, gates, code in reports]
        flat = [part for report in parts for part in report]
        ids = intern((part[0] for part in flat), (part[3] for part in flat))
        packed = []
        for (items, _, _), report in zip(reports, parts, strict=True):
            statuses = "".join(STATUS_LETTERS.get(item.status, "?") for item in items)
            packed.append(_columns(statuses, [ids[part[3]] for part in report], report))
        return packed


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


# --- Values, compressed -------------------------------------------------------------------------------------
#
# A report's values are stored as zlib-compressed compact JSON (ChecklistReport.packed_values). Read back, they
# are exactly what jsonb gave before: object keys in jsonb's order (shorter keys first, then by bytes) and a
# number jsonb prints without a decimal point (a float Python writes as 1e+16) read as an integer, -0.0 as 0.0.

# The first byte says how the rest is encoded. 1: compact JSON, UTF-8, zlib with the preset dictionary of
# batches.checklist.packed_dictionary (the checklist's labels and the row columns: ~600 bytes a report where
# zlib alone leaves ~900, and 5 report rows fit in a page instead of 4).
_PACKED_FORMAT = b"\x01"


def pack_values(values: list) -> bytes:
    text = json.dumps(values, separators=(",", ":"), ensure_ascii=False, allow_nan=False, default=json_default)
    packer = zlib.compressobj(zdict=DICTIONARY)
    return _PACKED_FORMAT + packer.compress(text.encode("utf-8")) + packer.flush()


def _jsonb_object(pairs: list[tuple[str, object]]) -> dict:
    return dict(sorted(pairs, key=lambda pair: (len(pair[0].encode("utf-8")), pair[0].encode("utf-8"))))


def _jsonb_float(text: str) -> float | int:
    if "e+" in text or "E+" in text:  # jsonb keeps a numeric: 1e+16 comes back as 10000000000000000
        number = Decimal(text)
        if number == number.to_integral_value():
            return int(number)
    return float(text) + 0.0  # jsonb has no negative zero: -0.0 came back as 0.0


def unpack_values(packed: bytes | memoryview) -> list:
    packed = bytes(packed)
    if packed[:1] != _PACKED_FORMAT:
        raise ValueError(f"unknown packed values format {packed[:1]!r}")
    unpacker = zlib.decompressobj(zdict=DICTIONARY)
    text = (unpacker.decompress(packed[1:]) + unpacker.flush()).decode("utf-8")
    return json.loads(text, object_pairs_hook=_jsonb_object, parse_float=_jsonb_float)


def report_values(report) -> list:
    """A stored report's values: compressed (reports written since migration 0022), or as jsonb (before)."""
    packed = getattr(report, "packed_values", None)
    return report.values if packed is None else unpack_values(packed)


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


def unpack_reports(reports: Iterable) -> None:
    """Give every report its `items` and `gates` back, reading the explanations in one query."""
    reports = [r for r in reports if getattr(r, "_unpacked", None) is None]
    if not reports:
        return
    bodies = load_bodies(pk for report in reports for pk in report.explanations)
    for report in reports:
        report._unpacked = unpack(report.statuses, report.explanations, report_values(report), bodies, report.details)
