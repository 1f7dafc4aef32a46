"""Running the checklist and keeping every batch's (and study's) report current.

A report is keyed by the fingerprint of every input it read: running a check twice on the same
records returns the report already written, never a second row. Checks of one subject are
serialised by a transaction-level advisory lock taken *before* the inputs are read, so the check
that commits last has read the newest records and the current-report pointer cannot go back in time.
The check also deletes the outbox rows whose changes it read, in the same transaction: a check that
dies before committing leaves them for the outbox drain to queue again.
"""

import base64
import json
import logging
from collections.abc import Iterable
from functools import partial

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.utils import timezone

from batches.checklist import (
    ChecklistFileError,
    Evaluation,
    available_versions,
    evaluate_batch,
    load_checklist,
    storage,
)
from batches.checklist.engine import Fingerprints, evaluate_batch_inputs, evaluate_study_inputs
from batches.checklist.inputs import load_batch_inputs, load_study_inputs
from batches.checklist.memo import ChunkMemo, values_shared
from batches.checklist.outbox import outbox_complete, outbox_snapshot
from batches.checklist.results import json_default
from batches.models import ChecklistReport, SecretomeBatch, Study
from batches.models.checklist import ChecklistActivation, CurrentChecklistReport
from lims.audit import audit_context
from lims.roles import READ_ROLES, require_role

logger = logging.getLogger(__name__)

# Advisory-lock keys: one namespace per subject kind, the subject id in the low bits.
_LOCK_NAMESPACE = {"batch": 0x43_4B_01 << 40, "study": 0x43_4B_02 << 40}


def _lock(kind: str, ids: Iterable[int]) -> None:
    """Serialise checks of the same subjects (ordered, so two chunks never deadlock)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT pg_advisory_xact_lock(%s + id) FROM unnest(%s::bigint[]) AS id ORDER BY id",
            [_LOCK_NAMESPACE[kind], sorted(set(ids))],
        )


INSERT_REPORTS_SQL = """
    INSERT INTO batches_checklistreport (lab_id, batch_id, study_id, checklist_version, score, score_by_category,
                                         statuses, explanations, "values", packed_values, details, fingerprint,
                                         created_at)
    SELECT lab, batch, study, version, score, by_category, statuses, explanations, '[]'::jsonb,
           decode(vals, 'base64'), details, fp, %s
    FROM json_to_recordset(%s::json) AS t(lab bigint, batch bigint, study bigint, version text, score float8,
                                         by_category jsonb, statuses text, explanations integer[], vals text,
                                         details jsonb, fp text)
    ON CONFLICT (fingerprint) DO NOTHING
    RETURNING fingerprint, id
"""


def _json(value) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, default=json_default)


def _insert_reports(evaluations: list[Evaluation], codes: dict[int, str], now) -> dict[str, int]:
    """Write a chunk's new reports in one INSERT (explanations interned first); returns fingerprint -> id.

    The rows travel as one JSON document: one parameter to quote, whatever the chunk's size."""
    if not evaluations:
        return {}
    packer = storage.ResultPacker(shared_values=values_shared(load_checklist(evaluations[0].version)))
    packed = packer.pack([(e.items, e.gates, codes.get(e.subject_id)) for e in evaluations])
    rows = [
        {
            "lab": e.lab_id,
            "batch": e.subject_id if e.subject_kind == "batch" else None,
            "study": e.subject_id if e.subject_kind == "study" else None,
            "version": e.version,
            "score": e.score,
            "by_category": e.score_by_category,
            "statuses": statuses,
            "explanations": explanations,
            "vals": base64.b64encode(storage.pack_values(values)).decode("ascii"),
            "details": details,
            "fp": e.fingerprint,
        }
        for e, (statuses, explanations, values, details) in zip(evaluations, packed, strict=True)
    ]
    with connection.cursor() as cursor:
        cursor.execute(INSERT_REPORTS_SQL, [now, _json(rows)])
        return dict(cursor.fetchall())


def _code(inputs) -> str | None:
    """The subject's own name, cut out of the explanations' text (a batch's code, a study's title)."""
    row = inputs.sources.get(inputs.kind) or {}
    return row.get("code") or row.get("title")


def _subject_field(kind: str) -> str:
    return "batch_id" if kind == "batch" else "study_id"


def _store(
    kind: str,
    fingerprints: dict[int, str],
    evaluations: dict[int, Evaluation],
    current: dict[int, int],
    written: dict[str, int],
    codes: dict[int, str],
) -> dict[int, int]:
    """Write the new reports, point every subject at its report; returns subject id -> report id.

    A fixed number of statements per chunk, whatever its size: one INSERT for the reports (after their
    explanations are interned), one upsert for the pointers. A check writes no batch event: the report
    itself (batch, version, score, time), sealed into the audit chain, is the record that the batch was
    checked, and a "checked" event with its history copy would store that three times over.
    """
    now = timezone.now()
    report_ids = {**written, **_insert_reports(list(evaluations.values()), codes, now)}
    lost = [fp for fp in fingerprints.values() if fp not in report_ids]
    if lost:  # written by a concurrent check of the same inputs between our read and our insert
        report_ids.update(ChecklistReport.objects.filter(fingerprint__in=lost).values_list("fingerprint", "pk"))
    reports = {pk: report_ids[fingerprint] for pk, fingerprint in fingerprints.items()}
    subject_field = _subject_field(kind)
    moved = [
        CurrentChecklistReport(**{subject_field: pk, "report_id": report_id, "since": now})
        for pk, report_id in reports.items()
        if current.get(pk) != report_id
    ]
    if moved:
        CurrentChecklistReport.objects.bulk_create(
            moved, update_conflicts=True, unique_fields=[kind], update_fields=["report", "since"]
        )
    return reports


def _run(kind: str, ids: list[int], version: str | None) -> tuple[dict[int, int], set[int]]:
    """Check subjects in one transaction; returns (subject id -> report id, subjects with a new report).

    Only what changed is evaluated: a subject whose fingerprint matches its current report is left
    alone (the nightly steady state costs a load and a hash), and one whose inputs match an older
    report (an undone edit) gets that report back without a second row.
    """
    from batches.checklist import active_checklist_version

    checklist = load_checklist(version or active_checklist_version())
    # A batch's evaluation shares, within the chunk, what it reads alike with the chunk's other batches.
    load, evaluate = (
        (load_batch_inputs, partial(evaluate_batch_inputs, memo=ChunkMemo(checklist)))
        if kind == "batch"
        else (load_study_inputs, evaluate_study_inputs)
    )
    with transaction.atomic():
        _lock(kind, ids)
        # The outbox rows this check answers are completed in this transaction, with its report.
        outbox_complete(kind=kind, subject_ids=ids, snapshot=outbox_snapshot())
        inputs = load(ids)
        if not inputs:
            return {}, set()
        fingerprints = dict(zip(inputs, map(Fingerprints(checklist), inputs.values()), strict=True))
        subject_field = _subject_field(kind)
        with connection.cursor() as cursor:  # plain SQL: the ORM took twice as long as the query (a nightly cost)
            cursor.execute(
                f"SELECT p.{subject_field}, p.report_id, r.fingerprint FROM batches_currentchecklistreport p "
                f"JOIN batches_checklistreport r ON r.id = p.report_id WHERE p.{subject_field} = ANY(%s)",
                [list(inputs)],
            )
            current = {pk: (report_id, known) for pk, report_id, known in cursor.fetchall()}
        changed = [pk for pk in inputs if current.get(pk, (None, None))[1] != fingerprints[pk]]
        if not changed:
            return {pk: current[pk][0] for pk in inputs}, set()
        written = dict(
            ChecklistReport.objects.filter(fingerprint__in=[fingerprints[pk] for pk in changed]).values_list(
                "fingerprint", "pk"
            )
        )
        evaluations = {
            pk: evaluate(checklist, inputs[pk], known_fingerprint=fingerprints[pk])
            for pk in changed
            if fingerprints[pk] not in written
        }
        reports = _store(
            kind,
            {pk: fingerprints[pk] for pk in changed},
            evaluations,
            {pk: report_id for pk, (report_id, _) in current.items()},
            written,
            {pk: _code(inputs[pk]) for pk in evaluations},
        )
        reports.update({pk: current[pk][0] for pk in inputs if pk not in reports})
        return reports, set(evaluations)


def batch_check_run(*, batch_id: int, version: str | None = None) -> ChecklistReport:
    """Check one batch now; the same inputs return the report already written."""
    reports, _new = _run("batch", [batch_id], version)
    if batch_id not in reports:
        raise SecretomeBatch.DoesNotExist(f"batch {batch_id} does not exist")
    return ChecklistReport.objects.get(pk=reports[batch_id])


def batch_check_many(*, batch_ids: list[int], version: str | None = None) -> int:
    """Check many batches in one transaction (a sweep chunk); returns how many new reports were written."""
    _reports, new = _run("batch", list(batch_ids), version)
    return len(new)


def study_check_run(*, study_id: int, version: str | None = None) -> ChecklistReport:
    reports, _new = _run("study", [study_id], version)
    if study_id not in reports:
        raise Study.DoesNotExist(f"study {study_id} does not exist")
    return ChecklistReport.objects.get(pk=reports[study_id])


def study_check_many(*, study_ids: list[int], version: str | None = None) -> int:
    _reports, new = _run("study", list(study_ids), version)
    return len(new)


def _queue(model, task, id_name: str, ids, actor) -> list[int]:
    try:
        wanted = sorted({int(pk) for pk in ids})
    except (TypeError, ValueError):
        raise ValidationError({f"{id_name}s": ["Give a list of whole-number ids."]}) from None
    found = dict(model.objects.filter(pk__in=wanted).values_list("pk", "lab_id"))
    unknown = [pk for pk in wanted if pk not in found]
    if unknown:
        raise ValidationError({f"{id_name}s": [f"No such {model._meta.verbose_name}: {', '.join(map(str, unknown))}."]})
    if actor is not None:
        for lab_id in sorted(set(found.values())):
            require_role(actor, lab_id, READ_ROLES, "Queuing a checklist run")
    for pk in wanted:
        task.delay_on_commit(**{id_name: pk, "actor_id": getattr(actor, "pk", None)})
    return wanted


def batch_check_queue(*, batch_ids: Iterable[int], actor=None) -> list[int]:
    """Queue one check per batch once the current transaction commits; returns the batch ids queued."""
    from batches.tasks import batch_check

    return _queue(SecretomeBatch, batch_check, "batch_id", batch_ids, actor)


def study_check_queue(*, study_ids: Iterable[int], actor=None) -> list[int]:
    from batches.tasks import study_check

    return _queue(Study, study_check, "study_id", study_ids, actor)


def checklist_sweep_queue(*, lab_id: int | None = None) -> None:
    """Queue a sweep that re-checks every batch and study (of one lab) in chunks workers share."""
    from batches.tasks import checklist_sweep

    checklist_sweep.delay_on_commit(lab_id=lab_id)


def checklist_activate(*, version: str, actor=None, note: str = "") -> ChecklistActivation:
    """Put a checklist version in force and re-check everything with it (idempotent)."""
    if actor is not None and not actor.is_superuser:
        raise PermissionDenied("Activating a checklist version applies to every lab; only a superuser may do it.")
    if version not in available_versions():
        raise ValidationError(
            {"version": [f"No checklist file holds {version!r}; known: {', '.join(available_versions())}."]}
        )
    try:
        load_checklist(version)
    except ChecklistFileError as exc:
        raise ValidationError({"version": [str(exc)]}) from None
    with transaction.atomic(), audit_context(actor=actor, reason=note or f"activate checklist {version}"):
        # One activation at a time, so two concurrent activations cannot interleave.
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_LOCK_NAMESPACE["batch"] - 1])
        latest = ChecklistActivation.objects.order_by("-activated_at", "-id").first()
        if latest is not None and latest.version == version:
            return latest
        in_force = latest.version if latest is not None else available_versions()[0]
        activation = ChecklistActivation.objects.create(version=version, activated_by=actor, note=note)
        if in_force != version:
            checklist_sweep_queue()
    return activation


def checklist_release_blockers(*, batch: SecretomeBatch) -> list[str]:
    """Required items missing or invalid, and failed gates that block release, as sentences."""
    return evaluate_batch(batch).release_problems
