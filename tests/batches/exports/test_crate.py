"""The RO-Crate of a study: JSON-LD metadata with the batches, their QC data, the protocols and the text."""

import io
import json
import zipfile

import pytest
from rocrate.rocrate import ROCrate

from batches.exports import crate, methods
from batches.models import SecretomeBatch
from protocols.selectors import protocol_versions_for_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def study_crate(demo) -> bytes:
    export = methods.study_methods_export(study=demo)
    batches = SecretomeBatch.objects.filter(code__in=export["subject"]["batches"], lab=demo.lab)
    versions = {v.pk: v for batch in batches for v in protocol_versions_for_batch(batch=batch)}
    return crate.build_crate(export, protocol_versions=sorted(versions.values(), key=lambda v: v.pk))


def _graph(content: bytes) -> dict[str, dict]:
    metadata = json.loads(zipfile.ZipFile(io.BytesIO(content)).read("ro-crate-metadata.json"))
    assert metadata["@context"] == "https://w3id.org/ro/crate/1.1/context"
    return {entity["@id"]: entity for entity in metadata["@graph"]}


def _types(entity: dict) -> set[str]:
    kind = entity["@type"]
    return set(kind) if isinstance(kind, list) else {kind}


def test_the_metadata_is_json_ld_with_a_root_dataset_and_its_descriptor(study_crate):
    graph = _graph(study_crate)
    assert graph["ro-crate-metadata.json"]["about"] == {"@id": "./"}
    root = graph["./"]
    assert root["@type"] == "Dataset"
    assert root["identifier"].startswith("sha256:")
    assert {"methods.md", "methods.docx", "methods.json"} <= {part["@id"] for part in root["hasPart"]}
    for entity in graph.values():
        assert entity["@id"] and entity["@type"]


def test_the_crate_holds_each_batch_with_its_qc_data(study_crate):
    graph = _graph(study_crate)
    batch = graph["#batch-SB-25-002"]
    assert _types(batch) == {"Product"}
    properties = [graph[ref["@id"]] for ref in batch["additionalProperty"]]
    endotoxin = next(p for p in properties if p.get("propertyID") == "endotoxin")
    assert endotoxin["value"] == 0.05 and endotoxin["unitText"] == "EU/mL"
    assert any(p.get("propertyID") == "particle_concentration" for p in properties)
    assert {"#study", "#batch-SB-25-001", "#batch-SB-25-002"} <= {ref["@id"] for ref in graph["./"]["about"]}


def test_the_crate_holds_the_protocol_versions_and_the_methods_text(study_crate):
    graph = _graph(study_crate)
    protocols = [entity for entity in graph.values() if "HowTo" in _types(entity)]
    assert protocols and all(entity["text"] and entity["@id"].startswith("protocols/") for entity in protocols)
    archive = zipfile.ZipFile(io.BytesIO(study_crate))
    assert archive.read(protocols[0]["@id"]).decode() == protocols[0]["text"]
    methods_text = graph["methods.md"]["text"]
    assert methods_text == archive.read("methods.md").decode()
    assert "## Reporting completeness" in methods_text


def test_rocrate_reads_the_crate_back(study_crate, tmp_path):
    path = tmp_path / "study.zip"
    path.write_bytes(study_crate)
    read = ROCrate(path)
    ids = {entity.id for entity in read.get_entities()}
    assert {"./", "ro-crate-metadata.json", "#batch-SB-25-001", "#study"} <= ids
    assert read.root_dataset["identifier"].startswith("sha256:")
