"""Numbers as a lab writes them: no trailing zeros, powers of ten for large counts."""

from django import template

register = template.Library()

SUPERSCRIPT = str.maketrans("-0123456789", "⁻⁰¹²³⁴⁵⁶⁷⁸⁹")


@register.filter
def num(value, digits: int = 4) -> str:
    """0.5 → '0.5', 12600000 → '1.26 × 10⁷', None → '—'."""
    if value is None or value == "":
        return "—"
    try:
        number = float(value)
    except (TypeError, ValueError):
        return str(value)
    if number != 0 and (abs(number) >= 1e5 or abs(number) < 1e-3):
        mantissa, exponent = f"{number:.{int(digits) - 1}e}".split("e")
        mantissa = mantissa.rstrip("0").rstrip(".")
        power = f"10{str(int(exponent)).translate(SUPERSCRIPT)}"
        return power if mantissa == "1" else f"{mantissa} × {power}"
    return f"{number:.{int(digits)}g}"
