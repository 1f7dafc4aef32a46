"""From committed changes to queued checks: one task per affected batch (or study) per transaction.

Database triggers (migration 0005) write every subject whose inputs changed into the outbox table, in
the changing transaction, whatever wrote the rows: save(), QuerySet.update(), bulk_create(), raw SQL.
A connection-level hook notices writes to those tables and, once the transaction commits, claims the
rows its own connection wrote and queues the checks. A claimed row is not deleted: it stays until the
check it asked for commits its report (`outbox_complete`, called in the report's transaction). The
periodic `checklist_outbox_drain` task queues a check for every row nobody claimed (a process that died
after commit, a psql session) and for every claim not completed within `REQUEUE_AFTER_S` (a worker
killed mid-check, a message lost by the broker), so no check is lost and none waits for the broker's
visibility timeout. Checks are idempotent, so a check queued twice costs a second evaluation, never a
second report.
"""

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.db import connection, transaction
from django.db.backends.base.base import BaseDatabaseWrapper
from django.db.backends.signals import connection_created

logger = logging.getLogger(__name__)

# The tables migration 0005 puts outbox triggers on (a test compares this list with the database).
WATCHED_TABLES = (
    "batches_secretomebatch",
    "batches_passage",
    "batches_cellline",
    "batches_donor",
    "batches_immunophenotype",
    "batches_differentiation",
    "batches_primingcondition",
    "batches_primingagent",
    "batches_processingstep",
    "batches_qcresult",
    "batches_qcspecification",
    "batches_aliquot",
    "batches_aliquotevent",
    "batches_administration",
    "batches_study",
    "batches_outcomemeasure",
)
_WRITES = ("INSERT", "UPDATE", "DELETE", "MERGE")
_dispatch_suspended: ContextVar[bool] = ContextVar("checklist_dispatch_suspended", default=False)

# A queued check that has not committed its report after this long is queued again by the drain.
REQUEUE_AFTER_S = 120

CLAIM_OWN_SQL = """
    UPDATE batches_checklistoutbox SET claimed_at = clock_timestamp() WHERE id IN (
        SELECT id FROM batches_checklistoutbox WHERE backend_pid = pg_backend_pid() AND claimed_at IS NULL
        ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
    ) RETURNING subject_kind, subject_id
"""
CLAIM_ANY_SQL = """
    UPDATE batches_checklistoutbox SET claimed_at = clock_timestamp() WHERE id IN (
        SELECT id FROM batches_checklistoutbox
        WHERE (claimed_at IS NULL AND created_at < now() - make_interval(secs => %s))
           OR claimed_at < now() - make_interval(secs => %s)
        ORDER BY id LIMIT %s FOR UPDATE SKIP LOCKED
    ) RETURNING subject_kind, subject_id
"""
# Rows whose writing transaction had committed when the check took its snapshot: their changes were read.
COMPLETE_SQL = """
    DELETE FROM batches_checklistoutbox
    WHERE subject_kind = %s AND subject_id = ANY(%s::bigint[]) AND txid_visible_in_snapshot(txid, %s::txid_snapshot)
"""


def outbox_snapshot() -> str:
    """Taken by a check before it reads its inputs (and after it holds the subjects' lock)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT txid_current_snapshot()::text")
        return cursor.fetchone()[0]


def outbox_complete(*, kind: str, subject_ids: list[int], snapshot: str) -> int:
    """In the check's transaction: the outbox rows whose changes the check has read are done."""
    with connection.cursor() as cursor:
        cursor.execute(COMPLETE_SQL, [kind, sorted(set(subject_ids)), snapshot])
        return cursor.rowcount


def _is_watched_write(sql: str) -> bool:
    head = sql.lstrip()[:6].upper()
    return head.startswith(_WRITES) and any(table in sql for table in WATCHED_TABLES)


def _dispatch_after_commit() -> None:
    outbox_dispatch(own_only=True)


def _watch_writes(execute, sql, params, many, context):
    result = execute(sql, params, many, context)
    if not _dispatch_suspended.get() and isinstance(sql, str) and _is_watched_write(sql):
        db = context["connection"]
        if not any(callback is _dispatch_after_commit for _, callback, _ in db.run_on_commit):
            # Outside a transaction on_commit runs at once: the write is already committed.
            transaction.on_commit(_dispatch_after_commit, using=db.alias, robust=True)
    return result


def install(sender=None, connection: BaseDatabaseWrapper | None = None, **kwargs) -> None:
    if (
        connection is not None
        and connection.vendor == "postgresql"
        and _watch_writes not in connection.execute_wrappers
    ):
        # First in the list, never last: pghistory.context() removes its own wrapper with pop(), so a
        # wrapper appended while a context is open (a connection opened inside a request) would be
        # popped in its place, leaving pghistory's wrapper behind on the connection.
        connection.execute_wrappers.insert(0, _watch_writes)


def connect() -> None:
    """Called from the app config: watch every new database connection (and the current one)."""
    connection_created.connect(install, dispatch_uid="checklist_outbox_watch")
    if connection.connection is not None:
        install(connection=connection)


@contextmanager
def dispatch_suspended() -> Iterator[None]:
    """Write without queuing checks (bulk loads that run their own sweep); the outbox still fills."""
    token = _dispatch_suspended.set(True)
    try:
        yield
    finally:
        _dispatch_suspended.reset(token)


def _publish(kind: str, subject_id: int) -> None:
    from batches import tasks

    if kind == "batch":
        tasks.batch_check.delay(batch_id=subject_id)
    else:
        tasks.study_check.delay(study_id=subject_id)


def outbox_dispatch(
    *, own_only: bool, limit: int = 1000, min_age_seconds: float = 0, requeue_after_seconds: float = REQUEUE_AFTER_S
) -> int:
    """Claim outbox rows and queue one check per distinct subject; returns how many were queued.

    The claim and the publishing share one transaction: if the broker refuses a message the claim
    rolls back and the rows stay unclaimed. A crash after publishing but before commit queues a check
    twice, which is harmless (a report is keyed by its fingerprint). Claimed rows stay until their
    check completes them; the drain (own_only=False) re-claims those older than requeue_after_seconds.
    """
    queued = 0
    eager = settings.CELERY_TASK_ALWAYS_EAGER
    while True:
        with transaction.atomic(), connection.cursor() as cursor:
            if own_only:
                cursor.execute(CLAIM_OWN_SQL, [limit])
            else:
                cursor.execute(CLAIM_ANY_SQL, [min_age_seconds, requeue_after_seconds, limit])
            claimed = cursor.fetchall()
            subjects = sorted(set(claimed))
            for kind, subject_id in subjects:
                if eager:
                    # In-process (no broker): a failing check must not keep the others from running.
                    try:
                        with transaction.atomic():
                            _publish(kind, subject_id)
                    except Exception:
                        logger.exception("checklist check of %s %s failed", kind, subject_id)
                else:
                    _publish(kind, subject_id)
            queued += len(subjects)
        if len(claimed) < limit:
            return queued
