"""Numbers and words as a journal prints them: 2 × 10⁶, −80 °C, 120 ± 15 µg/mL (n = 3), three donors.

Every function is pure and deterministic: the same numbers always give the same characters.
"""

import math
import statistics
import sys
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


def finite(value) -> float | None:
    """The value as a float when it is a finite number; None for None, NaN, ±infinity or a non-number.

    Arithmetic on recorded extremes (1e308 × 1e6) gives infinity; the text leaves such a value out rather
    than printing 'inf' or failing.
    """
    if value is None or isinstance(value, bool):
        return None
    try:
        number = float(value)
    except (TypeError, ValueError, OverflowError):
        return None
    return number if math.isfinite(number) else None


def _exponent(value: float) -> int:
    """The power of ten of a finite, non-zero value, safe down to the smallest subnormal."""
    return math.floor(math.log10(abs(value)))


def _scaled(value: float, exponent: int) -> float:
    """value / 10**exponent without overflow or underflow (10**-324 is 0 as a float)."""
    if exponent > 300:
        return value / 10.0**300 / 10.0 ** (exponent - 300)
    if exponent < -300:
        return value * 10.0**300 * 10.0 ** (-exponent - 300)
    return value / 10.0**exponent


def _split(value: float, significant: int = 3) -> tuple[float, int]:
    exponent = _exponent(value)
    mantissa = round(_scaled(value, exponent), significant - 1)
    if abs(mantissa) >= 10:
        mantissa /= 10
        exponent += 1
    return mantissa, exponent


def scientific(value: float, significant: int = 3) -> str:
    """2000000 → '2 × 10⁶'; 4.2e10 → '4.2 × 10¹⁰'."""
    if value == 0:
        return "0"
    mantissa, exponent = _split(value, significant)
    return f"{_plain(mantissa)} {TIMES} 10{superscript(exponent)}"


# A recorded value keeps the precision it was recorded with up to this many significant digits; beyond
# that (a computed or instrument-exported 8.571428) it is rounded to three, as a journal prints it.
_RECORDED_DIGITS = 4


def _digits(value: float) -> int:
    """Significant digits of the shortest spelling of a float: 0.05 → 1, 152.5 → 4, 8.571428 → 7."""
    mantissa = repr(abs(value)).lower().split("e")[0].replace(".", "").lstrip("0").rstrip("0")
    return max(len(mantissa), 1)


def _rounded(value: float, digits: int) -> float:
    exponent = _exponent(value)
    if exponent - digits + 1 < -300 or exponent > 300:
        return value
    return round(value, digits - 1 - exponent)


def number(value: float | int) -> str:
    """A recorded number as printed: integers plainly, large counts in scientific notation, a real minus.

    Recorded precision is kept (0.05 stays 0.05, 37.5 stays 37.5); a long tail of digits is rounded to
    three significant ones. Infinity or NaN never reach the text: they print as 'not computable'.
    """
    if isinstance(value, bool):
        raise TypeError("number() takes a number, not a bool")
    value = finite(value)
    if value is None:
        return "not computable"
    if value != 0 and _digits(value) > _RECORDED_DIGITS and abs(value) < _SCIENTIFIC_FROM:
        value = _rounded(value, 3)
    if value != 0 and (abs(value) >= _SCIENTIFIC_FROM or abs(value) < 0.001):
        return scientific(value)
    return _plain(value)


def significant(value: float, digits: int = 3) -> str:
    """A computed value rounded to a few significant digits: 8458.65 → '8460', 9.7619 → '9.76'."""
    value = finite(value)
    if value is None:
        return "not computable"
    if value == 0:
        return "0"
    return number(_rounded(value, digits))


def rounded(value: float, digits: int = 3) -> float:
    """A computed value rounded to `digits` significant digits, as a number (0 stays 0)."""
    value = finite(value)
    if not value:
        return value
    return _rounded(value, digits)


def g_force(value: float) -> str:
    """Relative centrifugal force is printed in full: '100,000 × g', '2000 × g'."""
    value = finite(value)
    if value is None:
        return f"not computable {TIMES} g"
    if abs(value) >= 1e7:
        return f"{scientific(value)} {TIMES} g"
    whole = round(value)
    text = f"{whole:,}" if whole >= _SCIENTIFIC_FROM else str(whole)
    return f"{text} {TIMES} g"


# Units that are nouns agree with their number: 1 day, 2 days.
_SINGULAR = {"days": "day", "weeks": "week", "years": "year", "months": "month", "hours": "hour", "cells": "cell"}


def unit_for(value: float | int, unit: str) -> str:
    return _SINGULAR.get(unit, unit) if finite(value) is not None and abs(float(value)) == 1 else unit


def quantity(value: float | int, unit: str) -> str:
    if unit == "× g":
        return g_force(value)
    return f"{number(value)} {unit_for(value, unit)}" if unit else number(value)


def temperature(value: float) -> str:
    return quantity(value, "°C")


def _range(low: float, high: float, unit: str, formatter) -> str:
    joiner = " to " if low < 0 or high < 0 else EN_DASH
    text = f"{formatter(low)}{joiner}{formatter(high)}"
    return f"{text} {unit}" if unit else text


def span(values: Iterable[float | int | None], unit: str = "") -> str | None:
    """One value, or the lowest–highest of several: '3', '3–4', '−80 to −20 °C'; None when nothing is known."""
    known = sorted({f for v in values if (f := finite(v)) is not None})
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
    # Never more than four decimals: a spread far below the mean's precision is printed as 0.
    return min(4, max(0, -exponent + (1 if leading == 1 else 0)))


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
    known = [f for v in values if (f := finite(v)) is not None]
    if not known:
        return None
    if len(known) == 1:
        return quantity(known[0], unit)
    if len(known) == 2:
        return span(known, unit)
    mean, sd = mean_sd(known)
    tail = f", n = {len(known)}" if inside else f" (n = {len(known)})"
    suffix = f" {unit}" if unit else ""
    magnitude = max(abs(mean), sd)
    if magnitude and (magnitude >= _SCIENTIFIC_FROM or magnitude < 0.001):
        _, exponent = _split(mean if abs(mean) >= sd else sd)
        if sd:
            decimals = _decimals_for(_scaled(sd, exponent))
            body = (
                f"({_plain(_scaled(mean, exponent), decimals)} {PLUS_MINUS} {_plain(_scaled(sd, exponent), decimals)})"
            )
        else:
            body = f"({_plain(round(_scaled(mean, exponent), 2))} {PLUS_MINUS} 0)"
        return f"{body} {TIMES} 10{superscript(exponent)}{suffix}{tail}"
    if not sd:
        return f"{number(mean)} {PLUS_MINUS} 0{suffix}{tail}"
    decimals = _decimals_for(sd)
    return f"{_plain(mean, decimals)} {PLUS_MINUS} {_plain(sd, decimals)}{suffix}{tail}"


def mean_sd(values: Sequence[float]) -> tuple[float, float]:
    """Mean and sample SD of finite values, computed on values scaled by the largest magnitude so that
    neither the sum (two values of 1e308) nor the squares can overflow."""
    scale = max(abs(v) for v in values)
    if scale == 0:
        return 0.0, 0.0
    scaled = [v / scale for v in values]
    mean = statistics.fmean(scaled)
    sd = statistics.stdev(scaled) if len(scaled) > 1 else 0.0
    # Both are at most ~1.5 × scale; a product beyond the float range is reported as the largest float.
    return _times(mean, scale), _times(sd, scale)


def _times(a: float, b: float) -> float:
    product = a * b
    if math.isfinite(product):
        return product
    return math.copysign(sys.float_info.max, product)


def count_word(n: int) -> str:
    """Numbers one to twenty in words, larger ones in digits, as style guides ask for counts in prose."""
    if isinstance(n, float) and n.is_integer() and abs(n) < len(_WORDS):
        n = int(n)
    if isinstance(n, int) and 0 <= n < len(_WORDS):
        return _WORDS[n]
    return number(n)


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


def safely(compute, *args) -> float | None:
    """A computed value (batches.computations) for the text, or None when the inputs are at the edges of
    the float range and the arithmetic would divide by zero, overflow or give a non-finite result."""
    try:
        return finite(compute(*args))
    except (ZeroDivisionError, OverflowError, ValueError):
        return None
