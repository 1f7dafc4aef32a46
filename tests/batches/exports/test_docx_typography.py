"""DOCX as a journal typesets it: numbers bound to their units, exponents as superscript runs, A4, an author.

When LibreOffice is installed, the DOCX is rendered to PDF and no number is split from its unit at a line end.
"""

import io
import itertools
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.test import override_settings
from docx import Document
from docx.shared import Mm
from pypdf import PdfReader

from batches.exports.renderers import NBSP, to_docx, to_markdown, typeset

GOLDEN = json.loads((Path(__file__).parent / "golden" / "study.json").read_text(encoding="utf-8"))
SUPERSCRIPT_DIGITS = "⁰¹²³⁴⁵⁶⁷⁸⁹"


def _docx(author: str = "Ada Lovelace (Demo Lab)") -> Document:
    return Document(io.BytesIO(to_docx(GOLDEN["document"], author=author)))


def _runs(doc: Document):
    for paragraph in doc.paragraphs:
        yield from paragraph.runs


def test_numbers_are_bound_to_their_units_and_inside_times_ten_to_the():
    assert typeset("at 4 °C for 10 min") == f"at 4{NBSP}°C for 10{NBSP}min"
    assert typeset("1.02 × 10⁸ particles/µg") == f"1.02{NBSP}×{NBSP}10⁸{NBSP}particles/µg"
    assert typeset("21 % O₂") == f"21{NBSP}%{NBSP}O₂"
    assert typeset("at 300 × g") == f"at 300{NBSP}×{NBSP}g"


def test_thousands_are_written_one_way_everywhere():
    assert typeset("70 min at 100 000 × g") == f"70{NBSP}min at 100,000{NBSP}×{NBSP}g"
    text = "".join(run.text for run in _runs(_docx()))
    assert "100 000" not in text and f"100{NBSP}000" not in text
    assert "100,000" in text


def test_markdown_gets_the_same_non_breaking_spaces():
    text = to_markdown(GOLDEN["document"])
    assert f"4{NBSP}°C" in text and f"×{NBSP}10" in text
    assert not re.search(r"\d [°%]|\d (min|h|mL|µL|µm)\b", text)


def test_the_docx_binds_units_and_sets_exponents_as_superscript_runs():
    doc = _docx()
    runs = list(_runs(doc))
    text = "".join(run.text for run in runs)
    assert f"4{NBSP}°C" in text and f"50{NBSP}µL" in text and f"×{NBSP}10" in text
    assert not any(ch in text for ch in SUPERSCRIPT_DIGITS), "Unicode superscript digits left in the DOCX"
    superscripts = [run for run in runs if run.font.superscript]
    assert superscripts and all(re.fullmatch(r"[0-9−]+", run.text) for run in superscripts)
    assert {"8", "2"} <= {run.text for run in superscripts}  # × 10⁸ and cells/cm²
    subscripts = [run for run in runs if run.font.subscript]
    assert "2" in {run.text for run in subscripts}  # O₂, CO₂


def test_the_docx_is_a4_by_default_and_letter_when_set():
    section = _docx().sections[0]
    assert abs(section.page_width - Mm(210)) < Mm(1) and abs(section.page_height - Mm(297)) < Mm(1)
    with override_settings(METHODS_DOCX_PAGE_SIZE="Letter"):
        letter = _docx().sections[0]
    assert abs(letter.page_width - Mm(215.9)) < Mm(1)


def test_the_author_is_the_exporting_user_and_the_lab_not_python_docx():
    properties = _docx().core_properties
    assert properties.author == "Ada Lovelace (Demo Lab)"
    assert properties.last_modified_by == "Ada Lovelace (Demo Lab)"
    assert "python-docx" not in (properties.author + properties.last_modified_by + properties.comments)


def _pdf_lines(docx: bytes, tmp_path: Path) -> list[str]:
    source = tmp_path / "methods.docx"
    source.write_bytes(docx)
    subprocess.run(
        [
            "soffice",
            "--headless",
            f"-env:UserInstallation=file://{tmp_path}/profile",
            "--convert-to",
            "pdf",
            "--outdir",
            str(tmp_path),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=240,
    )
    reader = PdfReader(str(tmp_path / "methods.pdf"))
    return [line for page in reader.pages for line in (page.extract_text() or "").splitlines()]


UNIT_AT_LINE_START = re.compile(r"^(?:°C|%|µL|mL|min|h|×|µm|nm|particles|cells|EU/mL|µg/mL|pg/mL|kDa)(?![A-Za-z])")


@pytest.mark.skipif(shutil.which("soffice") is None, reason="LibreOffice (soffice) is not installed")
def test_a_rendered_pdf_never_splits_a_number_from_its_unit(tmp_path):
    lines = _pdf_lines(to_docx(GOLDEN["document"], author="Demo Lab"), tmp_path)
    assert len(lines) > 40
    for before, after in itertools.pairwise(lines):
        ends_with_number = re.search(r"[\d⁰¹²³⁴⁵⁶⁷⁸⁹]$", before.rstrip())
        assert not (ends_with_number and UNIT_AT_LINE_START.match(after.lstrip())), (before, after)
        assert not re.search(r"×$", before.rstrip()), (before, after)
