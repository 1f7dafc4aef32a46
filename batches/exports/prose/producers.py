"""Who produced the secretome, when it came from a partner lab: said before the producer's details, and with the
provenance snapshots the details were read from. Records without `producers` (a lab's own batches) say nothing."""

from batches.exports import typography as t
from batches.exports.prose.common import Context, codes_text

SHIPPED = {
    "dry_ice": "on dry ice",
    "ln2_dry_shipper": "in a liquid-nitrogen dry shipper",
    "refrigerated": "at 4 °C",
    "ambient": "at ambient temperature",
}
LATER = {"rejected": "rejected", "retired": "retired"}


def _by_lab(ctx: Context) -> dict[tuple[str, str], list[dict]]:
    labs: dict[tuple[str, str], list[dict]] = {}
    for row in ctx.snapshot.get("producers") or []:
        labs.setdefault((row["lab"], row["institution"]), []).append(row)
    return labs


def produced_by(ctx: Context) -> list[str]:
    """'Secretome was produced and characterised by <lab> as follows, and shipped on dry ice (shipment …).'"""
    sentences = []
    for (lab, institution), rows in sorted(_by_lab(ctx).items()):
        who = f"{lab} ({institution})" if institution else lab
        which = ctx.which(row["batch"] for row in rows)
        conditions = {row["shipping_condition"] for row in rows if row["shipping_condition"] in SHIPPED}
        shipped = " and ".join(sorted(SHIPPED[condition] for condition in conditions))
        shipments = codes_text({row["shipment"] for row in rows if row["shipment"]})
        receivers = t.join(sorted({row["receiver"] for row in rows if row["receiver"]})) or "the testing lab"
        how = f" {shipped}" if shipped else ""
        sentences.append(
            t.sentence(
                f"Secretome{which} was produced and characterised by {who} as follows, and shipped{how} to "
                f"{receivers} (shipment {shipments})"
            )
        )
        for row in rows:
            status = LATER.get(row["status"])
            if status:
                reason = f": {row['snapshot_reason'].rstrip('.')}" if row["snapshot_reason"] else ""
                sentences.append(t.sentence(f"After shipping, {lab} {status} batch {row['batch']}{reason}"))
    return [" ".join(sentences)] if sentences else []


def provenance(ctx: Context) -> list[str]:
    """The snapshot each received batch was described from, with its fingerprint."""
    paragraphs = []
    for (lab, _institution), rows in sorted(_by_lab(ctx).items()):
        listed = "; ".join(
            f"{row['batch']}, version {row['snapshot_version']} shipped in {row['shipment']}, "
            f"fingerprint {row['fingerprint']}"
            for row in rows
        )
        paragraphs.append(t.sentence(f"Secretome records of {lab}, from its signed provenance snapshots: {listed}"))
    return paragraphs
