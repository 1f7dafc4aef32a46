"""Printable QR labels for secretome batches (segno). The QR code holds `LIMS:BATCH:<code>`, the same
scheme as the aliquot labels of the storage browser (`LIMS:ALIQUOT:<code>`)."""

import io
from html import escape

import segno

from batches.models import SecretomeBatch

LABEL_FORMATS = ("svg", "png")
_SCALE = 4
_BORDER = 2
_LINE = 14


def qr_payload(batch: SecretomeBatch) -> str:
    return f"LIMS:BATCH:{batch.code}"


def _caption(batch: SecretomeBatch) -> list[str]:
    lines = [batch.code, batch.get_product_type_display()]
    if batch.collected_at:
        lines.append(f"collected {batch.collected_at:%Y-%m-%d}")
    return lines


def label_svg(batch: SecretomeBatch) -> bytes:
    """An SVG label: the QR code with the batch code, product and collection date printed beneath."""
    qr = segno.make(qr_payload(batch), error="m")
    width, height = qr.symbol_size(scale=_SCALE, border=_BORDER)
    caption = _caption(batch)
    label_width = max(width, 8 * max(len(line) for line in caption))
    total_height = height + _LINE * len(caption) + 6
    inner = qr.svg_inline(scale=_SCALE, border=_BORDER, omitsize=False)
    text = ""
    for index, line in enumerate(caption):
        weight = ' font-weight="bold"' if index == 0 else ""
        size = 12 if index == 0 else 10
        text += (
            f'<text x="{label_width / 2:g}" y="{height + _LINE * (index + 1):g}" text-anchor="middle" '
            f'font-family="Helvetica, Arial, sans-serif" font-size="{size}"{weight}>{escape(line)}</text>'
        )
    svg = (
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{label_width:g}" height="{total_height:g}" '
        f'viewBox="0 0 {label_width:g} {total_height:g}"><rect width="100%" height="100%" fill="#fff"/>'
        f'<g transform="translate({(label_width - width) / 2:g},0)">{inner}</g>{text}</svg>'
    )
    return svg.encode()


def label_png(batch: SecretomeBatch) -> bytes:
    """A PNG of the QR code alone (printing text into a PNG would need an imaging library)."""
    buffer = io.BytesIO()
    segno.make(qr_payload(batch), error="m").save(buffer, kind="png", scale=8, border=_BORDER)
    return buffer.getvalue()
