"""An RO-Crate (zip) of a methods export: the text in three formats, the batches with their QC data, and the
protocol versions they followed, described in ro-crate-metadata.json (JSON-LD)."""

import io
import mimetypes
import re
from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import AbstractBaseUser
from django.utils.text import slugify
from rocrate.model.contextentity import ContextEntity
from rocrate.rocrate import ROCrate

from batches import choices
from batches.exports.methods import render
from batches.models import InstrumentFile, QCResult, SecretomeBatch
from lims.models import Lab
from protocols.models import ProtocolVersion

RO_CRATE_VERSION = "1.1"
RO_CRATE_CONTEXT = "https://w3id.org/ro/crate/1.1/context"
# The context every crate names, as published with the RO-Crate 1.1 specification (CC0), so crates can be
# checked where the network cannot be reached.
RO_CRATE_CONTEXT_FILE = Path(__file__).parent / "jsonld" / "ro-crate-1.1-context.jsonld"
# The licences an exported crate can carry (setting LIMS_EXPORT_LICENSE): SPDX identifier -> name, deed.
LICENSES = {
    "CC-BY-4.0": ("Creative Commons Attribution 4.0 International", "https://creativecommons.org/licenses/by/4.0/"),
    "CC-BY-SA-4.0": (
        "Creative Commons Attribution Share Alike 4.0 International",
        "https://creativecommons.org/licenses/by-sa/4.0/",
    ),
    "CC-BY-NC-4.0": (
        "Creative Commons Attribution Non Commercial 4.0 International",
        "https://creativecommons.org/licenses/by-nc/4.0/",
    ),
    "CC0-1.0": ("Creative Commons Zero v1.0 Universal", "https://creativecommons.org/publicdomain/zero/1.0/"),
}
BATCH_PROPERTIES = (
    ("product_type", "product type", ""),
    ("intended_use", "intended use", ""),
    ("status", "status", ""),
    ("cell_line", "cell line", ""),
    ("passage_number", "passage number", ""),
    ("priming", "priming condition", ""),
    ("cells_at_start", "cells at start of conditioning", "cells"),
    ("conditioning_volume_ml", "conditioning volume", "mL"),
    ("conditioning_time_h", "conditioning time", "h"),
    ("conditioning_o2_percent", "conditioning O2", "%"),
    ("harvest_viability_percent", "viability at harvest", "%"),
    ("final_volume_ml", "final volume", "mL"),
)


def _batch_id(code: str) -> str:
    return f"#batch-{code}"


def _protocol_path(version: ProtocolVersion) -> str:
    return f"protocols/{version.protocol.code}-v{version.number}.md"


RAW_FILE_REFERENCE = re.compile(r"^sha256:(?P<sha256>[0-9a-f]{64})\b")


def _raw_files(lab: Lab, batches: list[dict]) -> dict[str, InstrumentFile]:
    """The uploaded instrument files the batches' QC results were read from, by SHA-256 (one query)."""
    hashes = {
        match["sha256"]
        for batch in batches
        for result in batch["qc"]
        if (match := RAW_FILE_REFERENCE.match(result["raw_data"] or "")) is not None
    }
    if not hashes:
        return {}
    return {raw.sha256: raw for raw in InstrumentFile.objects.filter(lab=lab, sha256__in=hashes)}


def _raw_file_entity(crate: ROCrate, raw: InstrumentFile):
    """The instrument export as it was uploaded, once per crate, named by its hash."""
    stem = re.sub(r"[^A-Za-z0-9._-]+", "_", raw.filename).strip("._") or "export"
    dest_path = f"raw/{raw.sha256[:12]}-{stem}"
    existing = crate.dereference(dest_path)
    if existing is not None:
        return existing
    media_type = mimetypes.guess_type(raw.filename)[0] or "application/octet-stream"
    return crate.add_file(
        io.BytesIO(bytes(raw.content)),
        dest_path=dest_path,
        properties={
            "name": f"{raw.filename} (raw {raw.instrument} export)",
            "encodingFormat": media_type,
            "contentSize": str(raw.size_bytes),
            "identifier": f"sha256:{raw.sha256}",
            "description": f"The instrument export as uploaded, unchanged; SHA-256 {raw.sha256}.",
            "dateCreated": raw.uploaded_at.isoformat(),
        },
    )


def _qc_entities(crate: ROCrate, batch: dict, raw_files: dict[str, InstrumentFile]) -> list[ContextEntity]:
    entities = []
    for index, result in enumerate(batch["qc"], start=1):
        properties = {
            "@type": "PropertyValue",
            "propertyID": result["assay"],
            "name": " ".join(x for x in (choices.Assay(result["assay"]).label, result["analyte"]) if x),
            "measurementTechnique": choices.QCMethod(result["method"]).label,
            "description": f"sample: {result['sample']}; outcome: {result['outcome'] or 'no specification'}; "
            f"status: {result['status']}",
        }
        if result["value"] is not None:
            properties["value"] = result["value"]
            properties["unitText"] = result["unit"]
        else:
            properties["value"] = result["result_text"]
        if result["performed_on"]:
            properties["dateCreated"] = result["performed_on"]
        match = RAW_FILE_REFERENCE.match(result["raw_data"] or "")
        if match is not None and match["sha256"] in raw_files:
            raw = _raw_file_entity(crate, raw_files[match["sha256"]])
            properties["url"] = raw.id
            properties["subjectOf"] = {"@id": raw.id}
        elif result["raw_data"]:
            properties["url"] = result["raw_data"]
        entities.append(crate.add(ContextEntity(crate, f"#qc-{batch['code']}-{index}", properties=properties)))
    return entities


def _batch_entity(crate: ROCrate, batch: dict, raw_files: dict[str, InstrumentFile]) -> ContextEntity:
    values = []
    for key, name, unit in BATCH_PROPERTIES:
        if batch[key] is None or batch[key] == "":
            continue
        properties = {"@type": "PropertyValue", "propertyID": key, "name": name, "value": batch[key]}
        if unit:
            properties["unitText"] = unit
        values.append(crate.add(ContextEntity(crate, f"{_batch_id(batch['code'])}-{key}", properties=properties)))
    qc = _qc_entities(crate, batch, raw_files)
    properties = {
        "@type": "Product",
        "name": f"Secretome batch {batch['code']}",
        "identifier": batch["code"],
        "category": choices.ProductType(batch["product_type"]).label,
        "additionalProperty": _reference(values + qc),
    }
    return crate.add(ContextEntity(crate, _batch_id(batch["code"]), properties=properties))


def export_license() -> tuple[str, str, str]:
    """The licence exported data is released under: SPDX identifier, name and deed URL."""
    identifier = settings.LIMS_EXPORT_LICENSE
    name, url = LICENSES[identifier]
    return identifier, name, url


def _license_entity(crate: ROCrate) -> ContextEntity:
    identifier, name, url = export_license()
    properties = {"@type": "CreativeWork", "name": name, "identifier": identifier, "url": url}
    properties["description"] = f"The data and text in this crate are released under {identifier}."
    return crate.add(ContextEntity(crate, url, properties=properties))


def _exporting_lab(export: dict, protocol_versions: list[ProtocolVersion]) -> Lab:
    """The lab whose batches the export describes (codes are unique per lab; the protocols break ties)."""
    codes = set(export["subject"]["batches"])
    holders: dict[int, set[str]] = {}
    for lab_id, code in SecretomeBatch.objects.filter(code__in=codes).values_list("lab_id", "code"):
        holders.setdefault(lab_id, set()).add(code)
    candidates = sorted(lab_id for lab_id, held in holders.items() if held == codes)
    followed = {version.lab_id for version in protocol_versions}
    chosen = next((lab_id for lab_id in candidates if lab_id in followed), candidates[0])
    return Lab.objects.get(pk=chosen)


def _organization_entity(crate: ROCrate, lab: Lab) -> ContextEntity:
    properties = {"@type": "Organization", "name": lab.name, "identifier": lab.slug}
    if lab.url:
        properties["url"] = lab.url
    if lab.institution:
        properties["description"] = f"{lab.name}, {lab.institution}"
    return crate.add(ContextEntity(crate, f"#organization-{lab.slug}", properties=properties))


def _producer_entities(crate: ROCrate, producers: list[dict]) -> dict[str, ContextEntity]:
    """The partner labs that produced received batches, as the provenance snapshots name them."""
    entities = {}
    for row in producers:
        if row["lab"] in entities:
            continue
        properties = {"@type": "Organization", "name": row["lab"]}
        if row.get("url"):
            properties["url"] = row["url"]
        if row.get("institution"):
            properties["description"] = f"{row['lab']}, {row['institution']}"
        identifier = f"#producer-{slugify(row['lab']) or len(entities)}"
        entities[row["lab"]] = crate.add(ContextEntity(crate, identifier, properties=properties))
    return entities


def _people_entities(crate: ROCrate, lab: Lab, codes: list[str], organization: ContextEntity) -> list[ContextEntity]:
    """The people who recorded the batches and their QC results, each once, by name."""
    batches = SecretomeBatch.objects.filter(lab=lab, code__in=codes)
    people: dict[int, AbstractBaseUser] = {}
    for batch in batches.select_related("operator").exclude(operator=None):
        people[batch.operator.pk] = batch.operator
    for result in QCResult.objects.filter(batch__in=batches).select_related("performed_by"):
        people[result.performed_by.pk] = result.performed_by
    entities = []
    for person in sorted(people.values(), key=lambda p: (p.last_name, p.first_name, p.get_username())):
        properties = {
            "@type": "Person",
            "name": person.get_full_name() or person.get_username(),
            "affiliation": {"@id": organization.id},
        }
        entities.append(crate.add(ContextEntity(crate, f"#person-{person.get_username()}", properties=properties)))
    return entities


def _reference(entities: list[ContextEntity]) -> dict | list[dict]:
    """JSON-LD in compact form: one link alone, several as a list."""
    links = [{"@id": entity.id} for entity in entities]
    return links[0] if len(links) == 1 else links


def build_crate(export: dict, *, protocol_versions: list[ProtocolVersion], lab: Lab | None = None) -> bytes:
    """The zipped crate for a methods export; `lab` is the exporting lab when the caller knows it (a study's)."""
    crate = ROCrate(version=RO_CRATE_VERSION)
    subject = export["subject"]
    crate.name = (
        f"Methods and records of the study “{subject['study']}”"
        if subject["study"]
        else f"Methods and records of secretome batch{'es' if len(subject['batches']) > 1 else ''} "
        + ", ".join(subject["batches"])
    )
    crate.description = (
        "Methods section generated from the LIMS records (Markdown, DOCX, JSON), the secretome batches with "
        "their quality-control data, and the protocol versions they followed. "
        f"Checklist: {export['checklist_version']}."
    )
    crate.root_dataset["identifier"] = export["fingerprint"]
    crate.root_dataset["license"] = {"@id": _license_entity(crate).id}
    lab = lab or _exporting_lab(export, protocol_versions)
    organization = _organization_entity(crate, lab)
    authors = _people_entities(crate, lab, subject["batches"], organization) or [organization]
    crate.root_dataset["author"] = _reference(authors)
    crate.root_dataset["publisher"] = {"@id": organization.id}

    raw_files = _raw_files(lab, export["records"]["batches"])
    batches = [_batch_entity(crate, batch, raw_files) for batch in export["records"]["batches"]]
    producers = _producer_entities(crate, export["records"].get("producers") or [])
    if producers:
        # Secretome received from partner labs: each batch names the lab that made it, and both labs are credited.
        for entity, batch in zip(batches, export["records"]["batches"], strict=True):
            if batch.get("produced_by") in producers:
                entity["manufacturer"] = {"@id": producers[batch["produced_by"]].id}
        crate.root_dataset["contributor"] = _reference(list(producers.values()))
    protocols = []
    for version in protocol_versions:
        protocols.append(
            crate.add_file(
                io.BytesIO(version.body.encode()),
                dest_path=_protocol_path(version),
                properties={
                    "@type": ["File", "HowTo"],
                    "name": f"{version.protocol.code} v{version.number} — {version.protocol.title}",
                    "version": str(version.number),
                    "creativeWorkStatus": version.status,
                    "encodingFormat": "text/markdown",
                    "text": version.body,
                },
            )
        )
    mentions = _reference(batches + protocols)
    formats = (
        ("md", "text/markdown", "Methods section (Markdown)"),
        ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document", "Methods section (DOCX)"),
        ("json", "application/json", "Methods export: text, records and checklist verdict (JSON)"),
    )
    for fmt, media_type, name in formats:
        rendered = render(export, fmt)
        properties = {"name": name, "encodingFormat": media_type, "mentions": mentions}
        if fmt == "md":
            properties["text"] = rendered.content.decode()
        crate.add_file(io.BytesIO(rendered.content), dest_path=f"methods.{fmt}", properties=properties)
    about = batches
    if subject["study"]:
        study = crate.add(
            ContextEntity(
                crate,
                "#study",
                properties={
                    "@type": "CreativeWork",
                    "name": subject["study"],
                    "about": _reference(about),
                    "text": "\n\n".join(
                        p
                        for s in export["document"]["sections"]
                        if s["id"] in {"dose", "outcomes"}
                        for p in s["paragraphs"]
                    ),
                },
            )
        )
        about = [study, *about]
    crate.root_dataset["about"] = _reference(about)
    return b"".join(crate.stream_zip())
