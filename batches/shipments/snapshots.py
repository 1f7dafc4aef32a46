"""The provenance snapshot of a shipped batch: the methods export's records snapshot, plus what a
receiving lab needs to trust it (QC verification, lifecycle, checklist report, the shipment).

Built from `batches.exports.records` so the receiver's methods text reads exactly what the producer's
own export would; fingerprinted with the same canonical JSON as electronic signatures."""

from batches.checklist import evaluate_batch
from batches.exports import records
from batches.exports.completeness import evaluation_snapshot
from batches.models import BatchEvent, QCResult, SecretomeBatch, Shipment
from batches.selectors.checklist import checklist_latest_report
from lims.signatures import content_hash

SNAPSHOT_FORMAT = "secretome-provenance/1"


def _iso(value) -> str | None:
    return None if value is None else value.isoformat()


def _qc_verification(batch: SecretomeBatch) -> list[dict]:
    rows = QCResult.objects.filter(batch=batch).select_related("verified_by").order_by("assay", "analyte", "pk")
    return [
        {
            "assay": row.assay,
            "analyte": row.analyte,
            "outcome": row.outcome,
            "status": row.status,
            "verified_by": None
            if row.verified_by is None
            else (row.verified_by.get_full_name() or row.verified_by.username),
            "verified_at": _iso(row.verified_at),
        }
        for row in rows
    ]


def _lifecycle(batch: SecretomeBatch) -> list[dict]:
    events = BatchEvent.objects.filter(batch=batch).exclude(kind="checked").order_by("at", "pk")
    return [{"kind": event.kind, "at": _iso(event.at), "data": event.data} for event in events]


def _checklist(batch: SecretomeBatch) -> dict | None:
    report = checklist_latest_report(batch=batch)
    if report is None:
        return None
    return {
        "checklist_version": report.checklist_version,
        "score": report.score,
        "score_by_category": report.score_by_category,
        "gates": report.gates,
        "items": report.items,
        "fingerprint": report.fingerprint,
    }


def provenance_content(*, batch: SecretomeBatch, shipment: Shipment) -> dict:
    """Everything the receiver may know of one shipped batch, as canonical-JSON-ready data."""
    loaded = records.batch_queryset().get(pk=batch.pk)
    items = shipment.items.filter(batch=batch).order_by("aliquot_code")
    return {
        "format": SNAPSHOT_FORMAT,
        "producer": {"name": shipment.lab.name, "institution": shipment.lab.institution, "url": shipment.lab.url},
        "receiver": {"name": shipment.receiver.name, "institution": shipment.receiver.institution},
        "shipment": {
            "code": shipment.code,
            "shipping_condition": shipment.shipping_condition,
            "courier": shipment.courier,
            "tracking_reference": shipment.tracking_reference,
            "sent_at": _iso(shipment.sent_at),
            "aliquots": [
                {
                    "code": item.aliquot_code,
                    "volume_ul": item.volume_ul,
                    "state": item.state,
                    "freeze_thaw_count": item.freeze_thaw_count,
                }
                for item in items
            ],
        },
        "batch": batch.code,
        "status": loaded.status,
        "records": records.snapshot(batches=[loaded]),
        "qc_verification": _qc_verification(loaded),
        "lifecycle": _lifecycle(loaded),
        "checklist": _checklist(loaded),
        # The checklist's verdict in the methods export's own shape: the receiving lab's methods text reads it
        # instead of evaluating the producer's records, which it never reads.
        "verdict": evaluation_snapshot(evaluate_batch(loaded)),
    }


def provenance_fingerprint(content: dict) -> str:
    return content_hash(content)
