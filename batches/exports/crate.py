"""An RO-Crate (zip) of a methods export: the text in three formats, the batches with their QC data, and the
protocol versions they followed, described in ro-crate-metadata.json (JSON-LD)."""

import io

from rocrate.model.contextentity import ContextEntity
from rocrate.rocrate import ROCrate

from batches import choices
from batches.exports.methods import render
from protocols.models import ProtocolVersion

RO_CRATE_VERSION = "1.1"
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


def _qc_entities(crate: ROCrate, batch: dict) -> list[ContextEntity]:
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
        if result["raw_data"]:
            properties["url"] = result["raw_data"]
        entities.append(crate.add(ContextEntity(crate, f"#qc-{batch['code']}-{index}", properties=properties)))
    return entities


def _batch_entity(crate: ROCrate, batch: dict) -> ContextEntity:
    values = []
    for key, name, unit in BATCH_PROPERTIES:
        if batch[key] is None or batch[key] == "":
            continue
        properties = {"@type": "PropertyValue", "propertyID": key, "name": name, "value": batch[key]}
        if unit:
            properties["unitText"] = unit
        values.append(crate.add(ContextEntity(crate, f"{_batch_id(batch['code'])}-{key}", properties=properties)))
    qc = _qc_entities(crate, batch)
    properties = {
        "@type": "Product",
        "name": f"Secretome batch {batch['code']}",
        "identifier": batch["code"],
        "category": choices.ProductType(batch["product_type"]).label,
        "additionalProperty": [{"@id": entity.id} for entity in values + qc],
    }
    return crate.add(ContextEntity(crate, _batch_id(batch["code"]), properties=properties))


def build_crate(export: dict, *, protocol_versions: list[ProtocolVersion]) -> bytes:
    """The zipped crate for a methods export."""
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

    batches = [_batch_entity(crate, batch) for batch in export["records"]["batches"]]
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
    mentions = [{"@id": entity.id} for entity in batches + protocols]
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
    about = [{"@id": entity.id} for entity in batches]
    if subject["study"]:
        study = crate.add(
            ContextEntity(
                crate,
                "#study",
                properties={
                    "@type": "CreativeWork",
                    "name": subject["study"],
                    "about": about,
                    "text": "\n\n".join(
                        p
                        for s in export["document"]["sections"]
                        if s["id"] in {"dose", "outcomes"}
                        for p in s["paragraphs"]
                    ),
                },
            )
        )
        about = [{"@id": study.id}, *about]
    crate.root_dataset["about"] = about
    return b"".join(crate.stream_zip())
