"""The instrument files QC results were read from travel with the batch's RO-Crate, unchanged and named by hash."""

import hashlib
import io
import json
import zipfile
from pathlib import Path

import pytest
from rocrate_validator import services

from batches.exports import crate, methods
from batches.imports.instruments.services import instrument_import
from batches.models import SecretomeBatch
from tests import factories as f
from tests.batches.exports.test_crate_validation import _failures, _offline_settings, no_network  # noqa: F401

pytestmark = pytest.mark.django_db

NTA = Path(__file__).parent / "files" / "nta-3.2-ExperimentSummary.csv"


def _crate(batch) -> bytes:
    scope = SecretomeBatch.objects.filter(lab=batch.lab)
    export = methods.batches_methods_export(batch_ids=[batch.pk], scope=scope)
    return crate.build_crate(export, protocol_versions=[])


def test_the_raw_nta_export_is_in_the_crate_linked_from_its_qc_results(lab, technician, tmp_path, no_network):  # noqa: F811
    lab.url = "https://pain-lab.example.org/"  # a crate's publisher should have one
    lab.save(update_fields=["url"])
    batch = f.SecretomeBatchFactory(lab=lab, code="SB-NTA-1", product_type="EV")
    content = NTA.read_bytes()
    sha256 = hashlib.sha256(content).hexdigest()
    summary = instrument_import(
        lab=lab,
        actor=technician,
        batch=batch,
        instrument="nta",
        filename="ExperimentSummary.csv",
        content=content,
        dry_run=False,
    )
    assert len(summary["results"]) == 4

    zipped = _crate(batch)

    archive = zipfile.ZipFile(io.BytesIO(zipped))
    path = f"raw/{sha256[:12]}-ExperimentSummary.csv"
    assert archive.read(path) == content
    graph = {entity["@id"]: entity for entity in json.loads(archive.read("ro-crate-metadata.json"))["@graph"]}
    raw = graph[path]
    assert raw["@type"] == "File" and raw["identifier"] == f"sha256:{sha256}"
    assert raw["encodingFormat"] == "text/csv" and raw["contentSize"] == str(len(content))
    assert {"@id": path} in graph["./"]["hasPart"]
    linked = [entity for entity in graph.values() if entity.get("subjectOf") == {"@id": path}]
    assert sorted(entity["propertyID"] for entity in linked) == sorted(r["assay"] for r in summary["results"])
    assert list(archive.namelist()).count(path) == 1  # four results, one file

    crate_path = tmp_path / "batch.zip"
    crate_path.write_bytes(zipped)
    result = services.validate(_offline_settings(crate_path, tmp_path / "http-cache"))
    assert _failures(result) == [] and result.passed()
