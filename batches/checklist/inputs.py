"""Loading what the checklist reads, for many batches (or studies) at once, in a fixed number of queries.

Rows are plain dicts of their record fields. Bookkeeping (timestamps, row version, creator, lab) and
lifecycle or sign-off fields (a batch's status, a QC result's verification, where an aliquot sits)
are left out: they say nothing the checklist judges, so changing them makes no new report.
"""

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any

from django.db import connection, models

from batches import choices
from batches.models import (
    Administration,
    Aliquot,
    AliquotEvent,
    CellLine,
    Differentiation,
    Donor,
    Immunophenotype,
    OutcomeMeasure,
    Passage,
    PrimingAgent,
    PrimingCondition,
    ProcessingStep,
    QCResult,
    QCSpecification,
    SecretomeBatch,
    Study,
)

BOOKKEEPING = {"created_at", "updated_at", "version", "created_by_id", "lab_id", "protocol_version_id"}
NOT_INPUTS: dict[type[models.Model], set[str]] = {
    SecretomeBatch: {"status", "operator_id"},
    QCResult: {"status", "verified_by_id", "verified_at", "performed_by_id"},
    Aliquot: {"status", "location_id", "position"},
}


def input_columns(model: type[models.Model]) -> list[str]:
    excluded = BOOKKEEPING | NOT_INPUTS.get(model, set())
    return [f.attname for f in model._meta.concrete_fields if f.attname not in excluded]


@dataclass
class Inputs:
    """Everything one evaluation reads about one subject (a batch or a study)."""

    kind: str  # "batch" | "study"
    subject_id: int
    lab_id: int
    code: str
    sources: dict[str, dict | None]
    collections: dict[str, list[dict]] = field(default_factory=dict)

    def snapshot(self) -> dict[str, Any]:
        return {"sources": self.sources, "collections": self.collections}


def _values(model: type[models.Model], **filters) -> list[dict]:
    return list(model.objects.filter(**filters).order_by("pk").values(*input_columns(model)))


def _by(rows: list[dict], key: str) -> dict[Any, list[dict]]:
    grouped: dict[Any, list[dict]] = defaultdict(list)
    for row in rows:
        grouped[row[key]].append(row)
    return grouped


def _passage_chains(passage_ids: set[int]) -> dict[int, dict]:
    """Every passage in the given passages' chains (the passages and all their ancestors), by id."""
    if not passage_ids:
        return {}
    columns = input_columns(Passage)
    select = ", ".join(f"p.{connection.ops.quote_name(Passage._meta.get_field(c).column)}" for c in columns)
    table = connection.ops.quote_name(Passage._meta.db_table)
    sql = f"""
        WITH RECURSIVE chain(id) AS (
            SELECT id FROM {table} WHERE id = ANY(%s)
            UNION
            SELECT parent.parent_id FROM {table} parent JOIN chain ON parent.id = chain.id
            WHERE parent.parent_id IS NOT NULL
        )
        SELECT {select} FROM {table} p JOIN chain ON p.id = chain.id ORDER BY p.id
    """
    with connection.cursor() as cursor:
        cursor.execute(sql, [sorted(passage_ids)])
        return {row[0]: dict(zip(columns, row, strict=True)) for row in cursor.fetchall()}


def _chain(passages: dict[int, dict], passage_id: int) -> list[dict]:
    chain, seen, current = [], set(), passages.get(passage_id)
    while current is not None and current["id"] not in seen:
        seen.add(current["id"])
        chain.append(current)
        current = passages.get(current["parent_id"]) if current["parent_id"] else None
    return list(reversed(chain))


def _spec_outcome(result: dict, spec: dict | None) -> str:
    """The outcome of a result against its specification, for results recorded without one computed."""
    if spec is None:
        return ""
    if spec["expected_text"]:
        if not result["result_text"]:
            return ""
        return "pass" if result["result_text"] == spec["expected_text"] else "fail"
    value = result["value"]
    if value is None:
        return ""
    if (spec["min_value"] is not None and value < spec["min_value"]) or (
        spec["max_value"] is not None and value > spec["max_value"]
    ):
        return "fail"
    if (spec["warn_min"] is not None and value < spec["warn_min"]) or (
        spec["warn_max"] is not None and value > spec["warn_max"]
    ):
        return "warn"
    return "pass"


def load_batch_inputs(batch_ids: list[int]) -> dict[int, Inputs]:
    """The inputs of each existing batch among `batch_ids` (missing ids are left out)."""
    ids = sorted(set(batch_ids))
    batch_rows = list(
        SecretomeBatch.objects.filter(pk__in=ids)
        .order_by("pk")
        .values("lab_id", "mock_control__code", *input_columns(SecretomeBatch))
    )
    if not batch_rows:
        return {}
    passages = _passage_chains({row["passage_id"] for row in batch_rows})
    cell_line_ids = {p["cell_line_id"] for p in passages.values()}
    cell_lines = {row["id"]: row for row in _values(CellLine, pk__in=cell_line_ids)}
    donors = {row["id"]: row for row in _values(Donor, pk__in={c["donor_id"] for c in cell_lines.values()})}
    phenotypes = _by(_values(Immunophenotype, cell_line_id__in=cell_line_ids), "cell_line_id")
    differentiations = _by(_values(Differentiation, cell_line_id__in=cell_line_ids), "cell_line_id")
    priming_ids = {row["priming_id"] for row in batch_rows if row["priming_id"]}
    primings = {row["id"]: row for row in _values(PrimingCondition, pk__in=priming_ids)}
    agents = _by(_values(PrimingAgent, priming_id__in=priming_ids), "priming_id")
    steps = _by(_values(ProcessingStep, batch_id__in=ids), "batch_id")
    qc_rows = list(
        QCResult.objects.filter(batch_id__in=ids)
        .exclude(status__in=choices.QC_NOT_COUNTED)
        .order_by("pk")
        .values(*input_columns(QCResult))
    )
    spec_ids = {row["specification_id"] for row in qc_rows if row["specification_id"] and not row["outcome"]}
    specs = {row["id"]: row for row in _values(QCSpecification, pk__in=spec_ids)} if spec_ids else {}
    for row in qc_rows:
        if not row["outcome"] and row["specification_id"]:
            row["outcome"] = _spec_outcome(row, specs.get(row["specification_id"]))
    qc = _by(qc_rows, "batch_id")
    aliquots = _by(_values(Aliquot, batch_id__in=ids), "batch_id")
    uses = _by(
        list(
            AliquotEvent.objects.filter(aliquot__batch_id__in=ids, kind=choices.AliquotEventKind.USED)
            .order_by("pk")
            .values("id", "aliquot_id", "at", "volume_ul", "administration_id", batch_id=models.F("aliquot__batch_id"))
        ),
        "batch_id",
    )
    administrations = _by(_values(Administration, batch_id__in=ids), "batch_id")

    result = {}
    for row in batch_rows:
        lab_id = row.pop("lab_id")
        row["mock_control_code"] = row.pop("mock_control__code")
        chain = _chain(passages, row["passage_id"])
        passage = chain[-1] if chain else None
        cell_line = cell_lines.get(passage["cell_line_id"]) if passage else None
        donor = donors.get(cell_line["donor_id"]) if cell_line else None
        priming = primings.get(row["priming_id"]) if row["priming_id"] else None
        line_id = cell_line["id"] if cell_line else None
        result[row["id"]] = Inputs(
            kind="batch",
            subject_id=row["id"],
            lab_id=lab_id,
            code=row["code"],
            sources={"batch": row, "passage": passage, "cell_line": cell_line, "donor": donor, "priming": priming},
            collections={
                "passages": chain,
                "immunophenotypes": phenotypes.get(line_id, []),
                "differentiations": differentiations.get(line_id, []),
                "priming_agents": agents.get(row["priming_id"], []),
                "processing_steps": steps.get(row["id"], []),
                "qc_results": qc.get(row["id"], []),
                "aliquots": aliquots.get(row["id"], []),
                "aliquot_uses": uses.get(row["id"], []),
                "administrations": administrations.get(row["id"], []),
            },
        )
    return result


def load_study_inputs(study_ids: list[int]) -> dict[int, Inputs]:
    ids = sorted(set(study_ids))
    study_rows = list(Study.objects.filter(pk__in=ids).order_by("pk").values("lab_id", *input_columns(Study)))
    if not study_rows:
        return {}
    administrations = _by(
        list(
            Administration.objects.filter(study_id__in=ids)
            .order_by("pk")
            .values("batch__code", *input_columns(Administration))
        ),
        "study_id",
    )
    for rows in administrations.values():
        for row in rows:
            row["batch_code"] = row.pop("batch__code")
    outcomes = _by(_values(OutcomeMeasure, study_id__in=ids), "study_id")
    result = {}
    for row in study_rows:
        lab_id = row.pop("lab_id")
        groups = row["groups"] if isinstance(row["groups"], list) else []
        result[row["id"]] = Inputs(
            kind="study",
            subject_id=row["id"],
            lab_id=lab_id,
            code=row["title"],
            sources={"study": row, "administration": None},
            collections={
                "administrations": administrations.get(row["id"], []),
                "outcome_measures": outcomes.get(row["id"], []),
                "study_groups": [g for g in groups if isinstance(g, dict)],
            },
        )
    return result
