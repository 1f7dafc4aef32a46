"""The PNG label carries its text: segno's QR code on top, the batch code, product and collection date drawn
beneath it by Pillow."""

import io

import pytest
from PIL import Image, ImageChops, ImageFont

from batches.exports.label import _PNG_TEXT, label_png, qr_png
from tests import factories as f

pytestmark = pytest.mark.django_db

INK = 128  # grey level below which a pixel counts as printed


def _ink_bands(image: Image.Image, top: int) -> list[tuple[int, int]]:
    """Runs of rows below `top` that hold printed pixels: one per line of text."""
    rows = [y for y in range(top, image.height) if any(image.getpixel((x, y)) < INK for x in range(image.width))]
    bands: list[tuple[int, int]] = []
    for y in rows:
        if bands and y == bands[-1][1] + 1:
            bands[-1] = (bands[-1][0], y)
        else:
            bands.append((y, y))
    return bands


def _ink_width(image: Image.Image, band: tuple[int, int]) -> int:
    columns = [x for x in range(image.width) if any(image.getpixel((x, y)) < INK for y in range(band[0], band[1] + 1))]
    return columns[-1] - columns[0] + 1


def test_the_png_label_is_the_qr_code_with_three_lines_of_text_beneath(lab):
    batch = f.SecretomeBatchFactory(lab=lab, code="SB-25-042", product_type="EV")
    label = Image.open(io.BytesIO(label_png(batch)))
    assert label.format == "PNG"
    label = label.convert("L")
    qr = Image.open(io.BytesIO(qr_png(batch))).convert("L")

    # The QR code is segno's, pixel for pixel, centred at the top.
    left = (label.width - qr.width) // 2
    assert ImageChops.difference(label.crop((left, 0, left + qr.width, qr.height)), qr).getbbox() is None

    # Beneath it: the code, the product and the collection date, each a band of printed pixels.
    bands = _ink_bands(label, qr.height)
    assert len(bands) == 3, bands
    code_font = ImageFont.load_default(size=_PNG_TEXT[0])
    left, _top, right, _bottom = code_font.getbbox("SB-25-042")
    assert abs(_ink_width(label, bands[0]) - (right - left)) <= 3


def test_the_png_label_is_what_the_api_serves(lab, technician, client):
    batch = f.SecretomeBatchFactory(lab=lab)
    client.force_login(technician)
    response = client.get(f"/api/v1/batches/{batch.pk}/label?format=png")
    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert response.content == label_png(batch)
