"""`lims` is the layer under the apps: the apps register their rules, routes and words with it, and it imports
none of them (DESIGN.md; issue "one guarded write path")."""

import ast
from pathlib import Path

import pytest
from django.urls import reverse

ROOT = Path(__file__).resolve().parents[2]
APPS_ABOVE = {"batches", "protocols"}


def _imported_modules(path: Path) -> list[tuple[int, str]]:
    tree = ast.parse(path.read_text(), filename=str(path))
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.extend((node.lineno, alias.name) for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.append((node.lineno, node.module))
    return found


def test_no_module_of_lims_imports_an_app_above_it():
    offending = [
        f"{path.relative_to(ROOT)}:{line} imports {module}"
        for path in sorted((ROOT / "lims").rglob("*.py"))
        if "migrations" not in path.parts
        for line, module in _imported_modules(path)
        if module.split(".")[0] in APPS_ABOVE
    ]
    assert offending == []


def test_the_check_sees_an_import_of_an_app(tmp_path):
    sample = tmp_path / "sample.py"
    sample.write_text("def f():\n    from batches.models import SecretomeBatch\n    import protocols.services\n")
    assert _imported_modules(sample) == [(2, "batches.models"), (3, "protocols.services")]


@pytest.mark.django_db
def test_the_apps_lend_the_api_their_routes_and_the_schema_their_words(client):
    from lims.api.urls import router

    prefixes = {prefix for prefix, _viewset, _basename in router.registry}
    assert {"batches", "protocols", "memberships"} <= prefixes
    assert reverse("dashboard") == "/"

    from batches.api.serializers import BatchSerializer

    field = BatchSerializer().get_fields()["final_volume_ml"]
    assert field.label == "Final volume"
