"""The methods document as Markdown, DOCX or JSON. The same document always renders to the same bytes
(Markdown, JSON); the DOCX holds exactly the same paragraphs.

Markdown and DOCX are typeset as a journal sets them: a non-breaking space binds a number to its unit and
holds "1.02 × 10⁸" together; in DOCX, exponents and chemical indices are superscript and subscript runs.
"""

import io
import json
import re

from django.conf import settings
from docx import Document
from docx.enum.text import WD_COLOR_INDEX
from docx.shared import Mm, Pt

MARKER = re.compile(r"\[not (?:recorded|valid): [^\]]*\]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_<])")
_BLOCK_START = re.compile(r"^(#|>|[-+] |\d+[.)] )")

NBSP = "\u00a0"
_UNITS = (
    "% O₂",
    "% CO₂",
    "% inhibition",
    "%",
    "°C",
    "×",
    "µL",
    "mL",
    "µg/mL",
    "µg",
    "pg/mL",
    "ng/mL",
    "mg/mL",
    "mg",
    "µM",
    "mM",
    "nM",
    "µm",
    "nm",
    "kDa",
    "U/mL",
    "EU/mL",
    "EU/kg",
    "min",
    "h",
    "g",
    "days",
    "day",
    "weeks",
    "week",
    "years",
    "year",
    "cells/cm²",
    "cells",
    "cell",
    "cell equivalents",
    "particles",
    "µL",
)
_UNIT = "|".join(re.escape(unit) for unit in sorted(set(_UNITS), key=len, reverse=True))
# A space after a number (or the ')' of '(4.2 ± 0.2)') and before a unit; the unit must end there.
_NUMBER_UNIT = re.compile(rf"(?<=[\d⁰¹²³⁴⁵⁶⁷⁸⁹)]) (?=(?:{_UNIT})(?![A-Za-z]))")
_TIMES_SPACE = re.compile(r"× (?=10|g\b)")
_PLUS_MINUS = re.compile(r"(?<=\d) ± (?=\d)")
_PERCENT_GAS = re.compile(r"% (?=O₂|CO₂)")
# Thousands grouped with spaces in free text ('100 000 × g') take the one style the text uses: '100,000 × g'.
_SPACE_THOUSANDS = re.compile(r"(?<![\d.,])\d{1,3}(?:[ \u00a0\u202f]\d{3})+(?![\d])(?=[ \u00a0]×)")
_SUPERSCRIPT = dict(zip("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789−", strict=True))
_SUBSCRIPT = dict(zip("₀₁₂₃₄₅₆₇₈₉ₕₛ", "0123456789hs", strict=True))
PAGE_SIZES = {"A4": (Mm(210), Mm(297)), "LETTER": (Mm(215.9), Mm(279.4))}


def typeset(text: str) -> str:
    """Non-breaking spaces between numbers and units and inside '× 10⁹', and one thousands style."""
    text = _SPACE_THOUSANDS.sub(lambda match: re.sub(r"[ \u00a0\u202f]", ",", match.group(0)), text)
    text = _NUMBER_UNIT.sub(NBSP, text)
    text = _TIMES_SPACE.sub("×" + NBSP, text)
    text = _PERCENT_GAS.sub("%" + NBSP, text)
    return _PLUS_MINUS.sub(f"{NBSP}±{NBSP}", text)


def page_size() -> str:
    value = str(getattr(settings, "METHODS_DOCX_PAGE_SIZE", "A4") or "A4").upper()
    return value if value in PAGE_SIZES else "A4"


def apply_page_size(section) -> None:
    """The page size the setting names (A4 unless told Letter), with 25 mm margins."""
    section.page_width, section.page_height = PAGE_SIZES[page_size()]
    section.left_margin = section.right_margin = Mm(25)
    section.top_margin = section.bottom_margin = Mm(25)


def _script_runs(text: str) -> list[tuple[str, str]]:
    """Split text into (kind, characters) with kind '', 'sup' or 'sub'; script digits become plain digits."""
    runs: list[tuple[str, str]] = []
    for char in text:
        if char in _SUPERSCRIPT:
            kind, char = "sup", _SUPERSCRIPT[char]
        elif char in _SUBSCRIPT:
            kind, char = "sub", _SUBSCRIPT[char]
        else:
            kind = ""
        if runs and runs[-1][0] == kind:
            runs[-1] = (kind, runs[-1][1] + char)
        else:
            runs.append((kind, char))
    return runs


def typeset_runs(paragraph, text: str, *, bold: bool = False, highlight: bool = False) -> None:
    """Add text to a DOCX paragraph: non-breaking spaces, superscript and subscript runs."""
    for kind, chars in _script_runs(typeset(text)):
        run = paragraph.add_run(chars)
        if kind == "sup":
            run.font.superscript = True
        elif kind == "sub":
            run.font.subscript = True
        if bold:
            run.bold = True
        if highlight:
            run.font.highlight_color = WD_COLOR_INDEX.YELLOW


def _escape(text: str, *, list_item: bool = False) -> str:
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", text)
    if not list_item and _BLOCK_START.match(text):
        text = "\\" + text
    return text


def unescape_markdown(text: str) -> str:
    return re.sub(r"\\([\\`*_<#>+\-.)])", r"\1", text)


def paragraphs(document: dict) -> list[str]:
    """Every block of the document in reading order: title, headings, paragraphs."""
    blocks = [document["title"]]
    for section in document["sections"]:
        blocks.append(section["heading"])
        blocks.extend(section["paragraphs"])
    return blocks


def to_markdown(document: dict) -> str:
    lines = [f"# {_escape(document['title'])}", ""]
    for section in document["sections"]:
        lines += [f"## {_escape(section['heading'])}", ""]
        for paragraph in section["paragraphs"]:
            lines += [typeset(_escape(paragraph, list_item=section["id"] == "references")), ""]
    return "\n".join(lines)


# Control characters have no printed form and no place in the document's XML: a record's text that holds one
# (pasted from another program) still exports.
XML_INCOMPATIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def to_docx(document: dict, *, author: str = "") -> bytes:
    doc = Document()
    apply_page_size(doc.sections[0])
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(11)
    properties = doc.core_properties
    properties.title = XML_INCOMPATIBLE.sub("", document["title"])
    properties.identifier = document.get("fingerprint", "")
    properties.author = XML_INCOMPATIBLE.sub("", author) or "Secretome LIMS"
    properties.last_modified_by = properties.author
    properties.comments = ""
    doc.add_heading(properties.title, level=1)
    for section in document["sections"]:
        doc.add_heading(section["heading"], level=2)
        for text in section["paragraphs"]:
            text = XML_INCOMPATIBLE.sub("", text)
            paragraph = doc.add_paragraph()
            position = 0
            for match in MARKER.finditer(text):
                if match.start() > position:
                    typeset_runs(paragraph, text[position : match.start()])
                typeset_runs(paragraph, match.group(0), highlight=True)
                position = match.end()
            if position < len(text):
                typeset_runs(paragraph, text[position:])
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def to_json(export: dict) -> str:
    return json.dumps(export, sort_keys=True, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
