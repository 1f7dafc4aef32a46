"""manage.py export_methods and render_methods: the same text from the records and from the JSON alone."""

import io
import json
import zipfile

import pytest
from django.core.management import CommandError, call_command
from docx import Document

pytestmark = pytest.mark.django_db


def _run(*args) -> str:
    out = io.StringIO()
    call_command(*args, stdout=out, stderr=io.StringIO())
    return out.getvalue().replace("\u00a0", " ")


def test_export_methods_prints_the_markdown_of_a_batch(demo):
    text = _run("export_methods", "--batch", "SB-25-001")
    assert text.startswith("# Methods\n")
    assert "IFN-γ (25 ng/mL)" in text


def test_render_methods_gives_the_same_markdown_from_the_json_alone(demo, tmp_path):
    path = tmp_path / "export.json"
    _run("export_methods", "--study", str(demo.pk), "--format", "json", "--output", str(path))
    markdown = _run("export_methods", "--study", str(demo.pk), "--format", "md")
    assert _run("render_methods", str(path)) == markdown


def test_render_methods_writes_docx_from_the_json(demo, tmp_path):
    path = tmp_path / "export.json"
    _run("export_methods", "--batch", "SB-25-002", "--format", "json", "--output", str(path))
    docx_path = tmp_path / "methods.docx"
    _run("render_methods", str(path), "--format", "docx", "--output", str(docx_path))
    assert Document(str(docx_path)).paragraphs[0].text == "Methods"


def test_render_methods_refuses_a_json_whose_text_was_edited(demo, tmp_path):
    path = tmp_path / "export.json"
    _run("export_methods", "--batch", "SB-25-001", "--format", "json", "--output", str(path))
    export = json.loads(path.read_text())
    export["document"]["sections"][0]["paragraphs"][0] = "Cells were bought at a market."
    path.write_text(json.dumps(export))
    with pytest.raises(CommandError, match="differs from the text its records give"):
        _run("render_methods", str(path))


def test_render_methods_names_what_is_wrong_with_its_input(tmp_path):
    missing = tmp_path / "absent.json"
    with pytest.raises(CommandError, match="cannot read"):
        _run("render_methods", str(missing))
    broken = tmp_path / "broken.json"
    broken.write_text("{not json")
    with pytest.raises(CommandError, match="not JSON"):
        _run("render_methods", str(broken))
    other = tmp_path / "other.json"
    other.write_text(json.dumps({"hello": "world"}))
    with pytest.raises(CommandError, match="not a methods export"):
        _run("render_methods", str(other))


def test_export_methods_writes_an_rocrate_zip(demo, tmp_path):
    path = tmp_path / "crate.zip"
    _run("export_methods", "--batch", "SB-25-001", "--format", "rocrate", "--output", str(path))
    assert "ro-crate-metadata.json" in zipfile.ZipFile(path).namelist()


def test_export_methods_explains_bad_arguments(demo):
    with pytest.raises(CommandError, match="no batch with code 'NOPE'"):
        _run("export_methods", "--batch", "NOPE")
    with pytest.raises(CommandError, match="--output"):
        _run("export_methods", "--batch", "SB-25-001", "--format", "docx")
    with pytest.raises(CommandError, match="no study with id"):
        _run("export_methods", "--study", "999999")
