"""The methods text: publication order, aggregation across batches, markers, citations, reproducibility."""

import io
import json
import re

import pytest
from docx import Document

from batches.exports import methods, renderers
from batches.exports import typography as t
from batches.exports.prose.common import SECTIONS
from batches.exports.prose.fields import Gaps
from batches.models import SecretomeBatch
from tests import factories as f

pytestmark = pytest.mark.django_db


def _study_markdown(study) -> str:
    return methods.render(methods.study_methods_export(study=study), "md").content.decode().replace("\u00a0", " ")


def _batches_export(*batches) -> dict:
    return methods.batches_methods_export(batch_ids=[b.pk for b in batches], scope=SecretomeBatch.objects.all())


def test_a_study_with_batches_from_three_donors_reads_three_donors_with_sexes_and_age_range(three_donor_study):
    text = _study_markdown(three_donor_study)
    assert "three donors (two female, one male; aged 24–41 years)" in text


def test_sections_follow_the_publication_order(demo):
    export = methods.study_methods_export(study=demo)
    headings = [section["heading"] for section in export["document"]["sections"]]
    expected = [heading for _id, heading in SECTIONS] + ["References", "Record provenance"]
    assert headings == expected


def test_a_batch_export_leaves_out_dose_and_outcomes(demo_batch):
    export = _batches_export(demo_batch("SB-25-001"))
    ids = [section["id"] for section in export["document"]["sections"]]
    assert "dose" not in ids and "outcomes" not in ids
    assert ids.index("cell_source") < ids.index("priming") < ids.index("processing") < ids.index("completeness")


def test_every_missing_required_item_is_marked_with_its_checklist_label(demo_batch):
    export = _batches_export(demo_batch("SB-25-003"))
    text = renderers.to_markdown(export["document"]).replace("\u00a0", " ")
    flagged = export["checklist"]["batches"]["SB-25-003"]["flagged"]
    missing = [item for item in flagged if item["status"] == "missing"]
    assert any(item["item_id"] == "sp_conditioning_o2" for item in missing)
    gaps = Gaps(export["records"], export["checklist"])
    for item in missing:
        blank = gaps.blank(item["item_id"], ["SB-25-003"])
        named = item["label"] if blank is None else t.join(blank)
        assert f"[not recorded: {named}" in text, item["item_id"]
    assert "[not recorded: conditioning O₂]" in text


def test_a_marker_names_the_batches_when_only_some_of_them_miss_the_item(demo_batch):
    export = _batches_export(demo_batch("SB-25-001"), demo_batch("SB-25-003"))
    text = renderers.to_markdown(export["document"]).replace("\u00a0", " ")
    assert "[not recorded: conditioning O₂ (SB-25-003)]" in text


def test_the_closing_sentence_gives_the_score_the_checklist_version_and_the_fingerprint(demo_batch):
    export = _batches_export(demo_batch("SB-25-003"))
    sections = {s["id"]: s for s in export["document"]["sections"]}
    closing = sections["completeness"]["paragraphs"][0]
    score = round(export["checklist"]["batches"]["SB-25-003"]["score"])
    assert f"scored {score} %" in closing
    assert export["checklist_version"] in closing
    # The fingerprint is provenance, not journal text: it closes the document in its own section.
    assert export["fingerprint"] not in closing
    assert export["document"]["sections"][-1]["id"] == "provenance"
    assert export["fingerprint"] in sections["provenance"]["paragraphs"][-1]
    assert export["checklist_version"] == "secretome-minimal-v1"


def test_the_standards_followed_are_cited(demo):
    text = _study_markdown(demo)
    assert "ISCT minimal criteria [1]" in text
    assert "MISEV2023 [2]" in text
    assert "ARRIVE 2.0 [3]" in text
    references = text.split("## References", 1)[1]
    assert "Dominici M" in references and "Cytotherapy. 2006" in references
    assert "MISEV2023" in references and "Percie du Sert N" in references


def test_it_uses_si_typography(demo_batch):
    text = renderers.to_markdown(_batches_export(demo_batch("SB-25-001"), demo_batch("SB-25-002"))["document"]).replace(
        "\u00a0", " "
    )
    assert "1.2 × 10⁷ cells" in text
    assert "−80 °C" in text
    assert "500 µL" in text
    assert "0.22 µm" in text
    assert "100,000 × g" in text
    assert "-80" not in text and "x 10^" not in text


def test_each_distinct_priming_condition_is_described_once(lab):
    cytokine = f.PrimingConditionFactory(lab=lab, name="IFN-γ 25 ng/mL, 48 h", kind="cytokine", duration_h=48)
    f.PrimingAgentFactory(lab=lab, priming=cytokine)
    batches = [f.SecretomeBatchFactory(lab=lab, code=f"SB-P-{n}", priming=cytokine) for n in range(3)]
    text = renderers.to_markdown(_batches_export(*batches)["document"]).replace("\u00a0", " ")
    assert text.count("IFN-γ (25 ng/mL)") == 1


def test_qc_values_of_several_batches_read_as_mean_sd_and_n(three_donor_study):
    text = _study_markdown(three_donor_study)
    assert "Total protein by BCA assay was 120 ± 10 µg/mL (n = 3)" in text


def test_the_passage_range_is_given(three_donor_study):
    assert "passages 3–5 (P3–P5)" in _study_markdown(three_donor_study)


def test_two_exports_of_the_same_records_are_byte_identical(demo):
    first = methods.study_methods_export(study=demo)
    second = methods.study_methods_export(study=demo)
    for fmt in ("md", "json"):
        assert methods.render(first, fmt).content == methods.render(second, fmt).content


def test_a_changed_record_changes_the_text_and_the_fingerprint(demo, demo_batch):
    before = methods.study_methods_export(study=demo)
    batch = demo_batch("SB-25-002")  # SB-25-001 is released: the database refuses to change it
    batch.conditioning_time_h = 71
    batch.save()
    after = methods.study_methods_export(study=demo)
    assert after["fingerprint"] != before["fingerprint"]
    assert "71 h" in methods.render(after, "md").content.decode().replace("\u00a0", " ")


def test_the_json_export_carries_fingerprint_checklist_version_records_and_no_database_ids(demo):
    export = json.loads(methods.render(methods.study_methods_export(study=demo), "json").content)
    assert export["fingerprint"].startswith("sha256:")
    assert export["checklist_version"] == "secretome-minimal-v1"
    assert [b["code"] for b in export["records"]["batches"]] == ["SB-25-000-MOCK", "SB-25-001", "SB-25-002"]
    assert not re.search(r'"(id|pk|lab|lab_id)": ?[0-9]', json.dumps(export))
    assert not re.search(r'"(created_at|updated_at|at|verified_at)":', json.dumps(export))


def test_the_docx_holds_the_same_paragraphs_as_the_markdown(demo):
    export = methods.study_methods_export(study=demo)
    docx = Document(io.BytesIO(methods.render(export, "docx").content))
    docx_paragraphs = [_scripted_text(p) for p in docx.paragraphs if p.text]
    markdown = methods.render(export, "md").content.decode().replace("\u00a0", " ")
    markdown_paragraphs = [
        renderers.unescape_markdown(re.sub(r"^#+ ", "", block.strip()))
        for block in markdown.split("\n\n")
        if block.strip()
    ]
    assert docx_paragraphs == markdown_paragraphs
    assert docx.paragraphs[0].style.name == "Heading 1"


def _scripted_text(paragraph) -> str:
    """A DOCX paragraph's text with superscript and subscript runs spelled as Unicode script digits again."""
    sup = str.maketrans("0123456789−", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
    sub = str.maketrans("0123456789hs", "₀₁₂₃₄₅₆₇₈₉ₕₛ")
    parts = []
    for run in paragraph.runs:
        text = run.text.replace("\u00a0", " ")
        if run.font.superscript:
            text = text.translate(sup)
        elif run.font.subscript:
            text = text.translate(sub)
        parts.append(text)
    return "".join(parts)


def test_markers_are_highlighted_in_the_docx(demo_batch):
    export = _batches_export(demo_batch("SB-25-003"))
    docx = Document(io.BytesIO(methods.render(export, "docx").content))
    highlighted = []
    for paragraph in docx.paragraphs:
        run_of_marker = ""
        for run in paragraph.runs:
            if run.font.highlight_color is not None:
                run_of_marker += run.text
            elif run_of_marker:
                highlighted.append(run_of_marker)
                run_of_marker = ""
        if run_of_marker:
            highlighted.append(run_of_marker)
    assert "[not recorded: conditioning O2]" in highlighted  # O₂ with a subscript run


def test_recompose_rebuilds_the_same_document_from_the_json_alone(demo):
    export = json.loads(methods.render(methods.study_methods_export(study=demo), "json").content)
    assert methods.recompose(export) == export["document"]


def test_recompose_refuses_records_changed_after_export(demo):
    export = json.loads(methods.render(methods.study_methods_export(study=demo), "json").content)
    export["records"]["batches"][0]["conditioning_time_h"] = 12
    with pytest.raises(Exception, match="changed after export"):
        methods.recompose(export)


def test_the_export_of_many_batches_needs_no_more_queries_than_of_two(lab, django_assert_max_num_queries):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def queries_for(batches) -> int:
        with CaptureQueriesContext(connection) as captured:
            _batches_export(*batches)
        return len(captured.captured_queries)

    few = [f.SecretomeBatchFactory(lab=lab, code=f"SB-Q-{n}") for n in range(2)]
    for batch in few:
        f.ProcessingStepFactory(lab=lab, batch=batch, order=1)
        f.QCResultFactory(lab=lab, batch=batch)
        f.AliquotFactory(lab=lab, batch=batch)
    many = few + [f.SecretomeBatchFactory(lab=lab, code=f"SB-Q-{n}") for n in range(2, 12)]
    for batch in many[2:]:
        f.ProcessingStepFactory(lab=lab, batch=batch, order=1)
        f.QCResultFactory(lab=lab, batch=batch)
        f.AliquotFactory(lab=lab, batch=batch)
    queries_for(few)  # warms the per-process caches (content types) the first export fills
    assert queries_for(many) <= queries_for(few)
