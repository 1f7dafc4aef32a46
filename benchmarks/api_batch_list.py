"""Benchmark (not a test): the API list of 50 batches next to hand-written SQL + JSON encoding.

    .venv/bin/python benchmarks/api_batch_list.py            # 10 000 batches stored
    .venv/bin/python benchmarks/api_batch_list.py --n 1000000

DESIGN.md's target: with 1,000,000 batches stored, `GET /api/v1/batches/?page_size=50` issues the same
number of SQL queries whatever the page size, and takes at most 2× the time of the equivalent
hand-written SQL (the same count, the same page with the same computed columns, scoped to the
user's labs) encoded with json.dumps. The next page by keyset (`?after=`, no count) is compared with the
same keyset page written by hand.

It creates its own database, `lims_bench_api`, on the server DATABASE_URL points at (or the embedded
one), migrates it, stores N batches (a third with a checklist report, a tenth with a failed QC
result; beyond the first 5,000, saved through the ORM, copies of them written in SQL) and times both
sides, interleaved, taking the median of --repeat runs. The API side goes
through the whole Django stack in-process: middleware, token authentication, permissions, filters,
pagination, serializers and rendering. The database is dropped at the end unless --keep is given.
"""

import argparse
import datetime as dt
import json
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

BENCH_DATABASE = "lims_bench_api"
SAVED = 5000  # batches saved through the ORM; the rest are copies of them

HAND_WRITTEN_LABS = "SELECT lab_id FROM lims_membership WHERE user_id = %(user)s"
# The API reads the whole list's size from the counts the database keeps per lab and status (batches.models.
# counts), so the equivalent SQL does too.
HAND_WRITTEN_COUNT = (
    "SELECT coalesce(sum(c.batches), 0)::bigint FROM batches_batchstatuscount c WHERE c.lab_id IN ({labs})"
)
HAND_WRITTEN_PAGE = """
    SELECT b.id, b.lab_id AS lab, b.created_at, b.created_by_id AS created_by, b.updated_at, b.version, b.code,
           b.passage_id AS passage, b.priming_id AS priming, b.protocol_version_id AS protocol_version,
           b.product_type, b.intended_use, b.confluence_start_percent, b.cells_at_start, b.conditioning_medium,
           b.conditioning_medium_details, b.serum_free, b.serum_percent, b.ev_depletion_method,
           b.conditioning_volume_ml, b.conditioning_time_h, b.conditioning_o2_percent, b.harvest_viability_percent,
           b.harvest_viable_cells, b.collected_at, b.final_volume_ml, b.mock_control_id AS mock_control,
           b.ev_track_id, b.data_repository_ids, b.status, b.operator_id AS operator,
           b.cells_at_start / NULLIF(b.final_volume_ml, 0) AS cell_equivalents_per_ml,
           b.conditioning_volume_ml / NULLIF(b.cells_at_start / 1e6, 0) AS ml_per_million_cells,
           COALESCE((SELECT r.score FROM batches_currentchecklistreport c
                     JOIN batches_checklistreport r ON r.id = c.report_id WHERE c.batch_id = b.id),
                    (SELECT n.score FROM batches_checklistreport n WHERE n.batch_id = b.id
                     ORDER BY n.created_at DESC, n.id DESC LIMIT 1)) AS checklist_score,
           EXISTS (SELECT 1 FROM batches_qcresult q WHERE q.batch_id = b.id AND q.outcome = 'fail'
                   AND q.status <> 'rejected' OFFSET 0) AS qc_out_of_spec
    FROM batches_secretomebatch b
    WHERE b.lab_id IN ({labs}){keyset}
    ORDER BY b.created_at DESC, b.id DESC
    LIMIT %(limit)s
"""


def _fill(n: int):
    """N batches in one lab of the benchmark user (kept between --keep runs; topped up when short)."""
    from django.contrib.auth import get_user_model
    from django.db import transaction

    from batches import models as m
    from batches.checklist.outbox import dispatch_suspended
    from batches.models.checklist import ChecklistOutbox
    from lims.models import Lab, Membership

    lab, _ = Lab.objects.get_or_create(slug="bench-lab", defaults={"name": "Bench Lab"})
    user, created = get_user_model().objects.get_or_create(username="bench")
    if created:
        Membership.objects.create(user=user, lab=lab, role="technician")
    donor, _ = m.Donor.objects.get_or_create(
        lab=lab, code="BD-1", defaults={"species": "human", "tissue_source": "bone_marrow"}
    )
    line, _ = m.CellLine.objects.get_or_create(
        lab=lab,
        code="BCL-1",
        defaults={
            "donor": donor,
            "isolation_method": "explant",
            "basal_medium": "alpha_mem",
            "antibiotics": "pen_strep",
            "supplement": "hpl",
        },
    )
    passage, _ = m.Passage.objects.get_or_create(
        lab=lab,
        cell_line=line,
        number=3,
        defaults={"started_on": dt.date(2025, 1, 1), "vessel": "t175", "area_cm2": 175, "cells_seeded": 875_000},
    )
    priming, _ = m.PrimingCondition.objects.get_or_create(lab=lab, name="No priming", defaults={"kind": "none"})
    have = m.SecretomeBatch.objects.filter(lab=lab).count()
    start = time.perf_counter()
    with dispatch_suspended():
        for first in range(have, min(n, SAVED), 5000):
            with transaction.atomic():
                batches = m.SecretomeBatch.objects.bulk_create(
                    m.SecretomeBatch(
                        lab=lab,
                        code=f"SB-{i:06d}",
                        passage=passage,
                        priming=priming,
                        product_type=("CM", "EV", "CONC", "EVD", "LYO")[i % 5],
                        intended_use=("in_vitro", "in_vivo")[i % 2],
                        cells_at_start=6_000_000 + i,
                        conditioning_volume_ml=20,
                        conditioning_time_h=48,
                        final_volume_ml=18,
                        collected_at=dt.datetime(2025, 1, 1, tzinfo=dt.UTC) + dt.timedelta(minutes=i),
                    )
                    for i in range(first, min(first + 5000, n))
                )
                m.ChecklistReport.objects.bulk_create(
                    m.ChecklistReport(
                        lab=lab,
                        batch=batch,
                        checklist_version="bench",
                        score=(batch.pk * 7) % 100,
                        fingerprint=f"{batch.pk:064x}",
                    )
                    for batch in batches[::3]
                )
                m.QCResult.objects.bulk_create(
                    m.QCResult(
                        lab=lab,
                        batch=batch,
                        assay="endotoxin",
                        method="lal_kinetic",
                        value=2.0,
                        unit="EU/mL",
                        performed_on=dt.date(2025, 2, 1),
                        performed_by=user,
                        outcome="fail",
                    )
                    for batch in batches[::10]
                )
            print(f"  stored {min(first + 5000, n):>7} batches", end="\r", flush=True)
    if n > max(have, SAVED):
        _copy_saved(lab.pk, max(have, SAVED), n)
    ChecklistOutbox.objects.all().delete()
    if have < n:
        print(f"  stored {n - have} batches in {time.perf_counter() - start:.0f} s")
    from django.db import connection

    from batches.models.counts import refresh_batch_status_counts

    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        refresh_batch_status_counts(cursor)  # the copies were written with triggers off
    return user


def _copy_saved(lab_id: int, have: int, n: int) -> None:
    """Batches `have` to `n` as copies of the SAVED batches saved through the ORM (so the product types, uses
    and which batch has a report or a failed result follow the same pattern), each with its own code, cell
    count, collection time and creation time, a report on every third and a failed result on every tenth;
    written with INSERT … SELECT generate_series, triggers off: what is measured is the reading."""
    from django.db import connection, transaction

    from benchmarks.trace_impact import _columns

    def copy(cursor, table: str, source: str, overrides: dict[str, str]) -> None:
        columns = _columns(cursor, table)
        select = ", ".join(overrides.get(column, f'p."{column}"') for column in columns)
        cursor.execute(f"INSERT INTO {table} ({', '.join(columns)}) SELECT {select} FROM {source}")

    with connection.cursor() as cursor:
        cursor.execute("SELECT min(id), max(id) FROM batches_secretomebatch WHERE lab_id = %s", [lab_id])
        first_id, _ = cursor.fetchone()
        cursor.execute("SELECT min(id) FROM batches_checklistreport WHERE lab_id = %s", [lab_id])
        report_id = cursor.fetchone()[0]
        cursor.execute("SELECT min(id) FROM batches_qcresult WHERE lab_id = %s", [lab_id])
        result_id = cursor.fetchone()[0]
    for low in range(have, n, 100_000):
        high = min(low + 100_000, n) - 1
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            cursor.execute("SELECT coalesce(max(id), 0) FROM batches_secretomebatch")
            last_id = cursor.fetchone()[0]
            copy(
                cursor,
                "batches_secretomebatch",
                f"generate_series({low}, {high}) g JOIN batches_secretomebatch p "
                f"ON p.id = {first_id} + g % {SAVED} ORDER BY g",
                {
                    "code": "'SB-' || CASE WHEN g < 1000000 THEN lpad(g::text, 6, '0') ELSE g::text END",
                    "cells_at_start": "6000000 + g",
                    "collected_at": "timestamptz '2025-01-01 00:00+00' + g * interval '1 minute'",
                    "created_at": "clock_timestamp()",
                    "updated_at": "clock_timestamp()",
                },
            )
            new = f"batches_secretomebatch b WHERE b.lab_id = {lab_id} AND b.id > {last_id}"
            copy(
                cursor,
                "batches_checklistreport",
                f"batches_checklistreport p, {new} AND b.id % 3 = 0 AND p.id = {report_id}",
                {"batch_id": "b.id", "score": "(b.id * 7) % 100", "fingerprint": "lpad(to_hex(b.id), 64, '0')"},
            )
            copy(
                cursor,
                "batches_qcresult",
                f"batches_qcresult p, {new} AND b.id % 10 = 0 AND p.id = {result_id}",
                {"batch_id": "b.id"},
            )
        print(f"  stored {high + 1:>7} batches", end="\r", flush=True)


def _hand_written(user_id: int, limit: int, after: tuple | None = None) -> bytes:
    """The first page with its count, or (`after` = (created_at, id) of the row before) the page after a row
    without one, as `?after=` answers it."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(HAND_WRITTEN_LABS, {"user": user_id})
        labs = [row[0] for row in cursor.fetchall()]
        in_labs = ", ".join(str(int(lab)) for lab in labs) or "NULL"
        count = None
        if after is None:
            cursor.execute(HAND_WRITTEN_COUNT.format(labs=in_labs))
            count = cursor.fetchone()[0]
        keyset = "" if after is None else " AND (b.created_at, b.id) < (%(at)s, %(pk)s)"
        at, pk = after or (None, None)
        cursor.execute(HAND_WRITTEN_PAGE.format(labs=in_labs, keyset=keyset), {"limit": limit, "at": at, "pk": pk})
        columns = [column.name for column in cursor.description]
        rows = [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]
    for row in rows:
        for key in ("created_at", "updated_at", "collected_at"):
            if row[key] is not None:
                row[key] = row[key].isoformat()
    page = {"count": count, "next": None, "previous": None, "results": rows}
    return json.dumps(page, ensure_ascii=False, separators=(",", ":")).encode()


def _median_ms(function, repeat: int) -> float:
    timings = []
    for _ in range(repeat):
        start = time.perf_counter()
        function()
        timings.append((time.perf_counter() - start) * 1000)
    return statistics.median(timings)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=10_000, help="batches stored (default 10000)")
    parser.add_argument("--page-size", type=int, default=50)
    parser.add_argument("--repeat", type=int, default=40, help="timed requests per side (median reported)")
    parser.add_argument("--keep", action="store_true", help="keep the database (and its batches) for the next run")
    parser.add_argument("--fresh", action="store_true", help="drop a kept database first")
    args = parser.parse_args()

    server = database.server()
    os.environ["DATABASE_URL"] = database.create_database(server, BENCH_DATABASE, drop=args.fresh)

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext
    from knox.models import AuthToken

    try:
        print(f"database {BENCH_DATABASE}: migrating")
        call_command("migrate", verbosity=0)
        user = _fill(args.n)
        token = AuthToken.objects.create(user=user)[1]
        client = Client(HTTP_AUTHORIZATION=f"Token {token}")

        def api(size: int = args.page_size) -> bytes:
            response = client.get("/api/v1/batches/", {"page_size": size})
            assert response.status_code == 200, response.content[:500]
            return response.content

        queries = {}
        for size in (10, args.page_size, 200):
            api(size)
            with CaptureQueriesContext(connection) as captured:
                api(size)
            queries[size] = len(captured)
        for _ in range(5):
            api()
            _hand_written(user.pk, args.page_size)
        api_ms, sql_ms = [], []
        for _ in range(args.repeat):
            api_ms.append(_median_ms(api, 1))
            sql_ms.append(_median_ms(lambda: _hand_written(user.pk, args.page_size), 1))
        api_median, sql_median = statistics.median(api_ms), statistics.median(sql_ms)
        first_page = json.loads(api())
        results = first_page["results"]
        assert len(results) == min(args.page_size, args.n)

        # The next page by keyset (`?after=`), next to the same page by hand: no count, no OFFSET.
        cursor = first_page["next_cursor"]
        last = results[-1]
        after = (dt.datetime.fromisoformat(last["created_at"].replace("Z", "+00:00")), last["id"])

        def api_after() -> bytes:
            response = client.get("/api/v1/batches/", {"page_size": args.page_size, "after": cursor})
            assert response.status_code == 200, response.content[:500]
            return response.content

        assert [row["id"] for row in json.loads(api_after())["results"]] == [
            row["id"] for row in json.loads(_hand_written(user.pk, args.page_size, after))["results"]
        ]
        with CaptureQueriesContext(connection) as captured:
            api_after()
        after_queries = len(captured)
        after_api, after_sql = [], []
        for _ in range(args.repeat):
            after_api.append(_median_ms(api_after, 1))
            after_sql.append(_median_ms(lambda: _hand_written(user.pk, args.page_size, after), 1))
        after_api_median, after_sql_median = statistics.median(after_api), statistics.median(after_sql)

        print(
            f"\nPython {platform.python_version()}, PostgreSQL {connection.pg_version // 10000}, {os.cpu_count()} cores"
        )
        print(f"batches stored: {args.n}; page size {args.page_size}; median of {args.repeat} runs each")
        print("SQL queries per API list request: " + ", ".join(f"page size {s}: {q}" for s, q in queries.items()))
        print(f"  constant whatever the page size: {'yes' if len(set(queries.values())) == 1 else 'NO'}")
        print(f"API  GET /api/v1/batches/?page_size={args.page_size}: {api_median:7.2f} ms")
        print(f"hand-written SQL + json.dumps:            {sql_median:7.2f} ms")
        ratio = api_median / sql_median
        print(f"ratio API / hand-written: {ratio:.2f}×  (target ≤ 2×: {'met' if ratio <= 2 else 'NOT met'})")
        print(f"API  the next page, ?after= ({after_queries} queries):  {after_api_median:7.2f} ms")
        print(f"hand-written keyset SQL + json.dumps:     {after_sql_median:7.2f} ms")
        ratio = after_api_median / after_sql_median
        print(f"ratio API / hand-written: {ratio:.2f}×  (target ≤ 2×: {'met' if ratio <= 2 else 'NOT met'})")
    finally:
        database.finish(server, BENCH_DATABASE, keep=args.keep)


if __name__ == "__main__":
    main()
