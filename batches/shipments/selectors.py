"""Reads for shipments: scoped lists, the receiver's view of a batch, and traceability in one query each."""

from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db import connection
from django.db.models import Q, QuerySet

from batches.models import ImpactNotice, PartnerLab, ProvenanceSnapshot, ReceivedAliquot, Shipment
from batches.models.shipments import ShipmentStatus


def shipment_list(*, lab_ids: Iterable[int]) -> QuerySet[Shipment]:
    """Shipments a lab sent, and those sent to it once dispatched (a packed shipment is the sender's own)."""
    ids = list(lab_ids)
    return (
        Shipment.objects.filter(Q(lab_id__in=ids) | (Q(receiver_id__in=ids) & ~Q(status=ShipmentStatus.PACKED)))
        .select_related("lab", "receiver", "packed_by", "dispatched_by", "receipt")
        .order_by("-created_at", "-id")
    )


def partner_lab_list(*, lab_ids: Iterable[int]) -> QuerySet[PartnerLab]:
    return (
        PartnerLab.objects.filter(lab_id__in=list(lab_ids)).select_related("lab", "partner").order_by("lab", "partner")
    )


def snapshot_list(*, lab_ids: Iterable[int]) -> QuerySet[ProvenanceSnapshot]:
    """Snapshots a lab froze (producer) or was shipped (receiver)."""
    ids = list(lab_ids)
    return ProvenanceSnapshot.objects.filter(Q(lab_id__in=ids) | Q(receiver_id__in=ids)).select_related(
        "lab", "receiver", "shipment"
    )


def notice_list(*, lab_ids: Iterable[int]) -> QuerySet[ImpactNotice]:
    return ImpactNotice.objects.filter(lab_id__in=list(lab_ids)).select_related("producer", "shipment", "snapshot")


def open_notice_list(*, user) -> QuerySet[ImpactNotice]:
    """Notices not yet acknowledged in the user's labs, for the dashboard (templates/shipments/_notices.html
    reads them as `shipment_notices`)."""
    from lims.api.scoping import member_lab_ids

    return (
        ImpactNotice.objects.filter(lab_id__in=member_lab_ids(user), acknowledged_at__isnull=True)
        .select_related("producer", "shipment")
        .order_by("-created_at")[:20]
    )


def received_aliquot_list(*, lab_ids: Iterable[int]) -> QuerySet[ReceivedAliquot]:
    return ReceivedAliquot.objects.filter(lab_id__in=list(lab_ids)).select_related(
        "receipt__shipment__lab", "snapshot", "location"
    )


def snapshot_for_batch(*, batch_id: int, lab_id: int) -> ProvenanceSnapshot | None:
    """The newest provenance snapshot of a producer's batch that was shipped to `lab_id` (the receiver's
    only view of the producer's record), or None. For the receiver's methods text: `content["records"]`
    has the methods export's own snapshot shape; `content["producer"]["name"]` names the producing lab;
    `fingerprint` goes in the provenance section."""
    return (
        ProvenanceSnapshot.objects.filter(batch_id=batch_id, receiver_id=lab_id)
        .select_related("lab", "shipment")
        .order_by("-created_at", "-snapshot_version", "-pk")
        .first()
    )


def snapshots_for_study(*, study) -> dict[int, ProvenanceSnapshot]:
    """{producer batch id: the snapshot the study's lab works from} for every batch the study used that came
    from a partner lab (one query).

    That is the newest version the receiving lab has taken: the one frozen at dispatch, the one it received
    with the aliquots, or a later one once it acknowledged the notice that brought it. A correction the producer
    makes after shipping changes the receiving lab's methods text only when the lab has read it."""
    rows = (
        ProvenanceSnapshot.objects.filter(
            receiver_id=study.lab_id,
            batch_id__in=study.administrations.filter(received_aliquot__isnull=False).values("batch_id"),
        )
        .filter(
            Q(notices__isnull=True)
            | Q(notices__acknowledged_at__isnull=False)
            | Q(pk__in=ReceivedAliquot.objects.filter(lab_id=study.lab_id).values("snapshot_id"))
        )
        .select_related("lab", "shipment")
        .order_by("batch_id", "created_at", "snapshot_version", "pk")
    )
    return {row.batch_id: row for row in rows}


# --- Traceability --------------------------------------------------------------------------------

# The batches under a root (a donor, a cell line, a batch or an aliquot), with every correction made of
# them, then every use downstream: aliquots shipped (and what the receiver made of them), and
# administrations in every lab — one statement, whatever the size of the data.
_TRACE_SQL = """
WITH RECURSIVE root_batches AS (
    -- One branch per kind of root, each on its own index; the branches of the other kinds are switched off
    -- by their constant condition, so the planner never scans every batch.
    SELECT b.id FROM batches_secretomebatch b
    WHERE %(kind)s = 'batch' AND b.id = %(id)s AND b.lab_id = ANY(%(lab_ids)s)
    UNION ALL
    SELECT b.id FROM batches_aliquot a JOIN batches_secretomebatch b ON b.id = a.batch_id
    WHERE %(kind)s = 'aliquot' AND a.id = %(id)s AND b.lab_id = ANY(%(lab_ids)s)
    UNION ALL
    SELECT b.id FROM batches_passage p JOIN batches_secretomebatch b ON b.passage_id = p.id
    WHERE %(kind)s = 'cell_line' AND p.cell_line_id = %(id)s AND b.lab_id = ANY(%(lab_ids)s)
    UNION ALL
    SELECT b.id FROM batches_cellline cl
    JOIN batches_passage p ON p.cell_line_id = cl.id
    JOIN batches_secretomebatch b ON b.passage_id = p.id
    WHERE %(kind)s = 'donor' AND cl.donor_id = %(id)s AND b.lab_id = ANY(%(lab_ids)s)
),
traced AS (
    SELECT id FROM root_batches
    UNION
    SELECT c.id FROM batches_secretomebatch c JOIN traced t ON c.corrects_id = t.id
)
SELECT 'batch' AS row_kind, b.lab_id, l.name AS lab_name, b.code AS batch_code, b.status AS status,
       NULL::text AS aliquot_code, NULL::bigint AS shipment_id, NULL::text AS shipment_code,
       NULL::text AS received_code, NULL::boolean AS accepted,
       NULL::bigint AS study_id, NULL::text AS study_title, NULL::text AS group_name,
       NULL::bigint AS administration_id, NULL::double precision AS dose_value, NULL::text AS dose_unit,
       NULL::bigint AS notice_id, NULL::timestamptz AS acknowledged_at
FROM traced t JOIN batches_secretomebatch b ON b.id = t.id JOIN lims_lab l ON l.id = b.lab_id
UNION ALL
SELECT 'shipment', sh.receiver_id, rl.name, si.batch_code, sh.status,
       si.aliquot_code, sh.id, sh.code, ra.code, ra.accepted,
       NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL
FROM batches_shipmentitem si
JOIN traced t ON t.id = si.batch_id
JOIN batches_shipment sh ON sh.id = si.shipment_id
JOIN lims_lab rl ON rl.id = sh.receiver_id
LEFT JOIN batches_receivedaliquot ra ON ra.item_id = si.id
WHERE (%(aliquot_id)s::bigint IS NULL OR si.aliquot_id = %(aliquot_id)s)
UNION ALL
SELECT 'administration', ad.lab_id, al.name, b.code, NULL,
       COALESCE(ra.code, a.code), si.shipment_id, sh.code, ra.code, ra.accepted,
       s.id, s.title, ad."group", ad.id, ad.dose_value, ad.dose_unit, NULL, NULL
FROM batches_administration ad
JOIN traced t ON t.id = ad.batch_id
JOIN batches_secretomebatch b ON b.id = ad.batch_id
JOIN batches_study s ON s.id = ad.study_id
JOIN lims_lab al ON al.id = ad.lab_id
LEFT JOIN batches_aliquot a ON a.id = ad.aliquot_id
LEFT JOIN batches_receivedaliquot ra ON ra.id = ad.received_aliquot_id
LEFT JOIN batches_shipmentitem si ON si.id = ra.item_id
LEFT JOIN batches_shipment sh ON sh.id = si.shipment_id
WHERE (%(aliquot_id)s::bigint IS NULL OR ad.aliquot_id = %(aliquot_id)s OR si.aliquot_id = %(aliquot_id)s)
UNION ALL
SELECT 'notice', n.lab_id, nl.name, n.batch_code, n.kind,
       NULL, n.shipment_id, sh.code, NULL, NULL,
       NULL, NULL, NULL, NULL, NULL, NULL, n.id, n.acknowledged_at
FROM batches_impactnotice n
JOIN traced t ON t.id = n.batch_id
JOIN batches_shipment sh ON sh.id = n.shipment_id
JOIN lims_lab nl ON nl.id = n.lab_id
ORDER BY 1, 3, 4, 8, 12, 13, 6
"""

TRACE_ROOTS = ("donor", "cell_line", "batch", "aliquot")


@dataclass
class StudyUse:
    lab: str
    study_id: int
    study: str
    groups: list[str] = field(default_factory=list)
    administrations: int = 0
    aliquots: list[str] = field(default_factory=list)


@dataclass
class Trace:
    root: str
    root_id: int
    batches: list[dict] = field(default_factory=list)
    shipments: list[dict] = field(default_factory=list)
    administrations: list[dict] = field(default_factory=list)
    notices: list[dict] = field(default_factory=list)

    @property
    def labs(self) -> list[str]:
        names = {row["lab"] for row in self.batches} | {row["lab"] for row in self.shipments}
        return sorted(names | {row["lab"] for row in self.administrations})

    @property
    def studies(self) -> list[StudyUse]:
        uses: dict[int, StudyUse] = {}
        for row in self.administrations:
            use = uses.setdefault(
                row["study_id"], StudyUse(lab=row["lab"], study_id=row["study_id"], study=row["study"])
            )
            use.administrations += 1
            if row["group"] not in use.groups:
                use.groups.append(row["group"])
            if row["aliquot"] and row["aliquot"] not in use.aliquots:
                use.aliquots.append(row["aliquot"])
        return sorted(uses.values(), key=lambda use: (use.lab, use.study))

    def as_dict(self) -> dict:
        return {
            "root": self.root,
            "root_id": self.root_id,
            "labs": self.labs,
            "batches": self.batches,
            "shipments": self.shipments,
            "studies": [use.__dict__ for use in self.studies],
            "administrations": self.administrations,
            "notices": self.notices,
        }


def trace_downstream(*, root: str, root_id: int, lab_ids: Iterable[int]) -> Trace:
    """Everything downstream of a donor, cell line, batch or aliquot of the given labs, in one query."""
    if root not in TRACE_ROOTS:
        raise ValueError(f"root must be one of {TRACE_ROOTS}")
    params = {
        "kind": root,
        "id": root_id,
        "lab_ids": list(lab_ids),
        "aliquot_id": root_id if root == "aliquot" else None,
    }
    with connection.cursor() as cursor:
        # The planner prices the recursion over corrections as if every batch had ten, which puts a query that
        # reads a few thousand rows over the JIT threshold: compiling it cost more than running it (0.3 s of 0.5 s
        # on the 1 000 000-batch benchmark). SET LOCAL in the same statement string ends with its implicit
        # transaction (or with the caller's, inside one), so this is still one round trip and one query.
        cursor.execute("SET LOCAL jit = off; " + _TRACE_SQL, params)
        while cursor.description is None and cursor.nextset():
            pass  # past the SET's result to the trace's (a wrapper may have moved there already)
        columns = [column.name for column in cursor.description]
        rows = [dict(zip(columns, values, strict=True)) for values in cursor.fetchall()]
    trace = Trace(root=root, root_id=root_id)
    for row in rows:
        kind = row["row_kind"]
        if kind == "batch":
            trace.batches.append({"lab": row["lab_name"], "batch": row["batch_code"], "status": row["status"]})
        elif kind == "shipment":
            trace.shipments.append(
                {
                    "lab": row["lab_name"],
                    "shipment_id": row["shipment_id"],
                    "shipment": row["shipment_code"],
                    "status": row["status"],
                    "batch": row["batch_code"],
                    "aliquot": row["aliquot_code"],
                    "received_as": row["received_code"],
                    "accepted": row["accepted"],
                }
            )
        elif kind == "administration":
            trace.administrations.append(
                {
                    "lab": row["lab_name"],
                    "study_id": row["study_id"],
                    "study": row["study_title"],
                    "group": row["group_name"],
                    "administration_id": row["administration_id"],
                    "batch": row["batch_code"],
                    "aliquot": row["aliquot_code"],
                    "shipment": row["shipment_code"],
                    "dose_value": row["dose_value"],
                    "dose_unit": row["dose_unit"],
                }
            )
        else:
            trace.notices.append(
                {
                    "lab": row["lab_name"],
                    "notice_id": row["notice_id"],
                    "batch": row["batch_code"],
                    "kind": row["status"],
                    "shipment": row["shipment_code"],
                    "acknowledged_at": row["acknowledged_at"],
                }
            )
    return trace


_UPSTREAM_SQL = """
SELECT ad.id AS administration_id, s.title AS study, ad."group" AS group_name, al.name AS lab,
       b.code AS batch, b.status AS batch_status, p.number AS passage_number, cl.code AS cell_line, d.code AS donor,
       d.species AS species, d.tissue_source AS tissue_source, bl.name AS producer,
       COALESCE(ra.code, a.code) AS aliquot, sh.code AS shipment,
       (SELECT ps.fingerprint FROM batches_provenancesnapshot ps
         WHERE ps.shipment_id = sh.id AND ps.batch_id = b.id ORDER BY ps.snapshot_version DESC LIMIT 1) AS fingerprint
FROM batches_administration ad
JOIN batches_study s ON s.id = ad.study_id
JOIN lims_lab al ON al.id = ad.lab_id
JOIN batches_secretomebatch b ON b.id = ad.batch_id
JOIN lims_lab bl ON bl.id = b.lab_id
JOIN batches_passage p ON p.id = b.passage_id
JOIN batches_cellline cl ON cl.id = p.cell_line_id
JOIN batches_donor d ON d.id = cl.donor_id
LEFT JOIN batches_aliquot a ON a.id = ad.aliquot_id
LEFT JOIN batches_receivedaliquot ra ON ra.id = ad.received_aliquot_id
LEFT JOIN batches_shipmentitem si ON si.id = ra.item_id
LEFT JOIN batches_shipment sh ON sh.id = si.shipment_id
WHERE ad.id = %(id)s AND ad.lab_id = ANY(%(lab_ids)s)
"""


def trace_upstream(*, administration_id: int, lab_ids: Iterable[int]) -> dict | None:
    """From an administration back to the donor, across the shipment when the aliquot was received (one query).

    Names only what the provenance snapshot shipped to the receiving lab also states (codes, the producer)."""
    with connection.cursor() as cursor:
        cursor.execute(_UPSTREAM_SQL, {"id": administration_id, "lab_ids": list(lab_ids)})
        row = cursor.fetchone()
        if row is None:
            return None
        columns = [column.name for column in cursor.description]
    return dict(zip(columns, row, strict=True))


def received_aliquot_custody(*, aliquot: ReceivedAliquot) -> list[dict]:
    """The aliquot's custody across both labs, oldest first: what the producer's snapshot states (storage,
    freeze–thaw count at packing), the shipment (packed, dispatched), the receipt, then the receiving
    lab's own events. Three queries whatever the history length."""
    item = aliquot.item
    shipment = Shipment.objects.select_related("lab", "receiver", "receipt").get(pk=item.shipment_id)
    shipped = next(
        (row for row in aliquot.snapshot.content.get("records", {}).get("batches", [{}])[0].get("aliquots", [])
         if row.get("code") == item.aliquot_code),
        {},
    )  # fmt: skip
    timeline = [
        {
            "lab": shipment.lab.name,
            "at": None,
            "event": "stored",
            "detail": f"{item.aliquot_code}: {shipped.get('state', item.state)}, "
            f"{shipped.get('temperature_c', '—')} °C, {_cycles_at_packing(item.freeze_thaw_count)}",
        },
        {
            "lab": shipment.lab.name,
            "at": shipment.sent_at,
            "event": "dispatched",
            "detail": f"{shipment.code}, {shipment.get_shipping_condition_display()}, {shipment.courier} "
            f"{shipment.tracking_reference}".strip(),
        },
        {
            "lab": shipment.receiver.name,
            "at": shipment.receipt.received_at,
            "event": "received" if aliquot.accepted else "rejected on receipt",
            "detail": f"{shipment.receipt.get_condition_on_arrival_display()}, logger "
            f"{shipment.receipt.logger_temperature_c if shipment.receipt.logger_temperature_c is not None else '—'} °C"
            + ("" if aliquot.accepted else f"; {aliquot.rejection_reason}"),
        },
    ]
    for event in aliquot.events.order_by("at", "pk"):
        if event.kind in {"moved", "discarded"} and event.at == shipment.receipt.received_at:
            continue
        timeline.append({"lab": shipment.receiver.name, "at": event.at, "event": event.kind, "detail": event.note})
    return timeline


def _cycles_at_packing(count: int | None) -> str:
    """The freeze–thaw count at packing as the producer knew it; an unrecorded count is said, never shown as 0."""
    if count is None:
        return "freeze–thaw cycles not recorded at packing"
    return f"{count} freeze–thaw cycle(s) at packing"
