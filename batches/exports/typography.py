"""Numbers and words as a journal prints them: 2 × 10⁶, −80 °C, 120 ± 15 µg/mL (n = 3), three donors.

Every function is pure and deterministic: the same numbers always give the same characters.
"""

import math
import statistics
from collections.abc import Iterable, Sequence

MINUS = "\u2212"
TIMES = "\u00d7"
EN_DASH = "\u2013"
PLUS_MINUS = "\u00b1"
_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_WORDS = [
    "zero",
    "one",
    "two",
    "three",
    "four",
    "five",
    "six",
    "seven",
    "eight",
    "nine",
    "ten",
    "eleven",
    "twelve",
    "thirteen",
    "fourteen",
    "fifteen",
    "sixteen",
    "seventeen",
    "eighteen",
    "nineteen",
    "twenty",
]
# Counts of things at or above this size are written in scientific notation.
_SCIENTIFIC_FROM = 10_000


def superscript(exponent: int) -> str:
    return str(exponent).translate(_SUPERSCRIPT)


def _signed(text: str) -> str:
    return MINUS + text[1:] if text.startswith("-") else text


def _plain(value: float, decimals: int | None = None) -> str:
    """A decimal without exponent or trailing zeros; `decimals` fixes the precision when given."""
    if decimals is not None:
        text = f"{value:.{max(decimals, 0)}f}"
    else:
        text = f"{value:.6g}"
        if "e" in text:
            text = f"{value:.12f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
    if text in {"-0", "-0.0"} or (text.startswith("-") and float(text) == 0):
        text = text[1:]
    return _signed(text)


def _split(value: float, significant: int = 3) -> tuple[float, int]:
    # Python's own scientific formatting rounds, and copes with values near the float limits (5e-324).
    mantissa, exponent = f"{value:.{significant - 1}e}".split("e")
    return float(mantissa), int(exponent)


def scientific(value: float, significant: int = 3) -> str:
    """2000000 → '2 × 10⁶'; 4.2e10 → '4.2 × 10¹⁰'."""
    if value == 0:
        return "0"
    mantissa, exponent = _split(value, significant)
    return f"{_plain(mantissa)} {TIMES} 10{superscript(exponent)}"


def number(value: float | int) -> str:
    """A recorded number as printed: integers plainly, large counts in scientific notation, a real minus."""
    if isinstance(value, bool):
        raise TypeError("number() takes a number, not a bool")
    if value != 0 and (abs(value) >= _SCIENTIFIC_FROM or abs(value) < 0.001):
        return scientific(value)
    return _plain(float(value))


def significant(value: float, digits: int = 3) -> str:
    """A computed value rounded to a few significant digits: 8458.65 → '8460', 9.7619 → '9.76'."""
    if value == 0:
        return "0"
    exponent = math.floor(math.log10(abs(value)))
    return number(round(value, digits - 1 - exponent))


def g_force(value: float) -> str:
    """Relative centrifugal force is printed in full: '100,000 × g', '2000 × g'."""
    whole = round(value)
    text = f"{whole:,}" if whole >= _SCIENTIFIC_FROM else str(whole)
    return f"{text} {TIMES} g"


def quantity(value: float | int, unit: str) -> str:
    if unit == "× g":
        return g_force(value)
    return f"{number(value)} {unit}" if unit else number(value)


def temperature(value: float) -> str:
    return quantity(value, "°C")


def _range(low: float, high: float, unit: str, formatter) -> str:
    joiner = " to " if low < 0 or high < 0 else EN_DASH
    text = f"{formatter(low)}{joiner}{formatter(high)}"
    return f"{text} {unit}" if unit else text


def span(values: Iterable[float | int | None], unit: str = "") -> str | None:
    """One value, or the lowest–highest of several: '3', '3–4', '−80 to −20 °C'; None when nothing is known."""
    known = sorted({v for v in values if v is not None})
    if not known:
        return None
    if len(known) == 1 or number(known[0]) == number(known[-1]):
        return quantity(known[0], unit)
    if unit == "× g":
        return _range(known[0], known[-1], f"{TIMES} g", lambda v: g_force(v).split(" ")[0])
    return _range(known[0], known[-1], unit, number)


def _decimals_for(spread: float) -> int:
    """Decimals for a spread rounded to one significant digit, or two when that digit would be a 1."""
    if spread <= 0:
        return 0
    exponent = math.floor(math.log10(spread))
    leading = int(f"{spread:e}"[0])
    return max(0, -exponent + (1 if leading == 1 else 0))


def annotate(text: str, extra: str) -> str:
    """Add a note in parentheses, merging with a closing parenthesis: 'A (x)' + 'y' → 'A (x; y)'."""
    if not extra:
        return text
    if text.endswith(")"):
        return f"{text[:-1]}; {extra})"
    return f"{text} ({extra})"


def summary(values: Sequence[float], unit: str = "", *, inside: bool = False) -> str | None:
    """Several measurements as authors report them.

    n = 1: the value; n = 2: the range; n ≥ 3: mean ± SD (n = k). Large counts share one power of ten:
    '(4.2 ± 0.3) × 10¹⁰ particles/mL (n = 3)'.
    """
    known = [float(v) for v in values if v is not None]
    if not known:
        return None
    if len(known) == 1:
        return quantity(known[0], unit)
    if len(known) == 2:
        return span(known, unit)
    mean = statistics.fmean(known)
    sd = statistics.stdev(known)
    tail = f", n = {len(known)}" if inside else f" (n = {len(known)})"
    suffix = f" {unit}" if unit else ""
    if abs(mean) >= _SCIENTIFIC_FROM:
        _, exponent = _split(mean)
        scale = 10**exponent
        if sd:
            decimals = _decimals_for(sd / scale)
            body = f"({_plain(mean / scale, decimals)} {PLUS_MINUS} {_plain(sd / scale, decimals)})"
        else:
            body = f"({_plain(round(mean / scale, 2))} {PLUS_MINUS} 0)"
        return f"{body} {TIMES} 10{superscript(exponent)}{suffix}{tail}"
    if not sd:
        return f"{number(mean)} {PLUS_MINUS} 0{suffix}{tail}"
    decimals = _decimals_for(sd)
    return f"{_plain(mean, decimals)} {PLUS_MINUS} {_plain(sd, decimals)}{suffix}{tail}"


def count_word(n: int) -> str:
    """Numbers one to twenty in words, larger ones in digits, as style guides ask for counts in prose."""
    return _WORDS[n] if 0 <= n < len(_WORDS) else str(n)


def counted(n: int, singular: str, plural: str | None = None) -> str:
    return f"{count_word(n)} {singular if n == 1 else (plural or singular + 's')}"


def join(items: Sequence[str], conjunction: str = "and") -> str:
    """'a', 'a and b', 'a, b and c'."""
    items = [item for item in items if item]
    if not items:
        return ""
    if len(items) == 1:
        return items[0]
    return f"{', '.join(items[:-1])} {conjunction} {items[-1]}"


def sentence(text: str) -> str:
    """Capitalise the first letter and end with one full stop."""
    text = text.strip()
    if not text:
        return ""
    text = text[0].upper() + text[1:]
    return text if text.endswith((".", "?", "!")) else text + "."


def hours(value: float) -> str:
    """Durations in the unit a reader expects: '30 min', '48 h'."""
    if value < 1:
        return quantity(value * 60, "min")
    return quantity(value, "h")
