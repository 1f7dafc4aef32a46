"""Benchmark (not a test): traceability and impact in one query each, with 1 000 000 batches stored.

    .venv/bin/python benchmarks/trace_impact.py                 # 1 000 000 batches
    .venv/bin/python benchmarks/trace_impact.py --n 100000 --keep

The issue's target: `GET /api/v1/batches/{id}/trace/` and `/impact/` answer with a constant number of SQL
queries on the 1 000 000-batch database, whatever the size of what lies downstream; so do the traces from a
donor, a cell line and an aliquot, and the way back from an administration to the donor.

It creates its own database, `lims_bench_trace`, on the server DATABASE_URL points at (or the embedded one),
migrates it, seeds the demo (the Demo Lab and the Pain Pharmacology Lab, with one real shipment made by the
services), then copies the demo's rows with INSERT … SELECT generate_series: 1 000 donors, cell lines and
passages, N batches spread over them, two aliquots for each of the first 100 000 batches, 20 000 shipments to
the partner lab (each received, its two aliquots given in one of the partner's 200 studies, a notice for one in
ten), and administrations of 80 000 more aliquots in the Demo Lab's own 100 studies. The copies are written with
triggers off (`session_replication_role = replica`): what is measured is the reading, not the audit trail of
the loading. Each call is timed (median of --repeat runs) and its SQL queries counted. The database is dropped
at the end unless --keep is given.
"""

import argparse
import os
import platform
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from benchmarks import database  # noqa: E402  (needs the project on sys.path)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lims.settings")

BENCH_DATABASE = "lims_bench_trace"
DONORS = 1_000
ALIQUOTED_BATCHES = 100_000
SHIPMENTS = 20_000
PARTNER_STUDIES = 200
OWN_STUDIES = 100


def _columns(cursor, table: str) -> list[str]:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = %s AND column_name <> 'id' "
        "ORDER BY ordinal_position",
        [table],
    )
    return [row[0] for row in cursor.fetchall()]


def _copy(cursor, table: str, proto_id: int, source: str, overrides: dict[str, str]) -> int:
    """INSERT copies of one prototype row, one per row of `source`, with some columns computed."""
    columns = _columns(cursor, table)
    unknown = set(overrides) - set(columns)
    if unknown:
        raise KeyError(f"{table} has no column {', '.join(sorted(unknown))}")
    select = ", ".join(overrides.get(column, f'proto."{column}"') for column in columns)
    quoted = ", ".join(f'"{column}"' for column in columns)
    cursor.execute(
        f"INSERT INTO {table} ({quoted}) SELECT {select} FROM {table} proto, {source} AND proto.id = {int(proto_id)}"
    )
    return cursor.rowcount


def _prototypes() -> dict[str, int]:
    from batches import models as m

    shipment = m.Shipment.objects.get(code="SH-25-001")
    received = m.ReceivedAliquot.objects.filter(receipt__shipment=shipment).order_by("pk").first()
    item = received.item
    own = m.Administration.objects.filter(lab_id=shipment.lab_id, aliquot__isnull=False).order_by("pk").first()
    own = own or m.Administration.objects.filter(lab_id=shipment.lab_id).order_by("pk").first()
    return {
        "producer": shipment.lab_id,
        "receiver": shipment.receiver_id,
        "donor": item.batch.passage.cell_line.donor_id,
        "cell_line": item.batch.passage.cell_line_id,
        "passage": item.batch.passage_id,
        "batch": item.batch_id,
        "aliquot": item.aliquot_id,
        "shipment": shipment.pk,
        "item": item.pk,
        "snapshot": received.snapshot_id,
        "receipt": shipment.receipt.pk,
        "received": received.pk,
        "partner_study": received.administrations.get().study_id,
        "partner_administration": received.administrations.get().pk,
        "own_study": own.study_id,
        "own_administration": own.pk,
    }


def _fill(n: int) -> dict[str, int]:
    from django.db import connection, transaction

    p = _prototypes()
    start = time.perf_counter()
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")

        def copy(table: str, proto: str, source: str, overrides: dict[str, str], what: str) -> None:
            began = time.perf_counter()
            count = _copy(cursor, table, p[proto], source, overrides)
            print(f"  {what:<34}{count:>9} rows  {time.perf_counter() - began:6.1f} s", flush=True)

        copy("batches_donor", "donor", f"generate_series(1, {DONORS}) g WHERE TRUE", {"code": "'BD-' || g"}, "donors")
        copy(
            "batches_cellline",
            "cell_line",
            "batches_donor d WHERE d.code LIKE 'BD-%'",
            {"code": "'BCL-' || substr(d.code, 4)", "donor_id": "d.id"},
            "cell lines",
        )
        copy(
            "batches_passage",
            "passage",
            "batches_cellline cl WHERE cl.code LIKE 'BCL-%'",
            {"cell_line_id": "cl.id", "parent_id": "NULL"},
            "passages (one per cell line)",
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_passage ON COMMIT DROP AS SELECT p.id, "
            "row_number() OVER (ORDER BY p.id) - 1 AS slot FROM batches_passage p "
            "JOIN batches_cellline cl ON cl.id = p.cell_line_id WHERE cl.code LIKE 'BCL-%'"
        )
        copy(
            "batches_secretomebatch",
            "batch",
            f"generate_series(1, {n}) g JOIN bench_passage bp ON bp.slot = g % {DONORS} WHERE TRUE",
            {"code": "'BB-' || g", "passage_id": "bp.id", "corrects_id": "NULL", "mock_control_id": "NULL"},
            "batches",
        )
        aliquoted = min(n, ALIQUOTED_BATCHES)
        copy(
            "batches_aliquot",
            "aliquot",
            f"generate_series(1, {aliquoted}) g CROSS JOIN generate_series(1, 2) k "
            "JOIN batches_secretomebatch b ON b.code = 'BB-' || g WHERE TRUE",
            {
                "code": "b.code || '-A' || k",
                "batch_id": "b.id",
                "location_id": "NULL",
                "position": "''",
                "status": f"CASE WHEN g <= {SHIPMENTS} THEN 'consumed' ELSE 'available' END",
            },
            "aliquots",
        )
        shipments = min(SHIPMENTS, aliquoted)
        copy(
            "batches_shipment",
            "shipment",
            f"generate_series(1, {shipments}) g WHERE TRUE",
            {"code": "'BSH-' || g"},
            "shipments to the partner lab",
        )
        copy(
            "batches_shipmentitem",
            "item",
            "batches_shipment s JOIN batches_secretomebatch b ON b.code = 'BB-' || substr(s.code, 5) "
            "JOIN batches_aliquot a ON a.batch_id = b.id WHERE s.code LIKE 'BSH-%'",
            {
                "shipment_id": "s.id",
                "aliquot_id": "a.id",
                "batch_id": "b.id",
                "aliquot_code": "a.code",
                "batch_code": "b.code",
            },
            "shipped aliquots",
        )
        copy(
            "batches_provenancesnapshot",
            "snapshot",
            "batches_shipment s JOIN batches_secretomebatch b ON b.code = 'BB-' || substr(s.code, 5) "
            "WHERE s.code LIKE 'BSH-%'",
            {
                "shipment_id": "s.id",
                "batch_id": "b.id",
                "batch_code": "b.code",
                "fingerprint": "md5(s.code) || md5(b.code)",
            },
            "provenance snapshots",
        )
        copy(
            "batches_shipmentreceipt",
            "receipt",
            "batches_shipment s WHERE s.code LIKE 'BSH-%'",
            {"shipment_id": "s.id"},
            "receipts",
        )
        copy(
            "batches_receivedaliquot",
            "received",
            "batches_shipmentitem i JOIN batches_shipment s ON s.id = i.shipment_id "
            "JOIN batches_shipmentreceipt r ON r.shipment_id = s.id "
            "JOIN batches_provenancesnapshot ps ON ps.shipment_id = s.id WHERE s.code LIKE 'BSH-%'",
            {
                "receipt_id": "r.id",
                "item_id": "i.id",
                "source_aliquot_id": "i.aliquot_id",
                "snapshot_id": "ps.id",
                "code": "'R-' || i.aliquot_code",
                "location_id": "NULL",
                "position": "''",
                "status": "'consumed'",
            },
            "received aliquots",
        )
        copy(
            "batches_study",
            "partner_study",
            f"generate_series(1, {PARTNER_STUDIES}) g WHERE TRUE",
            {"title": "'Partner study ' || g"},
            "partner studies",
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_partner_study ON COMMIT DROP AS SELECT id, "
            "row_number() OVER (ORDER BY id) - 1 AS slot FROM batches_study WHERE title LIKE 'Partner study %'"
        )
        copy(
            "batches_administration",
            "partner_administration",
            "batches_receivedaliquot ra JOIN batches_shipmentitem i ON i.id = ra.item_id "
            f"JOIN bench_partner_study st ON st.slot = ra.id % {PARTNER_STUDIES} WHERE ra.code LIKE 'R-BB-%'",
            {"study_id": "st.id", "batch_id": "i.batch_id", "aliquot_id": "NULL", "received_aliquot_id": "ra.id"},
            "administrations in the partner lab",
        )
        copy(
            "batches_study",
            "own_study",
            f"generate_series(1, {OWN_STUDIES}) g WHERE TRUE",
            {"title": "'Own study ' || g"},
            "the Demo Lab's own studies",
        )
        cursor.execute(
            "CREATE TEMP TABLE bench_own_study ON COMMIT DROP AS SELECT id, "
            "row_number() OVER (ORDER BY id) - 1 AS slot FROM batches_study WHERE title LIKE 'Own study %'"
        )
        copy(
            "batches_administration",
            "own_administration",
            "batches_aliquot a JOIN bench_own_study st ON st.slot = a.id % "
            f"{OWN_STUDIES} WHERE a.code LIKE 'BB-%' AND a.status = 'available'",
            {"study_id": "st.id", "batch_id": "a.batch_id", "aliquot_id": "a.id", "received_aliquot_id": "NULL"},
            "administrations in the Demo Lab",
        )
        cursor.execute(
            """
            INSERT INTO batches_impactnotice (lab_id, created_at, created_by_id, updated_at, version, producer_id,
                batch_id, batch_code, shipment_id, snapshot_id, kind, message, acknowledged_by_id, acknowledged_at)
            SELECT ps.receiver_id, now(), ps.created_by_id, now(), 1, ps.lab_id, ps.batch_id, ps.batch_code,
                   ps.shipment_id, ps.id, 'rejected', 'Batch rejected after shipping', NULL, NULL
            FROM batches_provenancesnapshot ps JOIN batches_shipment s ON s.id = ps.shipment_id
            WHERE s.code LIKE 'BSH-%' AND ps.id % 10 = 0
            """
        )
        print(f"  {'notices to the partner lab':<34}{cursor.rowcount:>9} rows", flush=True)
    print(f"  filled in {time.perf_counter() - start:.0f} s; VACUUM ANALYZE", flush=True)
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
    return p


def _median_ms(function, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        began = time.perf_counter()
        function()
        timings.append((time.perf_counter() - began) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=1_000_000, help="batches stored (default 1000000)")
    parser.add_argument("--repeat", type=int, default=30, help="timed calls per measurement (median reported)")
    parser.add_argument("--keep", action="store_true", help="keep the database for the next run")
    parser.add_argument("--fresh", action="store_true", help="drop a kept database first")
    args = parser.parse_args()

    server = database.server()
    os.environ["DATABASE_URL"] = database.create_database(server, BENCH_DATABASE, drop=args.fresh)
    os.environ.pop("CELERY_BROKER_URL", None)

    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from knox.models import AuthToken

    from batches import models as m
    from batches.checklist.outbox import dispatch_suspended
    from batches.models.checklist import ChecklistOutbox
    from batches.shipments.selectors import trace_downstream, trace_upstream

    try:
        print(f"database {BENCH_DATABASE}: migrating", flush=True)
        call_command("migrate", verbosity=0)
        if not m.SecretomeBatch.objects.filter(code="BB-1").exists():
            print("seeding the demo, then copying its rows", flush=True)
            with dispatch_suspended():
                call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
            ChecklistOutbox.objects.all().delete()
            _fill(args.n)
        stored = m.SecretomeBatch.objects.count()
        producer = m.Shipment.objects.get(code="SH-25-001")
        lab_ids, partner_ids = [producer.lab_id], [producer.receiver_id]
        token = AuthToken.objects.create(user=get_user_model().objects.get(username="tech"))[1]
        client = Client(HTTP_AUTHORIZATION=f"Token {token}")

        shipped = m.SecretomeBatch.objects.get(code="BB-1000")  # shipped, given in the partner lab, a notice
        idle = m.SecretomeBatch.objects.get(code=f"BB-{args.n // 2}")  # nothing downstream
        own_use = m.SecretomeBatch.objects.get(code=f"BB-{min(args.n, ALIQUOTED_BATCHES) - 1}")
        donor = shipped.passage.cell_line.donor
        cell_line_id = shipped.passage.cell_line_id
        aliquot = m.Aliquot.objects.get(code="BB-1000-A1")
        partner_administration = m.Administration.objects.filter(lab_id=partner_ids[0]).order_by("-pk").first()

        def api(path: str):
            def call():
                response = client.get(path)
                assert response.status_code == 200, response.content[:300]
                return response.json()

            return call

        calls = [
            ("API trace, shipped batch", api(f"/api/v1/batches/{shipped.pk}/trace/")),
            ("API impact, shipped batch", api(f"/api/v1/batches/{shipped.pk}/impact/")),
            ("API trace, batch used in-house", api(f"/api/v1/batches/{own_use.pk}/trace/")),
            ("API impact, batch with no use", api(f"/api/v1/batches/{idle.pk}/impact/")),
            ("trace from a donor", lambda: trace_downstream(root="donor", root_id=donor.pk, lab_ids=lab_ids)),
            (
                "trace from a cell line",
                lambda: trace_downstream(root="cell_line", root_id=cell_line_id, lab_ids=lab_ids),
            ),
            ("trace from an aliquot", lambda: trace_downstream(root="aliquot", root_id=aliquot.pk, lab_ids=lab_ids)),
            (
                "administration back to the donor",
                lambda: trace_upstream(administration_id=partner_administration.pk, lab_ids=partner_ids),
            ),
        ]
        print(
            f"\nPython {platform.python_version()}, PostgreSQL {connection.pg_version // 10000}, {os.cpu_count()} cores"
        )
        print(
            f"batches stored: {stored}; aliquots {m.Aliquot.objects.count()}; shipments {m.Shipment.objects.count()}; "
            f"administrations {m.Administration.objects.count()}; median of {args.repeat} calls each"
        )
        donor_trace = trace_downstream(root="donor", root_id=donor.pk, lab_ids=lab_ids)
        print(
            f"the donor's trace: {len(donor_trace.batches)} batches, {len(donor_trace.shipments)} shipped aliquots, "
            f"{len(donor_trace.administrations)} administrations in {len(donor_trace.labs)} labs"
        )
        counts = []
        for name, call in calls:
            call()
            with CaptureQueriesContext(connection) as captured:
                call()
            counts.append(len(captured))
            print(f"  {name:<34}{len(captured):>3} queries  {_median_ms(call, args.repeat):8.2f} ms", flush=True)
        api_counts = set(counts[:4])
        selector_counts = set(counts[4:])
        constant = len(api_counts) == len(selector_counts) == 1
        print(
            f"queries per API call: {sorted(api_counts)}; per selector call: {sorted(selector_counts)}  "
            f"(target: constant whatever lies downstream: {'met' if constant else 'NOT met'})"
        )
    finally:
        database.finish(server, BENCH_DATABASE, keep=args.keep)


if __name__ == "__main__":
    main()
