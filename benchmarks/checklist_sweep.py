"""Benchmark (not a test): the checklist sweep's cost per batch next to the cost of only loading its rows.

    .venv/bin/python benchmarks/checklist_sweep.py            # 10 000 batches
    .venv/bin/python benchmarks/checklist_sweep.py --n 100000

It creates its own database, `lims_bench_checklist`, on the server DATABASE_URL points at (or the
embedded one), migrates it, fills N realistic batches (donors, phenotypes, passage chains, primings,
processing, QC, aliquots, uses, administrations), then times, chunk by chunk as the workers do:

  load   only loading every row the checklist reads (batches.checklist.inputs.load_batch_inputs)
  sweep  the sweep's work: lock, load, evaluate, fingerprint, write reports and current pointers
         (batches.services.checklist.batch_check_many) — once writing every report, then three times
         again with nothing changed (the nightly steady state: no writes)

and prints the per-batch cost of each and the ratio sweep / load. Each chunk is loaded only and swept back to
back (the order alternating), and the ratio is taken over those pairs: on a shared machine a neighbour's
burst then weighs on both sides alike. The database is dropped at the end
unless --keep is given.

Filling: the first --distinct batches (default 5,000) are made one by one in Python (Filler), with their
cell lines (one per 100 batches), donors, phenotypes, passage chains and primings; the rest are copies of
those batches made in SQL (`copy_batches`, a few INSERT … SELECT statements, triggers off as a restore would
run them), each with its own processing steps, QC results, aliquots, uses and administrations (new rows, new
ids, its own code and aliquot codes), in the order copy 1 of every batch, then copy 2, so a chunk of 200
holds batches of many cell lines, primings and product types, as the distinct ones do. How they vary: the
product type cycles CM, CM, CM, EV, EV, CONC, EVD, LYO (which steps and QC a batch has); passage (cell line),
priming and intended use are drawn at random; one in seven has no conditioning O2 recorded; one in ten has
an administration; each numeric QC value is drawn around its nominal (±20 %), in the copies again, so no two
batches show the same row summaries. The checklist judges each batch's own rows by row (no two batches share
a QC result, aliquot or step), so copies flatter the chunk memo no more than distinct batches would.
"""

import argparse
import datetime as dt
import os
import platform
import random
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from benchmarks import database  # noqa: E402  (needs the project on sys.path)
from benchmarks.trace_impact import _columns  # noqa: E402

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lims.settings")

BENCH_DATABASE = "lims_bench_checklist"
PRODUCT_MIX = ["CM", "CM", "CM", "EV", "EV", "CONC", "EVD", "LYO"]


class Filler:
    """Realistic records for N batches, written with bulk_create in large chunks."""

    def __init__(self, n: int, seed: int = 7, suffix: str = ""):
        from django.contrib.auth import get_user_model

        from lims.models import Lab

        self.n = n
        self.random = random.Random(seed)
        self.jitter = random.Random(seed + 1)  # QC values around their nominal (a stream of its own)
        self.lab = Lab.objects.create(name=f"Benchmark Lab{suffix}", slug=f"benchmark{suffix}")
        self.user = get_user_model().objects.create(username=f"bench-technician{suffix}")

    def _owned(self, model, **values):
        return model(lab=self.lab, created_by=self.user, **values)

    def cells(self, lines: int):
        from batches import models as m

        donors = m.Donor.objects.bulk_create(
            [
                self._owned(
                    m.Donor,
                    code=f"D{i:04d}",
                    species="human" if i % 10 else "rat",
                    tissue_source=self.random.choice(["bone_marrow", "adipose", "whartons_jelly", "dental_pulp"]),
                    anatomical_site="iliac crest",
                    sex=self.random.choice(["female", "male"]),
                    age_years=self.random.randint(18, 60),
                    health_status="healthy",
                    ethics_approval_ref="EC-2025-001",
                    consent_obtained=True,
                )
                for i in range(lines)
            ]
        )
        cell_lines = m.CellLine.objects.bulk_create(
            [
                self._owned(
                    m.CellLine,
                    donor=donor,
                    code=f"CL{i:04d}",
                    isolation_method="enzymatic",
                    isolation_enzyme="collagenase_i",
                    isolation_enzyme_mg_per_ml=1,
                    isolation_digestion_min=60,
                    basal_medium="alpha_mem",
                    antibiotics="pen_strep",
                    supplement=self.random.choice(["hpl", "fbs"]),
                    supplement_percent=10,
                    supplement_lot="LOT-1",
                    heparin_u_per_ml=2,
                    plastic_adherent=True,
                )
                for i, donor in enumerate(donors)
            ]
        )
        phenotype = {"CD73": 99, "CD90": 98, "CD105": 96, "CD45": 1, "CD34": 1, "CD14": 0.5, "CD19": 0.4, "HLA-DR": 1}
        m.Immunophenotype.objects.bulk_create(
            [
                self._owned(
                    m.Immunophenotype,
                    cell_line=line,
                    marker=marker,
                    percent_positive=percent - (self.random.random() * 3 if marker == "CD105" else 0),
                    passage_number=3,
                )
                for line in cell_lines
                for marker, percent in phenotype.items()
            ]
        )
        m.Differentiation.objects.bulk_create(
            [
                self._owned(m.Differentiation, cell_line=line, lineage=lineage, result="positive", method=method)
                for line in cell_lines
                for lineage, method in (
                    ("osteogenic", "alizarin_red"),
                    ("adipogenic", "oil_red_o"),
                    ("chondrogenic", "alcian_blue"),
                )
            ]
        )
        producing = []
        for line in cell_lines:
            parent = None
            for number in range(1, 5):
                passage = self._owned(
                    m.Passage,
                    cell_line=line,
                    parent=parent,
                    number=number,
                    started_on=dt.date(2025, 1, 1) + dt.timedelta(days=6 * number),
                    harvested_on=dt.date(2025, 1, 6) + dt.timedelta(days=6 * number),
                    vessel="t175",
                    area_cm2=175,
                    cells_seeded=875_000,
                    cells_harvested=self.random.randint(4, 8) * 1_000_000,
                    viability_percent=95,
                    confluence_percent=85,
                    mycoplasma_result="negative",
                )
                passage.save()
                parent = passage
            producing.append(parent)
        return producing

    def primings(self):
        from batches import models as m

        none = self._owned(m.PrimingCondition, name="No priming", kind="none")
        cytokine = self._owned(m.PrimingCondition, name="IFN-γ 25 ng/mL", kind="cytokine", washout=True, duration_h=48)
        hypoxia = self._owned(
            m.PrimingCondition,
            name="Hypoxia 1 %",
            kind="hypoxia",
            o2_percent=1,
            duration_h=48,
            device="hypoxia_chamber",
        )
        dfo = self._owned(m.PrimingCondition, name="DFO 150 µM", kind="hypoxia_mimetic", duration_h=24, washout=True)
        primings = m.PrimingCondition.objects.bulk_create([none, cytokine, hypoxia, dfo])
        m.PrimingAgent.objects.bulk_create(
            [
                self._owned(
                    m.PrimingAgent,
                    priming=cytokine,
                    agent="ifn_gamma",
                    concentration=25,
                    concentration_unit="ng/mL",
                    exposure=48,
                ),
                self._owned(
                    m.PrimingAgent,
                    priming=dfo,
                    agent="deferoxamine",
                    concentration=150,
                    concentration_unit="µM",
                    exposure=24,
                ),
            ]
        )
        return primings

    def batches(self, producing, primings, chunk: int = 2000) -> list[int]:

        from batches import models as m

        study = self._owned(m.Study, title="Benchmark study", pain_model="knee_oa_mia", species="rat")
        study.save()
        ids: list[int] = []
        collected = dt.datetime(2025, 2, 8, 10, 0, tzinfo=dt.UTC)  # after every passage, before the QC (10 Feb)
        for start in range(0, self.n, chunk):
            size = min(chunk, self.n - start)
            batches = m.SecretomeBatch.objects.bulk_create(
                [
                    self._owned(
                        m.SecretomeBatch,
                        code=f"SB-{start + i:06d}",
                        passage=self.random.choice(producing),
                        priming=self.random.choice(primings),
                        product_type=PRODUCT_MIX[(start + i) % len(PRODUCT_MIX)],
                        intended_use=self.random.choice(["in_vitro", "in_vivo", "in_vivo"]),
                        confluence_start_percent=80,
                        cells_at_start=6_000_000,
                        conditioning_medium="dmem_f12",
                        serum_free=True,
                        conditioning_volume_ml=20,
                        conditioning_time_h=48,
                        conditioning_o2_percent=None if (start + i) % 7 == 0 else 21,
                        harvest_viability_percent=92,
                        harvest_viable_cells=6_400_000,
                        collected_at=collected,
                        final_volume_ml=18,
                    )
                    for i in range(size)
                ]
            )
            ids += [b.pk for b in batches]
            self._children(batches, study)
        return ids

    def _children(self, batches, study) -> None:
        from batches import models as m

        steps, results, aliquots, administrations = [], [], [], []
        for batch in batches:
            kinds = [
                {"kind": "centrifugation", "g_force": 300, "duration_min": 10, "temperature_c": 4},
                {"kind": "filtration", "pore_size_um": 0.22},
            ]
            if batch.product_type in ("EV", "EVD"):
                kinds.append(
                    {
                        "kind": "ultracentrifugation",
                        "g_force": 100_000,
                        "duration_min": 70,
                        "rotor": "70 Ti",
                        "k_factor": 44,
                    }
                )
            if batch.product_type in ("CONC", "LYO"):
                kinds.append(
                    {"kind": "ultrafiltration", "mwco_kda": 3, "concentration_factor": 10, "final_volume_ml": 2}
                )
            if batch.product_type == "LYO":
                kinds.append({"kind": "lyophilisation", "lyoprotectant": "trehalose", "residual_moisture_percent": 1.5})
            steps += [self._owned(m.ProcessingStep, batch=batch, order=i, **k) for i, k in enumerate(kinds, start=1)]
            qc = [
                ("sterility", "bact_alert", None, "", "negative", ""),
                ("endotoxin", "lal_kinetic", 0.05, "EU/mL", "", ""),
                ("mycoplasma", "myco_pcr", None, "", "negative", ""),
                ("total_protein", "bca", 150.0, "µg/mL", "", ""),
                ("potency", "cell_assay", 55.0, "% inhibition", "", "TNF-α"),
                ("cytokine", "elisa", 80.0, "pg/mL", "", "IL-10"),
                ("particle_concentration", "nta", 3e10, "particles/mL", "", ""),
            ]
            if batch.product_type == "EV":
                qc += [
                    ("particle_size", "nta", 120.0, "nm", "", "mode"),
                    ("particle_size", "nta", 125.0, "nm", "", "D50"),
                    ("ev_marker", "western_blot", None, "", "detected", "CD63"),
                    ("ev_marker", "western_blot", None, "", "detected", "TSG101"),
                    ("contaminant_marker", "western_blot", None, "", "not_detected", "calnexin"),
                ]
            results += [
                self._owned(
                    m.QCResult,
                    batch=batch,
                    assay=assay,
                    method=method,
                    value=None if value is None else round(value * self.jitter.uniform(0.8, 1.2), 4),
                    unit=unit,
                    result_text=text,
                    analyte=analyte,
                    performed_on=dt.date(2025, 2, 10),
                    performed_by=self.user,
                )
                for assay, method, value, unit, text, analyte in qc
            ]
            aliquots += [
                self._owned(
                    m.Aliquot,
                    batch=batch,
                    code=f"{batch.code}-A{i}",
                    volume_ul=500,
                    container="cryovial",
                    state="frozen",
                    temperature_c=-80,
                )
                for i in range(1, 4)
            ]
            if self.random.random() < 0.1:
                administrations.append(
                    self._owned(
                        m.Administration,
                        study=study,
                        batch=batch,
                        group="treatment",
                        dose_value=20,
                        dose_unit="ug_protein",
                        route="intra_articular",
                        site="left knee",
                        volume_ul=50,
                        body_weight_g=230,
                    )
                )
        m.ProcessingStep.objects.bulk_create(steps)
        m.QCResult.objects.bulk_create(results)
        created = m.Aliquot.objects.bulk_create(aliquots)
        administered = {a.batch_id: a for a in m.Administration.objects.bulk_create(administrations)}
        m.AliquotEvent.objects.bulk_create(
            [
                self._owned(
                    m.AliquotEvent,
                    aliquot=aliquot,
                    kind="used",
                    at=aliquot.batch.collected_at + dt.timedelta(days=3),
                    volume_ul=50,
                    administration=administered.get(aliquot.batch_id),
                )
                for aliquot in created
                if aliquot.code.endswith("-A1")
            ]
        )


def _insert_copies(cursor, table: str, source: str, overrides: dict[str, str]) -> int:
    """INSERT INTO table SELECT … FROM source, row by row; `source` names the copied row `c`."""
    columns = _columns(cursor, table)
    select = ", ".join(overrides.get(column, f'c."{column}"') for column in columns)
    quoted = ", ".join(f'"{column}"' for column in ["id", *columns])
    cursor.execute(f"INSERT INTO {table} ({quoted}) SELECT new_id, {select} FROM {source}")
    return cursor.rowcount


def copy_batches(batch_ids: list[int], count: int) -> list[int]:
    """`count` copies of the given batches with their own rows (see the module docstring); returns the new ids."""
    from django.db import connection, transaction

    if count <= 0:
        return []
    jitter = "CASE WHEN c.value IS NULL THEN NULL ELSE round((c.value * (0.8 + 0.4 * random()))::numeric, 4) END"
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")  # no history, seals or outbox rows
        cursor.execute(
            "CREATE TEMP TABLE copy_batch ON COMMIT DROP AS "
            "SELECT old_id, seq, nextval(pg_get_serial_sequence('batches_secretomebatch', 'id')) AS new_id "
            "FROM (SELECT b.id AS old_id, row_number() OVER (ORDER BY g, b.id) AS seq "
            "      FROM unnest(%s::bigint[]) AS b(id), generate_series(1, %s) AS g "
            "      ORDER BY g, b.id LIMIT %s) s ORDER BY seq",
            [batch_ids, -(-count // len(batch_ids)), count],
        )
        cursor.execute("SELECT max(id) FROM batches_secretomebatch")
        (top,) = cursor.fetchone()
        # Codes go on from the highest number in use: SB-005000, SB-005001, …
        cursor.execute(
            "SELECT coalesce(max(substr(code, 4)::bigint), -1) FROM batches_secretomebatch "
            "WHERE code ~ '^SB-[0-9]+$' AND lab_id = (SELECT lab_id FROM batches_secretomebatch WHERE id = %s)",
            [batch_ids[0]],
        )
        (last,) = cursor.fetchone()
        code = f"'SB-' || lpad(({last} + m.seq)::text, greatest(6, length(({last} + m.seq)::text)), '0')"
        _insert_copies(
            cursor,
            "batches_secretomebatch",
            "batches_secretomebatch c JOIN copy_batch m ON c.id = m.old_id ORDER BY m.seq",
            {"code": code},
        )
        cursor.execute(
            "CREATE TEMP TABLE copy_code ON COMMIT DROP AS SELECT m.old_id, m.new_id, o.code AS old_code, "
            "n.code AS new_code FROM copy_batch m JOIN batches_secretomebatch o ON o.id = m.old_id "
            "JOIN batches_secretomebatch n ON n.id = m.new_id"
        )
        for table in ("batches_processingstep", "batches_qcresult"):
            sequence = f"nextval(pg_get_serial_sequence('{table}', 'id'))"
            overrides = {"batch_id": "new_batch"}
            if table == "batches_qcresult":
                overrides["value"] = jitter
            _insert_copies(
                cursor,
                table,
                f"(SELECT c.*, m.new_id AS new_batch, {sequence} AS new_id FROM {table} c "
                "JOIN copy_batch m ON c.batch_id = m.old_id ORDER BY m.seq, c.id) c",
                overrides,
            )
        for table, key in (("batches_aliquot", "aliquot"), ("batches_administration", "administration")):
            cursor.execute(
                f"CREATE TEMP TABLE copy_{key} ON COMMIT DROP AS SELECT c.id AS old_id, m.new_id AS new_batch, "
                f"m.old_code, m.new_code, nextval(pg_get_serial_sequence('{table}', 'id')) AS new_id "
                f"FROM {table} c JOIN copy_code m ON c.batch_id = m.old_id ORDER BY m.new_id, c.id"
            )
            overrides = {"batch_id": "k.new_batch"}
            if key == "aliquot":
                overrides["code"] = "k.new_code || substr(c.code, length(k.old_code) + 1)"
            _insert_copies(cursor, table, f"{table} c JOIN copy_{key} k ON k.old_id = c.id", overrides)
        cursor.execute(
            "CREATE TEMP TABLE copy_event ON COMMIT DROP AS SELECT e.id AS old_id, "
            "nextval(pg_get_serial_sequence('batches_aliquotevent', 'id')) AS new_id, k.new_id AS aliquot, "
            "d.new_id AS administration FROM batches_aliquotevent e JOIN copy_aliquot k ON k.old_id = e.aliquot_id "
            "LEFT JOIN copy_administration d ON d.old_id = e.administration_id ORDER BY k.new_id, e.id"
        )
        _insert_copies(
            cursor,
            "batches_aliquotevent",
            "batches_aliquotevent c JOIN copy_event k ON k.old_id = c.id",
            {"aliquot_id": "k.aliquot", "administration_id": "k.administration"},
        )
        cursor.execute("SELECT new_id FROM copy_batch ORDER BY new_id")
        ids = [row[0] for row in cursor.fetchall()]
    assert not ids or ids[0] > top
    return ids


# What a checked batch adds to the database: its report (and the explanations it shares), the report's seal,
# and the bookkeeping around it (the current-report pointer, the "checked" batch event and its history).
REPORT_TABLES = ("batches_checklistreport", "batches_checklistexplanation", "lims_auditseal", "lims_auditshape")
AROUND_TABLES = (
    "batches_currentchecklistreport",
    "batches_batchevent",
    "batches_batcheventhistory",
    "pghistory_context",
)


def _sizes(tables) -> dict[str, int]:
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relname, pg_total_relation_size(oid) FROM pg_class WHERE relname = ANY(%s)", [list(tables)]
        )
        return dict(cursor.fetchall())


def _timed(function, chunks) -> float:
    started = time.perf_counter()
    for chunk in chunks:
        function(chunk)
    return time.perf_counter() - started


def _paired(load, sweep, chunks) -> tuple[float, float]:
    """(load seconds, sweep seconds), each chunk loaded and swept back to back (the order alternating), so a
    neighbour's burst on a shared machine lands on both sides of the ratio alike."""
    loading = sweeping = 0.0
    for index, chunk in enumerate(chunks):
        for step in ("load", "sweep") if index % 2 == 0 else ("sweep", "load"):
            started = time.perf_counter()
            (load if step == "load" else sweep)(chunk)
            if step == "load":
                loading += time.perf_counter() - started
            else:
                sweeping += time.perf_counter() - started
    return loading, sweeping


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=10_000, help="number of batches (default 10000)")
    parser.add_argument(
        "--distinct",
        type=int,
        default=5_000,
        help="batches made one by one before the rest are copied in SQL (default 5000; see the docstring)",
    )
    parser.add_argument("--chunk-size", type=int, default=200, help="batches per sweep chunk (as the task uses)")
    parser.add_argument("--database", default=BENCH_DATABASE, help=f"scratch database name (default {BENCH_DATABASE})")
    parser.add_argument("--keep", action="store_true", help="keep the scratch database afterwards")
    parser.add_argument(
        "--from-template",
        metavar="DATABASE",
        help="start from a copy of a database an earlier run kept (it is migrated forward, its reports are "
        "removed, and its batches are swept with the N new ones): skips migrating from scratch",
    )
    args = parser.parse_args()
    if args.n < 1 or args.chunk_size < 1:
        parser.error("--n and --chunk-size must be at least 1")

    server = database.server()
    os.environ["DATABASE_URL"] = database.create_database(server, args.database, drop=True, template=args.from_template)
    os.environ.pop("CELERY_BROKER_URL", None)
    try:
        import django

        django.setup()
        from django.core.management import call_command
        from django.db import connection

        from batches.checklist.inputs import load_batch_inputs
        from batches.checklist.outbox import dispatch_suspended
        from batches.models import ChecklistReport
        from batches.services.checklist import batch_check_many

        print(f"database      {args.database} on {server.get('HOST') or 'localhost'}")
        started = time.perf_counter()
        call_command("migrate", verbosity=0)
        print(f"migrated in   {time.perf_counter() - started:.1f} s")

        started = time.perf_counter()
        # No check is queued while filling (the outbox still fills, and is emptied below): every report is
        # written by the timed first sweep.
        with dispatch_suspended():
            distinct = min(args.n, max(1, args.distinct))
            filler = Filler(distinct, suffix="-2" if args.from_template else "")
            producing = filler.cells(max(10, distinct // 100))
            ids = filler.batches(producing, filler.primings())
            print(f"made {len(ids):,} distinct batches in {time.perf_counter() - started:.1f} s")
            ids += copy_batches(ids, args.n - len(ids))
            with connection.cursor() as cursor:
                if args.from_template:
                    # A scratch copy: the kept run's reports go, so the first sweep writes every report again.
                    cursor.execute(
                        "TRUNCATE batches_currentchecklistreport, batches_checklistreport, batches_checklistexplanation"
                    )
                    cursor.execute("SELECT id FROM batches_secretomebatch ORDER BY id")
                    ids = [row[0] for row in cursor.fetchall()]
                cursor.execute("TRUNCATE batches_checklistoutbox")
                cursor.execute("VACUUM ANALYZE")
        print(f"filled {len(ids):,} batches in {time.perf_counter() - started:.1f} s")

        chunks = [ids[i : i + args.chunk_size] for i in range(0, len(ids), args.chunk_size)]
        _timed(load_batch_inputs, chunks)  # warm the buffer cache
        before = _sizes(REPORT_TABLES + AROUND_TABLES)
        check = lambda chunk: batch_check_many(batch_ids=chunk)  # noqa: E731
        load_first, first = _paired(load_batch_inputs, check, chunks)
        reports = ChecklistReport.objects.filter(batch__isnull=False).count()
        after = _sizes(REPORT_TABLES + AROUND_TABLES)
        grown = {table: after.get(table, 0) - before.get(table, 0) for table in after}
        # The nightly sweep with nothing changed, three times (the middle ratio is printed: the machine is shared).
        again = [_paired(load_batch_inputs, check, chunks) for _ in range(3)]
        load_steady, steady = sorted(again, key=lambda p: p[1] / p[0])[1]
        assert ChecklistReport.objects.filter(batch__isnull=False).count() == reports == len(ids)

        per = 1e3 / len(ids)
        print()
        print(f"machine       {platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}")
        print(f"batches       {len(ids):,} in chunks of {args.chunk_size} ({len(chunks)} chunks, one transaction each)")
        print("each chunk loaded only and swept back to back; × load is the sweep over the loads beside it")
        print(f"{'':14}{'total s':>10}{'ms/batch':>11}{'× load':>9}")
        print(f"{'load only':14}{load_first:>10.2f}{load_first * per:>11.3f}{1:>9.2f}   (beside the first sweep)")
        print(
            f"{'sweep, first':14}{first:>10.2f}{first * per:>11.3f}{first / load_first:>9.2f}"
            f"   (writes {reports:,} reports)"
        )
        print(f"{'load only':14}{load_steady:>10.2f}{load_steady * per:>11.3f}{1:>9.2f}   (beside the sweep again)")
        print(
            f"{'sweep, again':14}{steady:>10.2f}{steady * per:>11.3f}{steady / load_steady:>9.2f}"
            f"   (no change, no writes; the middle of 3 runs, in order: "
            + ", ".join(f"{s / lo:.2f}" for lo, s in again)
            + ")"
        )
        print()
        print("bytes per checked batch (table + indexes + TOAST, grown during the first sweep)")
        for table in (*REPORT_TABLES, *AROUND_TABLES):
            print(f"  {table:34}{grown.get(table, 0) / len(ids):>9.0f}")
        own = sum(grown.get(table, 0) for table in REPORT_TABLES) / len(ids)
        print(f"  {'report + explanations + seals':34}{own:>9.0f}")
        print(f"  {'everything above':34}{sum(grown.values()) / len(ids):>9.0f}")
    finally:
        from django.db import connections

        connections.close_all()
        if not args.keep:
            database.drop_database(server, args.database)


if __name__ == "__main__":
    main()
