"""Printable QR labels for secretome batches (segno). The QR code holds `LIMS:BATCH:<code>`, the same
scheme as the aliquot labels of the storage browser (`LIMS:ALIQUOT:<code>`)."""

import io
from html import escape

import segno
from PIL import Image, ImageDraw, ImageFont

from batches.models import SecretomeBatch

LABEL_FORMATS = ("svg", "png")
_SCALE = 4
_BORDER = 2
_LINE = 14
_PNG_TEXT = (30, 24)  # px: the code, then the other lines
_PNG_GAP = 8
_PNG_MARGIN = 12


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
    """A PNG label: segno's QR code with the batch code (bold-sized), product and collection date drawn beneath
    by Pillow, in its bundled scalable font (no system fonts needed, so the same in a slim container)."""
    qr_image = Image.open(io.BytesIO(qr_png(batch))).convert("L")
    caption = _caption(batch)
    fonts = [ImageFont.load_default(size=_PNG_TEXT[0] if index == 0 else _PNG_TEXT[1]) for index in range(len(caption))]
    boxes = [font.getbbox(line) for font, line in zip(fonts, caption, strict=True)]
    line_height = [box[3] + _PNG_GAP for box in boxes]
    width = max(qr_image.width, *(box[2] + 2 * _PNG_MARGIN for box in boxes))
    height = qr_image.height + sum(line_height) + _PNG_MARGIN
    label = Image.new("L", (width, height), 255)
    label.paste(qr_image, ((width - qr_image.width) // 2, 0))
    draw = ImageDraw.Draw(label)
    top = qr_image.height
    for font, line, box, step in zip(fonts, caption, boxes, line_height, strict=True):
        draw.text(((width - box[2]) // 2, top), line, fill=0, font=font)
        top += step
    buffer = io.BytesIO()
    label.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def qr_png(batch: SecretomeBatch) -> bytes:
    """The QR code alone, as segno renders it (the top of the PNG label)."""
    buffer = io.BytesIO()
    segno.make(qr_payload(batch), error="m").save(buffer, kind="png", scale=8, border=_BORDER)
    return buffer.getvalue()
