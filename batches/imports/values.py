"""Reading one spreadsheet cell the way a lab writes it.

Empty cells and the usual placeholders ("N/A", "n.d.", "-") mean *not recorded*. Numbers may use a decimal
comma and thousands separators; dates may be ISO or day first (the lab's locale); choices may be given by
their stored value or by the label the template shows.
"""

import datetime as dt
import re
from collections.abc import Iterable
from typing import Any

from django.utils import timezone

NOT_RECORDED = {"", "n/a", "na", "n.a.", "n.d.", "nd", "n.d", "-", "–", "—", "not recorded"}
TRUE_WORDS = {"yes", "y", "true", "t", "1", "x", "✓", "ja", "oui", "si", "sí"}
FALSE_WORDS = {"no", "n", "false", "f", "0", "nein", "non"}
UNKNOWN_WORDS = {"unknown", "not known", "?"}


class CellError(ValueError):
    """A cell that cannot be read; the message says what to write instead."""


class NotRecorded:
    """The cell says nothing: the field is left as it is (empty on a new record)."""

    def __repr__(self) -> str:
        return "NOT_RECORDED"


NOTHING = NotRecorded()


def is_not_recorded(raw: Any) -> bool:
    if raw is None:
        return True
    if isinstance(raw, str):
        return raw.strip().lower() in NOT_RECORDED
    return False


def text(raw: Any) -> str:
    if isinstance(raw, float) and raw.is_integer():
        return str(int(raw))
    if isinstance(raw, dt.datetime):
        return raw.isoformat(sep=" ")
    if isinstance(raw, dt.date):
        return raw.isoformat()
    return str(raw).strip()


_SCIENTIFIC = re.compile(r"^(?P<mantissa>[+-]?[\d.,]+)\s*(?:[x×*]\s*10\s*\^\s*|[eE])(?P<exponent>[+-]?\d+)$")


def number(raw: Any) -> float:
    """1234.5 from '1234.5', '1234,5', '1,234.5', '1.234,5', '1 234,5', '1.2e6', '1,2 × 10^6'."""
    if isinstance(raw, bool):
        raise CellError("Expected a number, not a yes/no value.")
    if isinstance(raw, int | float):
        return float(raw)
    value = text(raw).replace("\u00a0", " ").replace("\u202f", " ").replace("'", "")
    match = _SCIENTIFIC.match(value)
    if match:
        return _plain_number(match["mantissa"], original=value) * 10 ** int(match["exponent"])
    return _plain_number(value, original=value)


def _plain_number(value: str, *, original: str) -> float:
    value = re.sub(r"(?<=\d) (?=\d{3}\b)", "", value.strip())
    if not re.fullmatch(r"[+-]?[\d.,]+", value) or not re.search(r"\d", value):
        raise CellError(f"'{original}' is not a number; write digits, e.g. 12.5 or 12,5.")
    commas, dots = value.count(","), value.count(".")
    if commas and dots:
        # The separator written last is the decimal one: 1,234.5 and 1.234,5.
        decimal, thousands = (".", ",") if value.rfind(".") > value.rfind(",") else (",", ".")
        whole, _, fraction = value.rpartition(decimal)
        if not _grouped(whole.lstrip("+-"), thousands):
            raise CellError(f"'{original}' mixes separators in a way that is not a number.")
        return float(f"{whole.replace(thousands, '')}.{fraction}")
    separator = "," if commas else "." if dots else None
    if separator is None:
        return float(value)
    count = commas or dots
    if count > 1:
        if not _grouped(value.lstrip("+-"), separator):
            raise CellError(f"'{original}' is not a number.")
        return float(value.replace(separator, ""))
    if separator == ".":
        return float(value)
    whole, fraction = value.split(",")
    if len(fraction) == 3 and whole.lstrip("+-") not in ("", "0"):
        raise CellError(
            f"'{original}' is ambiguous: write {whole}{fraction} if the comma separates thousands, "
            f"or {whole}.{fraction} if it is a decimal comma."
        )
    return float(f"{whole}.{fraction}")


def _grouped(whole: str, separator: str) -> bool:
    parts = whole.split(separator)
    return bool(parts[0]) and len(parts[0]) <= 3 and all(len(part) == 3 for part in parts[1:])


def whole_number(raw: Any) -> int:
    """As number(), but 875,000 is unambiguous here: a whole number has no decimal comma."""
    if isinstance(raw, str) and re.fullmatch(r"\s*[+-]?\d{1,3}([,.' \u00a0]\d{3})+\s*", raw):
        raw = re.sub(r"[,.' \u00a0]", "", raw)
    value = number(raw)
    if not value.is_integer():
        raise CellError(f"Expected a whole number, got {text(raw)}.")
    return int(value)


def boolean(raw: Any) -> bool | None:
    if isinstance(raw, bool):
        return raw
    value = text(raw).lower()
    if value in TRUE_WORDS:
        return True
    if value in FALSE_WORDS:
        return False
    if value in UNKNOWN_WORDS:
        return None
    raise CellError(f"'{text(raw)}' is not yes or no; write yes, no or unknown.")


_DAY_FIRST = re.compile(r"^(?P<d>\d{1,2})[./-](?P<m>\d{1,2})[./-](?P<y>\d{2}|\d{4})$")
_ISO = re.compile(r"^(?P<y>\d{4})[-/.](?P<m>\d{1,2})[-/.](?P<d>\d{1,2})$")
_MONTHS = {
    m: i
    for i, m in enumerate(["jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec"], start=1)
}
_WORDY = re.compile(r"^(?P<d>\d{1,2})[ -](?P<m>[A-Za-z]{3})[A-Za-z]*\.?[ -](?P<y>\d{4})$")


def date(raw: Any) -> dt.date:
    """2024-03-05, 05/03/2024, 5.3.2024, 05-03-24 and 5 Mar 2024 are all 5 March 2024."""
    if isinstance(raw, dt.datetime):
        return raw.date()
    if isinstance(raw, dt.date):
        return raw
    value = text(raw)
    for pattern in (_ISO, _DAY_FIRST, _WORDY):
        match = pattern.match(value)
        if not match:
            continue
        year = int(match["y"])
        if year < 100:
            year += 2000
        month = _MONTHS.get(match["m"][:3].lower()) if match["m"].isalpha() else int(match["m"])
        try:
            return dt.date(year, month or 0, int(match["d"]))
        except ValueError:
            raise CellError(f"'{value}' is not a real date (day first: 31/12/2024, or ISO: 2024-12-31).") from None
    raise CellError(f"'{value}' is not a date; write 2024-12-31 or 31/12/2024 (day first).")


def date_time(raw: Any) -> dt.datetime:
    """A date with an optional time (HH:MM[:SS]); naive values are in the lab's time zone."""
    if isinstance(raw, dt.datetime):
        moment = raw
    else:
        value = text(raw).replace("T", " ")
        day, _, clock = value.partition(" ")
        when = date(day)
        if clock:
            match = re.fullmatch(r"(\d{1,2}):(\d{2})(?::(\d{2}))?", clock.strip())
            if not match:
                raise CellError(f"'{value}' has a time that is not HH:MM.")
            hour, minute, second = int(match[1]), int(match[2]), int(match[3] or 0)
            if hour > 23 or minute > 59 or second > 59:
                raise CellError(f"'{value}' has a time that does not exist.")
            moment = dt.datetime(when.year, when.month, when.day, hour, minute, second)
        else:
            moment = dt.datetime(when.year, when.month, when.day)
    if timezone.is_naive(moment):
        moment = timezone.make_aware(moment)
    return moment


def _folded(value: str) -> str:
    return re.sub(r"[\s_\-]+", " ", value.replace("µ", "u").replace("μ", "u").casefold()).strip()


def choice(raw: Any, options: Iterable[tuple[str, str]]) -> str:
    """The stored value of a choice given by its value or its label (case, spaces and µ/u do not matter)."""
    value = _folded(text(raw))
    options = list(options)
    for stored, label in options:
        if value in (_folded(stored), _folded(str(label))):
            return stored
    shown = ", ".join(str(label) for _, label in options[:12])
    more = f" (and {len(options) - 12} more; see the Columns sheet of the template)" if len(options) > 12 else ""
    raise CellError(f"'{text(raw)}' is not one of the allowed values: {shown}{more}.")
