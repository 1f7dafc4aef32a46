"""Golden files for sparse records: the methods text and the studies summary table of each, as reviewed.

Regenerate deliberately after a reviewed change of wording:
UPDATE_GOLDEN=1 pytest tests/batches/exports/test_golden_sparse.py
"""

import difflib
import os
from pathlib import Path

import pytest

from batches.exports import methods, studies_table
from batches.models import Study
from tests.batches.exports.sparse import SPARSE

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden" / "sparse"


def _outputs(name: str, lab) -> dict[str, bytes]:
    study = SPARSE[name](lab)
    export = methods.study_methods_export(study=study)
    content, _type, _filename = studies_table.studies_table(
        study_ids=[study.pk], scope=Study.objects.filter(lab=lab), fmt="md"
    )
    return {f"{name}.md": methods.render(export, "md").content, f"{name}.table.md": content}


@pytest.mark.parametrize("name", sorted(SPARSE))
def test_sparse_records_export_their_golden_methods_text_and_summary_table(name, lab):
    outputs = _outputs(name, lab)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(parents=True, exist_ok=True)
        for filename, content in outputs.items():
            (GOLDEN / filename).write_bytes(content)
    differences = []
    for filename, content in outputs.items():
        path = GOLDEN / filename
        expected = path.read_bytes() if path.exists() else b""
        if content != expected:
            diff = difflib.unified_diff(
                expected.decode().splitlines(),
                content.decode().splitlines(),
                f"golden/{filename}",
                "export",
                lineterm="",
            )
            differences.append("\n".join(list(diff)[:40]))
    assert not differences, "\n\n".join(differences)


def test_the_sparse_texts_state_gaps_as_markers_and_never_invent_values(lab):
    texts = {name: _outputs(name, lab)[f"{name}.md"].decode().replace("\u00a0", " ") for name in SPARSE}
    assert "purchased from ATCC (catalogue no. PCS-500-010, lot 70023456)" in texts["bought-cells"]
    assert "isolated by the supplier" in texts["bought-cells"]
    assert "[not recorded: dose and dose unit]" in texts["dose-not-recorded"]
    assert "[not recorded: injected volume]" in texts["volume-not-recorded"]
    assert "on days −1, 7 and 11 relative to model induction" in texts["irregular-schedule"]
    assert "used fresh" in texts["fresh-product"]
    assert "storage temperature" not in texts["fresh-product"]
    assert "by directly to the injured nerve" not in texts["three-routes"]
    for text in texts.values():
        assert "None" not in text and "1 days" not in text
