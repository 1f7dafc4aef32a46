"""Benchmark (not a test): the methods export of a study with 50 batches (target: well under a second).

    .venv/bin/python benchmarks/methods_export.py              # 50 batches, 5 repetitions
    .venv/bin/python benchmarks/methods_export.py --n 200 --repeat 3

It creates its own database, `<database>_bench_methods`, on the server DATABASE_URL points at (or the embedded
one), migrates it, builds one study whose administrations use N batches (five donors, three primings,
processing, aliquots, twelve QC results per batch), then times each stage of the export:

  records    reading the records into the snapshot (batches.exports.records)
  checklist  evaluating every batch and the study (batches.exports.completeness)
  compose    writing the text from the snapshot (batches.exports.document.compose)
  render     Markdown, DOCX and JSON

and prints the median of each, the total, and the number of SQL queries (which must not grow with N).
The database is dropped at the end unless --keep is given.
"""

import argparse
import datetime as dt
import os
import statistics
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from benchmarks import database  # noqa: E402  (needs the project on sys.path)

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "lims.settings")

BENCH_DATABASE = "bench_methods"
PRODUCTS = ["CM", "CM", "EV", "LYO", "CONC"]


def build_study(n: int):
    """One lab, five donors, three primings, n batches and one study administering all of them."""
    from tests import factories as f

    lab = f.LabFactory(name="Benchmark Lab", slug="bench-lab")
    analyst = f.UserFactory(username="bench-analyst")
    donors = [
        f.DonorFactory(lab=lab, code=f"BD-{i}", sex=("female", "male")[i % 2], age_years=25 + 4 * i) for i in range(5)
    ]
    passages = []
    for i, donor in enumerate(donors):
        line = f.CellLineFactory(lab=lab, donor=donor, code=f"BCL-{i}")
        for marker, value in (("CD73", 99.0), ("CD90", 98.5), ("CD105", 97.0), ("CD45", 0.5), ("HLA-DR", 0.4)):
            f.ImmunophenotypeFactory(lab=lab, cell_line=line, marker=marker, percent_positive=value)
        parent = None
        for number in range(1, 5):
            parent = f.PassageFactory(lab=lab, cell_line=line, number=number, parent=parent)
        passages.append(parent)
    cytokine = f.PrimingConditionFactory(lab=lab, name="IFN-γ 25 ng/mL 48 h", kind="cytokine", duration_h=48)
    f.PrimingAgentFactory(lab=lab, priming=cytokine)
    hypoxia = f.PrimingConditionFactory(lab=lab, name="Hypoxia 1 %", kind="hypoxia", o2_percent=1, duration_h=24)
    none = f.PrimingConditionFactory(lab=lab, name="No priming", kind="none")
    primings = [cytokine, hypoxia, none]
    study = f.StudyFactory(lab=lab, title="Benchmark study", n_per_group=10)
    box = f.StorageLocationFactory(lab=lab)
    for i in range(n):
        batch = f.SecretomeBatchFactory(
            lab=lab,
            code=f"BSB-{i:04d}",
            passage=passages[i % len(passages)],
            priming=primings[i % len(primings)],
            product_type=PRODUCTS[i % len(PRODUCTS)],
        )
        for order, kind in enumerate(("centrifugation", "centrifugation", "filtration"), start=1):
            f.ProcessingStepFactory(lab=lab, batch=batch, order=order, kind=kind)
        for _ in range(3):
            f.AliquotFactory(lab=lab, batch=batch, location=box, position="")
        results = [
            ("endotoxin", "", "lal_kinetic", 0.05 + i / 1000, "EU/mL"),
            ("total_protein", "", "bca", 120 + i, "µg/mL"),
            ("particle_concentration", "", "nta", 2e10 + i * 1e8, "particles/mL"),
            ("potency", "TNF-α", "cell_assay", 50 + i % 10, "% inhibition"),
        ] + [("cytokine", name, "elisa", 100.0 + i, "pg/mL") for name in ("IL-10", "HGF", "VEGF", "IL-6", "TGF-β")]
        for assay, analyte, method, value, unit in results:
            f.QCResultFactory(
                lab=lab,
                batch=batch,
                assay=assay,
                analyte=analyte,
                method=method,
                value=value,
                unit=unit,
                performed_by=analyst,
                performed_on=dt.date(2025, 3, 1),
            )
        for assay in ("sterility", "mycoplasma", "ev_marker"):
            f.QCResultFactory(
                lab=lab,
                batch=batch,
                assay=assay,
                analyte="CD63" if assay == "ev_marker" else "",
                method={"sterility": "bact_alert", "mycoplasma": "myco_pcr", "ev_marker": "western_blot"}[assay],
                value=None,
                unit="",
                result_text="detected" if assay == "ev_marker" else "negative",
                performed_by=analyst,
            )
        f.AdministrationFactory(lab=lab, study=study, batch=batch, group=f"G{i % 4}")
    return study


def _median_ms(samples: list[float]) -> str:
    return f"{statistics.median(samples) * 1000:8.1f} ms"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--n", type=int, default=50, help="batches in the study (default 50)")
    parser.add_argument("--repeat", type=int, default=5, help="timed repetitions (default 5)")
    parser.add_argument("--keep", action="store_true", help="keep the benchmark database")
    args = parser.parse_args()
    if args.n < 1 or args.repeat < 1:
        parser.error("--n and --repeat must be at least 1")

    server = database.server()
    # Named after the database DATABASE_URL names, so benchmarks run from two checkouts never drop each other's.
    bench_database = f"{server.get('NAME') or 'lims'}_{BENCH_DATABASE}"
    os.environ["DATABASE_URL"] = database.create_database(server, bench_database, drop=True)
    import django

    django.setup()
    import logging

    logging.getLogger("celery").setLevel(logging.WARNING)
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from batches.exports import records, renderers
    from batches.exports.completeness import completeness
    from batches.exports.document import compose
    from batches.exports.methods import render, study_methods_export

    try:
        call_command("migrate", verbosity=0)
        print(f"building a study of {args.n} batches …", flush=True)
        study = build_study(args.n)

        stages: dict[str, list[float]] = {name: [] for name in ("records", "checklist", "compose", "render", "total")}
        queries = 0
        for _ in range(args.repeat):
            with CaptureQueriesContext(connection) as captured:
                started = time.perf_counter()
                loaded = records.study_queryset().get(pk=study.pk)
                batches = records.study_batches(loaded)
                snapshot = records.snapshot(batches=batches, study=loaded)
                t1 = time.perf_counter()
                verdict = completeness(batches=batches, study=loaded)
                t2 = time.perf_counter()
                document = compose(snapshot, verdict)
                t3 = time.perf_counter()
            export = {"document": document, "records": snapshot, "checklist": verdict}
            renderers.to_markdown(document)
            renderers.to_docx(document)
            renderers.to_json(export)
            t4 = time.perf_counter()
            queries = len(captured.captured_queries)
            for name, value in (
                ("records", t1 - started),
                ("checklist", t2 - t1),
                ("compose", t3 - t2),
                ("render", t4 - t3),
                ("total", t4 - started),
            ):
                stages[name].append(value)
        end_to_end = []
        for _ in range(args.repeat):
            started = time.perf_counter()
            render(study_methods_export(study=study), "md")
            end_to_end.append(time.perf_counter() - started)

        print(f"methods export of a study with {args.n} batches (median of {args.repeat}):")
        for name, samples in stages.items():
            print(f"  {name:<10}{_median_ms(samples)}")
        print(f"  {'md via API path':<10}{_median_ms(end_to_end)}  (study_methods_export + render md)")
        print(f"  SQL queries per export: {queries}")
    finally:
        connection.close()
        if not args.keep:
            database.drop_database(server, bench_database)


if __name__ == "__main__":
    main()
