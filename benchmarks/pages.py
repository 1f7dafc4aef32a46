"""Benchmark (not a test): the main pages and the API batch list with 1 000 and with 1 000 000 batches (20 labs).

    .venv/bin/python benchmarks/pages.py                  # 1 000, then 1 000 000 batches
    .venv/bin/python benchmarks/pages.py --large 200000 --keep

The issue's targets: every main page (dashboard, batch list, review queue, QC trends, storage box, batch page,
study page) and the API list answer with the same number of SQL queries at both sizes, and each page takes at
most 1.5× its own time at 1 000 batches.

It creates its own database (`lims_bench_1m`) on the server DATABASE_URL points at, migrates it and seeds the
demo (the Demo Lab's user `pi` opens the pages), adds 19 labs, then copies one of the demo's batches with
INSERT … SELECT generate_series, spread evenly over the 20 labs (each with its own donor, cell line and
passage), each copy with an endotoxin QC result: first up to 1 000 batches, then up to --large. Copies are
written with triggers off (`session_replication_role = replica`): what is measured is the reading. With the
triggers off, the per-lab status counts the dashboard reads (kept by the batch table's triggers,
batches.models.counts) are not kept either: after each copy they are recounted from the batch table
(`refresh_batch_status_counts`), or the dashboard would show the counts of before the copy. Each page is
requested in-process through the whole Django stack (middleware, session, templates); the median of --repeat
requests is reported with the number of SQL queries of one request, and the ratios of the medians and of the
fastest requests (on a machine shared with other work, the fastest is the cost without waiting for a core).
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
from benchmarks.trace_impact import _copy  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lims.settings")

BENCH_DATABASE = "lims_bench_1m"
LABS = 20


def _prototypes() -> dict[str, int]:
    from batches import models as m
    from lims.models import Lab

    lab = Lab.objects.get(slug="demo-lab")
    batch = m.SecretomeBatch.objects.filter(lab=lab, corrects__isnull=True).order_by("pk").first()
    result = m.QCResult.objects.filter(lab=lab, assay="endotoxin").order_by("pk").first()
    return {
        "lab": lab.pk,
        "donor": batch.passage.cell_line.donor_id,
        "cell_line": batch.passage.cell_line_id,
        "passage": batch.passage_id,
        "batch": batch.pk,
        "qc": result.pk,
    }


def _labs_and_cells(cursor, p: dict[str, int]) -> None:
    """19 more labs; in each of the 20, a donor, a cell line and a passage the copied batches hang from."""
    _copy(
        cursor,
        "lims_lab",
        p["lab"],
        f"generate_series(1, {LABS - 1}) g WHERE TRUE",
        {"name": "'Bench Lab ' || g", "slug": "'bench-lab-' || g"},
    )
    cursor.execute(
        "CREATE TABLE bench_lab AS SELECT id, row_number() OVER (ORDER BY id) - 1 AS slot FROM lims_lab "
        "WHERE id = %s OR slug LIKE 'bench-lab-%%'",
        [p["lab"]],
    )
    _copy(cursor, "batches_donor", p["donor"], "bench_lab l WHERE TRUE", {"code": "'PBD-' || l.slot", "lab_id": "l.id"})
    _copy(
        cursor,
        "batches_cellline",
        p["cell_line"],
        "bench_lab l JOIN batches_donor d ON d.code = 'PBD-' || l.slot WHERE TRUE",
        {"code": "'PBCL-' || l.slot", "lab_id": "l.id", "donor_id": "d.id"},
    )
    _copy(
        cursor,
        "batches_passage",
        p["passage"],
        "bench_lab l JOIN batches_cellline c ON c.code = 'PBCL-' || l.slot WHERE TRUE",
        {"lab_id": "l.id", "cell_line_id": "c.id", "parent_id": "NULL", "protocol_version_id": "NULL"},
    )
    cursor.execute(
        "CREATE TABLE bench_passage AS SELECT l.slot, l.id AS lab_id, p.id FROM bench_lab l "
        "JOIN batches_cellline c ON c.code = 'PBCL-' || l.slot JOIN batches_passage p ON p.cell_line_id = c.id"
    )


def _batches(cursor, p: dict[str, int], first: int, last: int) -> None:
    """Batches PB-first … PB-last (created one second apart, newest last), each with an endotoxin result."""
    began = time.perf_counter()
    _copy(
        cursor,
        "batches_secretomebatch",
        p["batch"],
        f"generate_series({first}, {last}) g JOIN bench_passage bp ON bp.slot = g % {LABS} WHERE TRUE",
        {
            "code": "'PB-' || g",
            "lab_id": "bp.lab_id",
            "passage_id": "bp.id",
            "priming_id": "NULL",
            "protocol_version_id": "NULL",
            "mock_control_id": "NULL",
            "corrects_id": "NULL",
            "operator_id": "NULL",
            "status": "'draft'",
            "created_at": "timestamptz '2020-01-01' + g * interval '1 second'",
        },
    )
    _copy(
        cursor,
        "batches_qcresult",
        p["qc"],
        f"batches_secretomebatch b WHERE b.code LIKE 'PB-%%' AND substr(b.code, 4)::int BETWEEN {first} AND {last}",
        {
            "batch_id": "b.id",
            "lab_id": "b.lab_id",
            "specification_id": "NULL",
            "protocol_version_id": "NULL",
            "corrects_id": "NULL",
            "value": "0.01 + (b.id % 100) / 1000.0",
            "performed_on": "date '2020-01-01' + (b.id % 1500)::int",
        },
    )
    print(f"  batches PB-{first} … PB-{last} with their QC results in {time.perf_counter() - began:.0f} s", flush=True)


def _measure(client, calls, repeat: int) -> dict[str, tuple[int, float, float]]:
    from django.db import connection

    def counted(execute, sql, params, many, context):
        statements.append(sql)
        return execute(sql, params, many, context)

    measured = {}
    for name, path in calls:
        response = client.get(path)
        assert response.status_code == 200, (path, response.status_code)
        statements: list[str] = []
        with connection.execute_wrapper(counted):
            client.get(path)
        timings = []
        for _ in range(repeat):
            began = time.perf_counter()
            client.get(path)
            timings.append((time.perf_counter() - began) * 1000)
        measured[name] = (len(statements), statistics.median(timings), min(timings))
    return measured


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--small", type=int, default=1_000, help="batches copied first (default 1000)")
    parser.add_argument("--large", type=int, default=1_000_000, help="batches copied in all (default 1000000)")
    parser.add_argument("--repeat", type=int, default=15, help="timed requests per page (median reported)")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    parser.add_argument("--reuse", action="store_true", help="start from a database a --keep run left")
    args = parser.parse_args()

    server = database.server()
    os.environ["DATABASE_URL"] = database.create_database(server, BENCH_DATABASE, drop=not args.reuse)
    os.environ.pop("CELERY_BROKER_URL", None)

    import django

    django.setup()
    from django.conf import settings

    # Pages are rendered in this process without collectstatic: plain static URLs, as with DEBUG on.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection, transaction
    from django.test import Client

    from batches import models as m
    from batches.checklist.outbox import dispatch_suspended
    from batches.models.checklist import ChecklistOutbox
    from batches.models.counts import refresh_batch_status_counts
    from lims.api.pagination import encode_cursor

    try:
        began = time.perf_counter()
        call_command("migrate", verbosity=0)
        reused = args.reuse and m.SecretomeBatch.objects.filter(code="PB-1").exists()
        if not reused:
            with dispatch_suspended():
                call_command("seed_demo", verbosity=0, stdout=open(os.devnull, "w"))  # noqa: SIM115
            ChecklistOutbox.objects.all().delete()
        p = _prototypes()
        print(f"database {BENCH_DATABASE}: migrated and seeded in {time.perf_counter() - began:.0f} s", flush=True)
        copied = m.SecretomeBatch.objects.filter(code__startswith="PB-").count()
        if copied > args.small:
            raise SystemExit(f"{BENCH_DATABASE} holds {copied:,} copied batches already; run without --reuse")
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            if not reused:
                _labs_and_cells(cursor, p)
            if copied < args.small:
                _batches(cursor, p, copied + 1, args.small)
            refresh_batch_status_counts(cursor)  # the triggers that keep them were off
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")

        pi = get_user_model().objects.get(username="pi")
        client = Client()
        client.force_login(pi)
        demo = m.SecretomeBatch.objects.filter(lab_id=p["lab"]).order_by("pk").first()
        box = m.StorageLocation.objects.filter(lab_id=p["lab"], kind="box").order_by("pk").first()
        study = m.Study.objects.filter(lab_id=p["lab"]).order_by("pk").first()
        newest = client.get("/api/v1/batches/", {"page_size": 50}).json()
        calls = [
            ("dashboard", "/"),
            ("batch list", "/batches/"),
            ("batch list, older page", None),  # filled in per size: after the first page's last row
            ("review queue", "/review/"),
            ("QC trends", "/qc/trends/?assay=endotoxin"),
            ("QC trend data", "/qc/trends/data/?assay=endotoxin"),
            ("storage box", f"/storage/box/{box.pk}/"),
            ("batch page", f"/batches/{demo.pk}/"),
            ("study page", f"/studies/{study.pk}/"),
            ("API list, 50 (page 1)", "/api/v1/batches/?page_size=50"),
            ("API list, 50 (?after=)", None),
        ]

        def resolved():
            # The older page starts after the lab's 25th newest batch (a page of 50 rows at most).
            newest = m.SecretomeBatch.objects.filter(lab_id=p["lab"]).order_by("-created_at", "-id")
            older = encode_cursor(newest[24])
            after = client.get("/api/v1/batches/", {"page_size": 50}).json()["next_cursor"]
            paths = {
                "batch list, older page": f"/batches/?after={older}",
                "API list, 50 (?after=)": f"/api/v1/batches/?page_size=50&after={after}",
            }
            return [(name, path or paths[name]) for name, path in calls]

        assert newest["results"], "the demo user lists no batch"
        stored_small = m.SecretomeBatch.objects.count()
        small = _measure(client, resolved(), args.repeat)

        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = replica")
            step = 250_000
            for first in range(args.small + 1, args.large + 1, step):
                _batches(cursor, p, first, min(first + step - 1, args.large))
            refresh_batch_status_counts(cursor)
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
        stored_large = m.SecretomeBatch.objects.count()
        large = _measure(client, resolved(), args.repeat)

        print(
            f"\nPython {platform.python_version()}, PostgreSQL {connection.pg_version // 10000}, "
            f"{os.cpu_count()} cores; {LABS} labs; median of {args.repeat} requests"
        )
        sizes = f"{f'{stored_small:,} batches':>22}{f'{stored_large:,} batches':>24}"
        print(f"{'':26}{sizes}{'× time':>9}{'× fastest':>11}")
        print(f"{'':26}{'queries':>10}{'ms':>12}{'queries':>12}{'ms':>12}")
        equal, within, within_fastest = True, True, True
        for name, _ in calls:
            (q1, t1, f1), (q2, t2, f2) = small[name], large[name]
            equal &= q1 == q2
            within &= t2 <= 1.5 * t1
            within_fastest &= f2 <= 1.5 * f1
            flag = "" if q1 == q2 else "  (queries differ)"
            print(f"{name:<26}{q1:>10}{t1:>12.1f}{q2:>12}{t2:>12.1f}{t2 / t1:>9.2f}{f2 / f1:>11.2f}{flag}")
        print(
            f"query counts equal at both sizes: {'yes' if equal else 'NO'}; "
            f"every page ≤ 1.5× its time at {stored_small:,}: {'yes' if within else 'NO'} (medians), "
            f"{'yes' if within_fastest else 'NO'} (fastest requests)"
        )
    finally:
        database.finish(server, BENCH_DATABASE, keep=args.keep)


if __name__ == "__main__":
    main()
