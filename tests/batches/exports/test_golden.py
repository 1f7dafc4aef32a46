"""Golden files: the demo batches and the demo study export exactly the text reviewed in tests/.../golden/.

Regenerate deliberately after a reviewed change of wording: UPDATE_GOLDEN=1 pytest tests/batches/exports/test_golden.py
"""

import difflib
import os
from pathlib import Path

import pytest

from batches.exports import methods
from batches.models import SecretomeBatch

pytestmark = pytest.mark.django_db

GOLDEN = Path(__file__).parent / "golden"
DEMO_BATCHES = ("SB-25-000-MOCK", "SB-25-001", "SB-25-002", "SB-25-003", "SB-25-004")


def _exports(study) -> dict[str, bytes]:
    scope = SecretomeBatch.objects.filter(lab=study.lab)
    outputs = {}
    for code in DEMO_BATCHES:
        export = methods.batches_methods_export(batch_ids=[scope.get(code=code).pk], scope=scope)
        outputs[f"batch-{code}.md"] = methods.render(export, "md").content
    study_export = methods.study_methods_export(study=study)
    outputs["study.md"] = methods.render(study_export, "md").content
    outputs["study.json"] = methods.render(study_export, "json").content
    return outputs


def test_the_demo_exports_match_their_golden_files(demo):
    outputs = _exports(demo)
    if os.environ.get("UPDATE_GOLDEN") == "1":
        GOLDEN.mkdir(exist_ok=True)
        for name, content in outputs.items():
            (GOLDEN / name).write_bytes(content)
    differences = []
    for name, content in outputs.items():
        path = GOLDEN / name
        expected = path.read_bytes() if path.exists() else b""
        if content != expected:
            diff = difflib.unified_diff(
                expected.decode().splitlines(), content.decode().splitlines(), f"golden/{name}", "export", lineterm=""
            )
            differences.append("\n".join(list(diff)[:40]))
    assert not differences, "\n\n".join(differences)
