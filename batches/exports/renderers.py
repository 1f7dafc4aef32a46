"""The methods document as Markdown, DOCX or JSON. The same document always renders to the same bytes
(Markdown, JSON); the DOCX holds exactly the same paragraphs."""

import io
import json
import re

from docx import Document
from docx.enum.text import WD_COLOR_INDEX
from docx.shared import Pt

MARKER = re.compile(r"\[not (?:recorded|valid): [^\]]*\]")
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_<])")
_BLOCK_START = re.compile(r"^(#|>|[-+] |\d+[.)] )")


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
            lines += [_escape(paragraph, list_item=section["id"] == "references"), ""]
    return "\n".join(lines)


# Control characters have no printed form and no place in the document's XML: a record's text that holds one
# (pasted from another program) still exports.
XML_INCOMPATIBLE = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")


def to_docx(document: dict) -> bytes:
    doc = Document()
    normal = doc.styles["Normal"]
    normal.font.name = "Times New Roman"
    normal.font.size = Pt(11)
    doc.core_properties.title = XML_INCOMPATIBLE.sub("", document["title"])
    doc.core_properties.identifier = document.get("fingerprint", "")
    doc.add_heading(doc.core_properties.title, level=1)
    for section in document["sections"]:
        doc.add_heading(section["heading"], level=2)
        for text in section["paragraphs"]:
            text = XML_INCOMPATIBLE.sub("", text)
            paragraph = doc.add_paragraph()
            position = 0
            for match in MARKER.finditer(text):
                if match.start() > position:
                    paragraph.add_run(text[position : match.start()])
                run = paragraph.add_run(match.group(0))
                run.font.highlight_color = WD_COLOR_INDEX.YELLOW
                position = match.end()
            if position < len(text):
                paragraph.add_run(text[position:])
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def to_json(export: dict) -> str:
    return json.dumps(export, sort_keys=True, ensure_ascii=False, indent=2, allow_nan=False) + "\n"
