"""Every demo crate passes the RO-Crate 1.1 profile of roc-validator, REQUIRED and RECOMMENDED, offline.

The validator resolves the crate's JSON-LD context over HTTP through its own cache. The test fills that
cache with the context file the project ships and runs the validator in its offline mode, with every
socket connection refused: a crate that needed anything from the network would fail here.
"""

import io
import json
import socket
import zipfile
from pathlib import Path

import pytest
import requests
import urllib3
from django.test import override_settings
from rocrate_validator import services
from rocrate_validator.models import Severity, ValidationSettings
from rocrate_validator.utils.http import HttpRequester

from batches.exports import crate, methods
from batches.models import SecretomeBatch, Study
from protocols.selectors import protocol_versions_for_batch

pytestmark = pytest.mark.django_db

SHIPPED_DOCUMENTS = {crate.RO_CRATE_CONTEXT: crate.RO_CRATE_CONTEXT_FILE}


def _versions(batches) -> list:
    found = {v.pk: v for batch in batches for v in protocol_versions_for_batch(batch=batch)}
    return sorted(found.values(), key=lambda v: (v.protocol.code, v.number))


def demo_crates() -> dict[str, bytes]:
    """The crate of the demo study and of each demo batch, as the export endpoints build them."""
    lab_batches = SecretomeBatch.objects.filter(lab__slug="demo-lab").order_by("code")
    crates = {}
    for study in Study.objects.filter(lab__slug="demo-lab", administrations__isnull=False).distinct():
        export = methods.study_methods_export(study=study)
        chosen = lab_batches.filter(code__in=export["subject"]["batches"])
        crates[f"study {study.title}"] = crate.build_crate(export, protocol_versions=_versions(chosen))
    for batch in lab_batches:
        export = methods.batches_methods_export(batch_ids=[batch.pk], scope=lab_batches)
        crates[f"batch {batch.code}"] = crate.build_crate(export, protocol_versions=_versions([batch]))
    # The partner lab's study, whose secretome the demo lab produced: described from the provenance snapshots.
    for study in Study.objects.filter(lab__slug="pain-pharmacology", administrations__isnull=False).distinct():
        export = methods.study_methods_export(study=study)
        crates[f"partner study {study.title}"] = crate.build_crate(export, protocol_versions=[], lab=study.lab)
    return crates


@pytest.fixture
def no_network(monkeypatch):
    def refuse(self, address, *args, **kwargs):
        raise AssertionError(f"the validator tried to reach {address}")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)


def _offline_settings(path: Path, cache: Path, *, shipped: dict[str, Path] = SHIPPED_DOCUMENTS) -> ValidationSettings:
    settings = ValidationSettings(
        rocrate_uri=str(path),
        profile_identifier="ro-crate-1.1",
        requirement_severity=Severity.RECOMMENDED,
        offline=True,
        cache_path=cache,
    )
    session = HttpRequester().session
    adapter = requests.adapters.HTTPAdapter()
    for url, local in shipped.items():
        raw = urllib3.HTTPResponse(
            body=io.BytesIO(local.read_bytes()),
            headers={"Content-Type": "application/ld+json"},
            status=200,
            preload_content=False,
            request_url=url,
        )
        response = adapter.build_response(requests.Request("GET", url).prepare(), raw)
        response.content  # noqa: B018 (read the body before the cache stores it)
        session.cache.save_response(response)
    return settings


def _failures(result) -> list[str]:
    return [
        f"{issue.severity.name} {issue.check.identifier} {issue.check.name}: {issue.message}"
        for issue in result.get_issues(min_severity=Severity.RECOMMENDED)
    ]


def test_every_demo_crate_is_a_valid_ro_crate_1_1_at_recommended_level(demo, tmp_path, no_network):
    crates = demo_crates()
    assert len(crates) >= 5
    problems = {}
    for name, content in crates.items():
        path = tmp_path / f"{name.replace(' ', '-')}.zip"
        path.write_bytes(content)
        import time

        t = time.time()
        result = services.validate(_offline_settings(path, tmp_path / "http-cache"))
        failures = _failures(result)
        print(name, time.time() - t, flush=True)
        if failures or not result.passed():
            problems[name] = failures
    assert not problems, "\n".join(f"{name}:\n  " + "\n  ".join(failures) for name, failures in problems.items())


def _graph(content: bytes) -> dict[str, dict]:
    metadata = json.loads(zipfile.ZipFile(io.BytesIO(content)).read("ro-crate-metadata.json"))
    return {entity["@id"]: entity for entity in metadata["@graph"]}


def _batch_crate(code: str) -> bytes:
    lab_batches = SecretomeBatch.objects.filter(lab__slug="demo-lab")
    batch = lab_batches.get(code=code)
    export = methods.batches_methods_export(batch_ids=[batch.pk], scope=lab_batches)
    return crate.build_crate(export, protocol_versions=_versions([batch]))


def test_the_crate_releases_its_data_under_the_configured_licence(demo):
    graph = _graph(_batch_crate("SB-25-001"))
    licence = graph[graph["./"]["license"]["@id"]]
    assert licence == {
        "@id": "https://creativecommons.org/licenses/by/4.0/",
        "@type": "CreativeWork",
        "name": "Creative Commons Attribution 4.0 International",
        "identifier": "CC-BY-4.0",
        "url": "https://creativecommons.org/licenses/by/4.0/",
        "description": "The data and text in this crate are released under CC-BY-4.0.",
    }
    with override_settings(LIMS_EXPORT_LICENSE="CC0-1.0"):
        graph = _graph(_batch_crate("SB-25-001"))
    assert graph[graph["./"]["license"]["@id"]]["identifier"] == "CC0-1.0"


def test_the_people_who_recorded_the_batch_are_its_authors_and_the_lab_its_publisher(demo):
    graph = _graph(_batch_crate("SB-25-001"))
    root = graph["./"]
    authors = root["author"] if isinstance(root["author"], list) else [root["author"]]
    people = [graph[author["@id"]] for author in authors]
    assert people and all(person["@type"] == "Person" for person in people)
    batch = SecretomeBatch.objects.get(lab__slug="demo-lab", code="SB-25-001")
    assert batch.operator.get_full_name() in {person["name"] for person in people}
    lab = graph[root["publisher"]["@id"]]
    assert lab["@type"] == "Organization" and lab["name"] == "Demo Lab"
    assert lab["url"] == "https://demo-lab.example.org/"
    assert all(person["affiliation"] == {"@id": lab["@id"]} for person in people)


def test_without_the_shipped_context_the_offline_validator_cannot_read_a_crate(demo, tmp_path, no_network):
    path = tmp_path / "batch.zip"
    path.write_bytes(_batch_crate("SB-25-001"))
    result = services.validate(_offline_settings(path, tmp_path / "empty-cache", shipped={}))
    assert not result.passed()
