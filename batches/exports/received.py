"""A study's exports when some of its secretome came from a partner lab.

The receiving lab never reads the producer's records: a received batch is described from the provenance
snapshot shipped with it — the producer's own records snapshot and the checklist's verdict on it, both frozen
when the shipment was dispatched (batches.shipments.snapshots). The version a study's export reads is the one
the receiving lab has taken (batches.shipments.selectors.snapshots_for_study): a correction the producer makes
later changes the receiving lab's text only once the lab has acknowledged the notice that brought it.
"""

from batches.exports import records
from batches.exports.completeness import completeness as checklist_completeness
from batches.models import ProvenanceSnapshot, SecretomeBatch, Study
from batches.shipments.selectors import snapshots_for_study

# The records snapshot's collections a received batch brings along, each with the key that names a row.
_COLLECTIONS = (("cell_lines", "code"), ("donors", "code"), ("primings", "name"), ("protocols", "ref"))


def _producer(snapshot: ProvenanceSnapshot) -> dict:
    content = snapshot.content
    producer = content.get("producer") or {}
    shipment = content.get("shipment") or {}
    return {
        "lab": producer.get("name") or "",
        "institution": producer.get("institution") or "",
        "url": producer.get("url") or "",
        "receiver": (content.get("receiver") or {}).get("name") or "",
        "shipment": shipment.get("code") or "",
        "shipping_condition": shipment.get("shipping_condition") or "",
        "batch": snapshot.batch_code,
        "status": content.get("status") or "",
        "snapshot_version": snapshot.snapshot_version,
        "snapshot_reason": snapshot.reason,
        "fingerprint": snapshot.fingerprint,
    }


def _merge(data: dict, snapshots: list[ProvenanceSnapshot]) -> dict:
    """The study's own records with every received batch's shipped records added, each row once."""
    seen = {name: {row[key] for row in data[name]} for name, key in _COLLECTIONS}
    producers = []
    for snapshot in sorted(snapshots, key=lambda row: row.batch_code):
        shipped = snapshot.content.get("records") or {}
        producer = _producer(snapshot)
        producers.append(producer)
        for batch in shipped.get("batches", []):
            data["batches"].append({**batch, "produced_by": producer["lab"]})
        for name, key in _COLLECTIONS:
            for row in shipped.get(name, []):
                if row[key] not in seen[name]:
                    seen[name].add(row[key])
                    data[name].append(row)
        if shipped.get("signatures"):
            data.setdefault("signatures", []).extend(shipped["signatures"])
    data["batches"].sort(key=lambda batch: batch["code"])
    for name, key in _COLLECTIONS:
        data[name].sort(key=lambda row: row[key] or "")
    data["producers"] = producers
    return data


def _verdict(own: dict, snapshots: list[ProvenanceSnapshot]) -> dict:
    """The checklist's verdict: the study's own batches as stored now, each received batch as it was shipped."""
    batches = dict(own["batches"])
    for snapshot in snapshots:
        frozen = snapshot.content.get("verdict")
        if frozen:
            batches[snapshot.batch_code] = frozen
    versions = {verdict["version"] for verdict in batches.values()}
    if own.get("study"):
        versions.add(own["study"]["version"])
    return {"version": ", ".join(sorted(versions)), "batches": dict(sorted(batches.items())), "study": own["study"]}


def study_inputs(study: Study) -> tuple[dict, dict, list[SecretomeBatch]]:
    """(records snapshot, checklist verdict, the study's own batches) for a study loaded by
    records.study_queryset(). A study that received nothing gets exactly what records.snapshot gives."""
    own = records.study_batches(study)
    data = records.snapshot(batches=own, study=study)
    received = list(snapshots_for_study(study=study).values())
    verdict = checklist_completeness(batches=own, study=study)
    if not received:
        return data, verdict, own
    return _merge(data, received), _verdict(verdict, received), own


def study_records(study: Study) -> dict:
    """The records snapshot alone (the studies table's input)."""
    own = records.study_batches(study)
    data = records.snapshot(batches=own, study=study)
    received = list(snapshots_for_study(study=study).values())
    return _merge(data, received) if received else data
