"""Benchmark (not a test): importing a lineage sheet of N rows (default 10,000) against bulk_create.

    .venv/bin/python benchmarks/import_lineage.py               # 10,000 rows
    .venv/bin/python benchmarks/import_lineage.py --rows 1000

It creates its own database, `lims_bench_import`, on the server DATABASE_URL points at (or the embedded one),
migrates it, writes an XLSX lineage sheet of N rows (one batch per row; 10 rows per cell line, 2 cell lines per
donor, passages 3 → 4, two priming conditions, two processing steps and two aliquots per batch), then times:

  read       reading the workbook (openpyxl, read-only)
  dry run    every row through the record services in one transaction, rolled back
  commit     the same, kept
  bulk       bulk_create of the same records in another lab, in one transaction (the baseline)

Checklist checks are not dispatched after either commit (they run on the workers in served mode).

and prints the commit's time as a ratio to the baseline, and the process's peak memory (max RSS).
Targets: commit ≤ 4 × bulk, peak < 400 MB. The database is dropped at the end unless --keep is given.
"""

import argparse
import os
import resource
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from benchmarks import database  # noqa: E402  (needs the project on sys.path)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lims.settings")

BENCH_DATABASE = "lims_bench_import"


def peak_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def bulk_baseline(table, lab, actor) -> float:
    """The same records as plain rows, created with bulk_create (no services, no checks) in one transaction."""
    from django.db import transaction

    from batches import models as m
    from batches.imports import values
    from batches.imports.engine import match_columns
    from batches.imports.sheets import sheet_for

    sheet = sheet_for("lineage")
    positions, _, _ = match_columns(sheet, table.headings)
    columns = {column.key: column for column in sheet.columns}

    def read(cells, key):
        position = positions.get(key)
        raw = cells[position] if position is not None and position < len(cells) else None
        return values.NOTHING if values.is_not_recorded(raw) else columns[key].reader(raw)

    def fields(cells, section_prefix, model):
        data = {}
        for key, column in columns.items():
            if key.startswith(section_prefix) and column.field:
                value = read(cells, key)
                if value is not values.NOTHING:
                    data[column.field] = value
        return data

    started = time.perf_counter()
    with transaction.atomic():
        donors, lines, passages, primings = {}, {}, {}, {}
        rows = [cells for _, cells in table.rows]
        for cells in rows:
            code = read(cells, "donor_code")
            if code not in donors:
                donors[code] = m.Donor(lab=lab, created_by=actor, **fields(cells, "donor_", m.Donor))
        m.Donor.objects.bulk_create(donors.values())
        for cells in rows:
            code = read(cells, "cell_line_code")
            if code not in lines:
                lines[code] = m.CellLine(
                    lab=lab,
                    created_by=actor,
                    donor=donors[read(cells, "donor_code")],
                    **fields(cells, "cell_line_", m.CellLine),
                )
        m.CellLine.objects.bulk_create(lines.values())
        for generation in (3, 4):
            batch = []
            for cells in rows:
                key = (read(cells, "cell_line_code"), read(cells, "passage_number"))
                if key[1] != generation or key in passages:
                    continue
                data = fields(cells, "passage_", m.Passage)
                parent = passages.get((key[0], 3)) if generation == 4 else None
                passages[key] = m.Passage(lab=lab, created_by=actor, cell_line=lines[key[0]], parent=parent, **data)
                batch.append(passages[key])
            m.Passage.objects.bulk_create(batch)
        agents = []
        for cells in rows:
            name = read(cells, "priming_name")
            if name not in primings:
                primings[name] = m.PrimingCondition(
                    lab=lab, created_by=actor, name=name, kind=read(cells, "priming_kind")
                )
                agent = read(cells, "priming_agent_1")
                if agent is not values.NOTHING:
                    agents.append(
                        (
                            name,
                            agent,
                            read(cells, "priming_agent_1_concentration"),
                            read(cells, "priming_agent_1_concentration_unit"),
                        )
                    )
        m.PrimingCondition.objects.bulk_create(primings.values())
        m.PrimingAgent.objects.bulk_create(
            m.PrimingAgent(
                lab=lab, created_by=actor, priming=primings[n], agent=a, concentration=c, concentration_unit=u
            )
            for n, a, c, u in agents
        )
        batches = []
        for cells in rows:
            data = fields(cells, "batch_", m.SecretomeBatch)
            data.pop("mock_control", None)
            batches.append(
                m.SecretomeBatch(
                    lab=lab,
                    created_by=actor,
                    operator=actor,
                    passage=passages[(read(cells, "cell_line_code"), read(cells, "passage_number"))],
                    priming=primings[read(cells, "priming_name")],
                    **data,
                )
            )
        m.SecretomeBatch.objects.bulk_create(batches)
        m.BatchEvent.objects.bulk_create(m.BatchEvent(lab=lab, batch=b, kind="created", actor=actor) for b in batches)
        steps, aliquots = [], []
        for cells, batch in zip(rows, batches, strict=True):
            for step in (1, 2, 3):
                data = fields(cells, f"step_{step}_", m.ProcessingStep)
                if data:
                    steps.append(m.ProcessingStep(lab=lab, created_by=actor, batch=batch, order=step, **data))
            count = read(cells, "aliquot_count")
            data = fields(cells, "aliquot_", m.Aliquot)
            for index in range(1, (0 if count is values.NOTHING else count) + 1):
                aliquots.append(
                    m.Aliquot(lab=lab, created_by=actor, batch=batch, code=f"{batch.code}-{index:02d}", **data)
                )
        m.ProcessingStep.objects.bulk_create(steps)
        m.Aliquot.objects.bulk_create(aliquots)
    return time.perf_counter() - started


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--rows", type=int, default=10_000, help="rows of the lineage sheet (default 10,000)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    parser.add_argument("--database", default=BENCH_DATABASE, help=f"scratch database name (default {BENCH_DATABASE})")
    args = parser.parse_args()
    if args.rows < 1:
        parser.error("--rows must be at least 1")

    server = database.server()
    os.environ["DATABASE_URL"] = database.create_database(server, args.database, drop=True)
    os.environ["IMPORT_MAX_ROWS"] = str(max(args.rows, 20_000))
    import django

    django.setup()
    import logging

    logging.getLogger("celery").setLevel(logging.WARNING)
    from django.core.management import call_command

    from batches.checklist.outbox import dispatch_suspended
    from batches.imports.engine import run_sheet
    from batches.imports.files import read_table
    from batches.imports.sheets import sheet_for
    from tests import factories as f
    from tests.imports.support import filled_xlsx, lineage_row

    try:
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"migrated in   {time.perf_counter() - started:.1f} s", flush=True)
        lab = f.LabFactory(name="Import Lab", slug="import-lab")
        baseline_lab = f.LabFactory(name="Baseline Lab", slug="baseline-lab")
        actor = f.UserFactory(username="importer")
        f.MembershipFactory(user=actor, lab=lab, role="technician")
        f.MembershipFactory(user=actor, lab=baseline_lab, role="technician")
        content = filled_xlsx("lineage", [lineage_row(i) for i in range(args.rows)])
        print(f"sheet         {args.rows:,} rows, {len(content) / 1e6:.1f} MB XLSX", flush=True)

        started = time.perf_counter()
        table = read_table(filename="lineage.xlsx", content=content)
        read_s = time.perf_counter() - started
        sheet = sheet_for("lineage")
        # The checklist re-checks every written batch after commit (on the workers in served mode); the
        # benchmark times the import itself, so checks are not dispatched for either run (the outbox still fills).
        suspended = dispatch_suspended()
        suspended.__enter__()
        started = time.perf_counter()
        dry = run_sheet(sheet=sheet, table=table, lab=lab, actor=actor, commit=False)
        dry_s = time.perf_counter() - started
        assert not dry.problems, dry.problems[:3]
        started = time.perf_counter()
        kept = run_sheet(sheet=sheet, table=table, lab=lab, actor=actor, commit=True)
        commit_s = time.perf_counter() - started
        assert kept.committed, kept.problems[:3]
        records = kept.totals["create"]
        bulk_s = bulk_baseline(table, baseline_lab, actor)

        print(f"records       {records:,} (donors → aliquots)")
        print(f"read          {read_s:8.1f} s")
        print(f"dry run       {dry_s:8.1f} s   {1000 * dry_s / records:6.2f} ms/record")
        print(f"commit        {commit_s:8.1f} s   {1000 * commit_s / records:6.2f} ms/record")
        print(f"bulk_create   {bulk_s:8.1f} s   {1000 * bulk_s / records:6.2f} ms/record")
        print(f"commit / bulk {commit_s / bulk_s:8.2f} ×   (target ≤ 4 ×)")
        print(f"peak memory   {peak_mb():8.0f} MB  (max RSS of this process; target < 400 MB)")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database.drop_database(server, args.database)


if __name__ == "__main__":
    main()
