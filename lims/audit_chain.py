"""The audit hash chain: every history event is sealed, in commit order, in one append-only chain.

How it works
------------
A deferrable constraint trigger (`lims_audit_seal`) sits on every pghistory event table and on
pghistory's context table. It fires at COMMIT, once per inserted event (and per inserted or
updated context row, because pghistory updates a context's metadata in place). It takes the row
as `to_jsonb(NEW)`, hashes that text with SHA-256, then appends an `AuditSeal`:
`chain_hash = SHA-256(previous_hash | seq | table | row key | content_hash)`.

Why a lock taken at commit, and the primary key on seq
-------------------------------------------------------
Two transactions that seal at once must not both read the same previous hash (that would fork
the chain). The trigger takes a transaction-level advisory lock before it reads the last seal, and
holds it until COMMIT, so sealers queue up and the chain order is the commit order. A waiting
sealer under READ COMMITTED reads the last seal with a fresh snapshot once it has the lock (the
holder's commit is visible before its locks are released). Under REPEATABLE READ the snapshot could
predate the previous sealer's commit; then the primary key on `seq` refuses the second seal with a
unique violation and the transaction fails instead of forking the chain. Because the trigger is
deferred to COMMIT, the lock is held only while a transaction commits, not while it works, so it
neither serialises long transactions nor creates lock-order deadlocks with row locks taken earlier.
`seq` is gapless: a rolled-back transaction rolls its seals back. The last seal is found through
the primary-key index, so sealing costs the same for the 1st and the 100 000th event of a
transaction (an earlier design updated one "head" row per event, which made a long transaction's
sealing quadratic in its number of events).

A sequence with a later sealing step was rejected: sequence order is not commit order, so a late
sealer would have to guess when a gap is final, and events would sit unsealed in between.

Schema changes
--------------
A migration that adds a column to an event table gives old rows a value they were not sealed
with. Each seal therefore records its *shape* (the sorted column names it hashed, stored once per
distinct shape) and verification hashes only those columns. Renaming or dropping a history column,
or changing its type, makes old events fail verification — on purpose: it changes audit data.

What verification catches: an event or context row changed after sealing (content hash), an
event deleted (seal without row), an event inserted with the triggers off (row without seal), a
seal changed, removed or inserted (the chain hashes, the gapless seq), a sealing trigger dropped or
disabled. It cannot catch someone who deletes the newest events and seals together, or rewrites
the whole chain consistently: for that, keep the head (seq and hash, printed by verify_audit and
written in every backup manifest) somewhere else and pass it back as `verify_audit --anchor`.
"""

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import pgtrigger
import psycopg
from django.apps import apps
from django.contrib.postgres.fields import ArrayField
from django.db import models

GENESIS_HASH = "0" * 64
# pg_advisory_xact_lock key that serialises sealing (any fixed bigint; this one spells "LIMSAUDT").
CHAIN_LOCK_KEY = 0x4C494D5341554454
CHAIN_TABLES = {"lims_auditseal", "lims_auditshape"}
TRIGGER_NAME = "lims_audit_seal"
CONTEXT_TABLE = "pghistory_context"
# to_jsonb renders timestamps in the session time zone and floats by extra_float_digits; pin both.
CANONICAL_SETTINGS = (("TimeZone", "UTC"), ("extra_float_digits", "1"), ("IntervalStyle", "iso_8601"))


class AuditShape(models.Model):
    """The sorted column names one or more seals hashed (stored once per table layout)."""

    table_name = models.CharField(max_length=63)
    columns = ArrayField(models.TextField())

    class Meta:
        constraints = [models.UniqueConstraint(fields=["table_name", "columns"], name="auditshape_unique")]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.table_name} ({len(self.columns)} columns)"


class AuditSeal(models.Model):
    """One link of the hash chain: the hash of one history event (or context version)."""

    seq = models.BigIntegerField(primary_key=True, help_text="Position in the chain, 1, 2, 3… without gaps.")
    table_name = models.CharField(max_length=63, help_text="Event table the sealed row lives in.")
    row_key = models.CharField(max_length=64, help_text="Primary key of the sealed row (pgh_id or context id).")
    event_at = models.DateTimeField(help_text="When the event was recorded.")
    shape = models.ForeignKey(AuditShape, on_delete=models.PROTECT, related_name="+")
    content_hash = models.CharField(max_length=64, help_text="SHA-256 of the canonical row content.")
    previous_hash = models.CharField(max_length=64)
    chain_hash = models.CharField(max_length=64, help_text="SHA-256(previous | seq | table | key | content).")
    sealed_at = models.DateTimeField()

    class Meta:
        ordering = ["seq"]
        indexes = [models.Index(fields=["table_name", "row_key"], name="auditseal_row")]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"#{self.seq} {self.table_name}:{self.row_key}"


class AuditTrail(AuditSeal):
    """The admin's menu entry for the audit trail page (lims.admin_audit); no table of its own."""

    class Meta:
        proxy = True
        verbose_name = "audit trail"
        verbose_name_plural = "audit trail"


def chain_hash(previous_hash: str, seq: int, table_name: str, row_key: str, content_hash: str) -> str:
    """The chain link exactly as the trigger computes it."""
    text = f"{previous_hash}|{seq}|{table_name}|{row_key}|{content_hash}"
    return hashlib.sha256(text.encode()).hexdigest()


@dataclass(frozen=True)
class SealedTable:
    table: str
    key_column: str
    time_column: str
    operations: str  # trigger operations, SQL


def sealed_tables() -> list[SealedTable]:
    """Every pghistory event table, the context table whose metadata says who and why, and every
    insert-only table sealed directly (a model with `AUDIT_SEAL = (key column, time column)`, such as
    checklist reports: immutable rows need no history copy, their seal covers the row itself)."""
    from pghistory.models import Event

    tables = [SealedTable(CONTEXT_TABLE, "id", "updated_at", "INSERT OR UPDATE")]
    for model in apps.get_models():
        if not model._meta.managed or model._meta.proxy:
            continue
        if issubclass(model, Event):
            tables.append(SealedTable(model._meta.db_table, "pgh_id", "pgh_created_at", "INSERT"))
        elif getattr(model, "AUDIT_SEAL", None):
            key, time = model.AUDIT_SEAL
            tables.append(SealedTable(model._meta.db_table, key, time, "INSERT"))
    return sorted(tables, key=lambda t: t.table)


def _settings_clause() -> str:
    return " ".join(f"SET \"{name}\" = '{value}'" for name, value in CANONICAL_SETTINGS)


FUNCTIONS_SQL = f"""
CREATE OR REPLACE FUNCTION lims_audit_append(p_table text, p_key text, p_at timestamptz, p_content jsonb)
RETURNS void LANGUAGE plpgsql AS $$
DECLARE
    v_columns text[] := ARRAY(SELECT jsonb_object_keys(p_content) ORDER BY 1);
    v_content_hash text := encode(sha256(convert_to(p_content::text, 'UTF8')), 'hex');
    v_shape bigint;
    v_seq bigint := 0;
    v_previous text := '{GENESIS_HASH}';
    v_hash text;
BEGIN
    -- The lock that orders the chain: held until this transaction commits (see lims/audit_chain.py).
    PERFORM pg_advisory_xact_lock({CHAIN_LOCK_KEY});
    SELECT seq, chain_hash INTO v_seq, v_previous FROM lims_auditseal ORDER BY seq DESC LIMIT 1;
    IF NOT FOUND THEN
        v_seq := 0;
        v_previous := '{GENESIS_HASH}';
    END IF;
    SELECT id INTO v_shape FROM lims_auditshape WHERE table_name = p_table AND columns = v_columns;
    IF v_shape IS NULL THEN
        INSERT INTO lims_auditshape (table_name, columns) VALUES (p_table, v_columns) RETURNING id INTO v_shape;
    END IF;
    v_seq := v_seq + 1;
    v_hash := encode(sha256(convert_to(
        v_previous || '|' || v_seq || '|' || p_table || '|' || p_key || '|' || v_content_hash, 'UTF8')), 'hex');
    INSERT INTO lims_auditseal
        (seq, table_name, row_key, event_at, shape_id, content_hash, previous_hash, chain_hash, sealed_at)
        VALUES (v_seq, p_table, p_key, p_at, v_shape, v_content_hash, v_previous, v_hash, clock_timestamp());
END;
$$;

CREATE OR REPLACE FUNCTION lims_audit_seal() RETURNS trigger LANGUAGE plpgsql {_settings_clause()} AS $$
DECLARE
    v_content jsonb := to_jsonb(NEW);
BEGIN
    PERFORM lims_audit_append(TG_TABLE_NAME::text, v_content ->> TG_ARGV[0],
                              (v_content ->> TG_ARGV[1])::timestamptz, v_content);
    RETURN NULL;
END;
$$;

CREATE OR REPLACE FUNCTION lims_audit_seal_rows(p_query text) RETURNS bigint LANGUAGE plpgsql
{_settings_clause()} AS $$
DECLARE
    v_row record;
    v_count bigint := 0;
BEGIN
    FOR v_row IN EXECUTE p_query LOOP
        PERFORM lims_audit_append(v_row.table_name, v_row.row_key, v_row.event_at, v_row.content);
        v_count := v_count + 1;
    END LOOP;
    RETURN v_count;
END;
$$;

CREATE OR REPLACE FUNCTION lims_audit_keep_context() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'lims: audit context rows cannot be deleted (table %)', TG_TABLE_NAME;
END;
$$;
"""


def _quote(identifier: str) -> str:
    return '"' + identifier.replace('"', '""') + '"'


def _unsealed_rows_sql(tables: Iterable[SealedTable]) -> str:
    parts = [
        f"SELECT '{t.table}'::text AS table_name, src.{_quote(t.key_column)}::text AS row_key, "
        f"src.{_quote(t.time_column)} AS event_at, src.{_quote(t.key_column)}::text AS sort_key, "
        f"to_jsonb(src) AS content FROM {_quote(t.table)} src WHERE NOT EXISTS ("
        f"SELECT 1 FROM lims_auditseal s WHERE s.table_name = '{t.table}' "
        f"AND s.row_key = src.{_quote(t.key_column)}::text)"
        for t in tables
    ]
    # Context rows first within the same instant: an event refers to the context it was made in.
    return (
        "SELECT * FROM (" + " UNION ALL ".join(parts) + ") u "
        "ORDER BY u.event_at, u.table_name <> 'pghistory_context', u.table_name, length(u.sort_key), u.sort_key"
    )


def _existing_tables(cursor) -> set[str]:
    cursor.execute("SELECT tablename FROM pg_tables WHERE schemaname = current_schema()")
    return {row[0] for row in cursor.fetchall()}


def _tables_with_seal_trigger(cursor) -> set[str]:
    cursor.execute(
        "SELECT c.relname FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE t.tgname = %s AND c.relnamespace = current_schema()::regnamespace",
        [TRIGGER_NAME],
    )
    return {row[0] for row in cursor.fetchall()}


def install(cursor) -> list[str]:
    """Create the sealing functions and put the trigger on every event table that lacks it.

    Rows already in a table that had no trigger yet (the history written before the chain existed,
    or by a data migration in the same run that created the table) are sealed now, oldest first.
    Returns the tables newly put under the chain. Safe to run again: it only adds what is missing.
    """
    existing = _existing_tables(cursor)
    if not CHAIN_TABLES.issubset(existing):
        return []
    cursor.execute(FUNCTIONS_SQL)
    with_trigger = _tables_with_seal_trigger(cursor)
    new = [t for t in sealed_tables() if t.table in existing and t.table not in with_trigger]
    for t in new:
        cursor.execute(
            f"CREATE CONSTRAINT TRIGGER {TRIGGER_NAME} AFTER {t.operations} ON {_quote(t.table)} "
            f"DEFERRABLE INITIALLY DEFERRED FOR EACH ROW "
            f"EXECUTE FUNCTION lims_audit_seal('{t.key_column}', '{t.time_column}')"
        )
        if t.table == CONTEXT_TABLE:
            cursor.execute(
                f"CREATE TRIGGER lims_audit_keep_context BEFORE DELETE ON {_quote(t.table)} "
                "FOR EACH ROW EXECUTE FUNCTION lims_audit_keep_context()"
            )
    if new:
        cursor.execute("SELECT lims_audit_seal_rows(%s)", [_unsealed_rows_sql(new)])
    return [t.table for t in new]


def seal_pending(cursor) -> None:
    """Seal this transaction's events now instead of at COMMIT (tests, and before verifying)."""
    cursor.execute(f"SET CONSTRAINTS {TRIGGER_NAME} IMMEDIATE")
    cursor.execute(f"SET CONSTRAINTS {TRIGGER_NAME} DEFERRED")


# --- Verification --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Problem:
    kind: str
    table: str
    row_key: str
    event_at: datetime | None
    seq: int | None
    detail: str

    def describe(self) -> str:
        where = f"seal #{self.seq}: " if self.seq is not None else ""
        when = self.event_at.isoformat() if self.event_at else "unknown time"
        return f"{where}table {self.table}, event {self.row_key}, recorded {when} — {self.detail}"


@dataclass
class ChainReport:
    sealed: int = 0
    head_seq: int = 0
    head_hash: str = GENESIS_HASH
    tables: int = 0
    problems: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def first_problem(self) -> Problem | None:
        if not self.problems:
            return None
        return min(self.problems, key=problem_order)


def problem_order(problem: Problem) -> tuple:
    """Chain order first, then time; rows written with triggers off may carry any timestamp, or none."""
    moment = problem.event_at.timestamp() if isinstance(problem.event_at, datetime) else float("inf")
    return (problem.seq is None, problem.seq or 0, moment, problem.table, str(problem.row_key))


def _verify_contents(cursor, t: SealedTable, report: ChainReport, limit: int) -> None:
    key = _quote(t.key_column)
    cursor.execute(
        f"""
        WITH latest AS (
            SELECT DISTINCT ON (s.row_key) s.seq, s.row_key, s.event_at, s.content_hash, sh.columns
            FROM lims_auditseal s JOIN lims_auditshape sh ON sh.id = s.shape_id
            WHERE s.table_name = %s
            ORDER BY s.row_key, s.seq DESC
        ), current AS (
            SELECT src.{key}::text AS row_key, to_jsonb(src) AS content FROM {_quote(t.table)} src
        )
        SELECT l.seq, l.row_key, l.event_at, c.content IS NULL AS missing
        FROM latest l LEFT JOIN current c ON c.row_key = l.row_key
        WHERE c.content IS NULL OR encode(sha256(convert_to(COALESCE(
            (SELECT jsonb_object_agg(e.key, e.value) FROM jsonb_each(c.content) e WHERE e.key = ANY(l.columns)),
            '{{}}'::jsonb)::text, 'UTF8')), 'hex') <> l.content_hash
        ORDER BY l.seq
        LIMIT %s
        """,
        [t.table, limit],
    )
    for seq, row_key, event_at, missing in cursor.fetchall():
        detail = (
            "the sealed row is gone (deleted after sealing)"
            if missing
            else "the row differs from what was sealed (changed after sealing)"
        )
        report.problems.append(Problem("missing" if missing else "altered", t.table, row_key, event_at, seq, detail))
    cursor.execute(
        f"""
        SELECT src.{key}::text, src.{_quote(t.time_column)} FROM {_quote(t.table)} src
        WHERE NOT EXISTS (SELECT 1 FROM lims_auditseal s WHERE s.table_name = %s AND s.row_key = src.{key}::text)
        ORDER BY 2, 1 LIMIT %s
        """,
        [t.table, limit],
    )
    for row_key, event_at in cursor.fetchall():
        report.problems.append(
            Problem("unsealed", t.table, row_key, event_at, None, "the row has no seal (written with triggers off)")
        )


def _verify_links(conn, report: ChainReport, limit: int, anchor: tuple[int, str] | None) -> None:
    previous, expected_seq, broken = GENESIS_HASH, 1, 0
    anchor_seen = False
    with conn.cursor(name="lims_audit_chain_walk") as walk:
        walk.itersize = 5000
        walk.execute(
            "SELECT seq, table_name, row_key, event_at, content_hash, previous_hash, chain_hash "
            "FROM lims_auditseal ORDER BY seq"
        )
        for seq, table, row_key, event_at, content_hash, previous_hash, stored_hash in walk:
            report.sealed += 1
            detail = None
            if seq != expected_seq:
                detail = f"seal #{expected_seq} is missing from the chain (next is #{seq})"
            elif previous_hash != previous:
                detail = "the seal does not follow the one before it (previous hash differs)"
            elif stored_hash != chain_hash(previous_hash, seq, table, row_key, content_hash):
                detail = "the seal was changed (its chain hash does not match its content)"
            if detail is None and anchor is not None and seq == anchor[0]:
                anchor_seen = True
                if stored_hash != anchor[1]:
                    detail = "the seal differs from the anchor recorded earlier (the chain was rewritten)"
            if detail and broken < limit:
                report.problems.append(Problem("chain", table, row_key, event_at, seq, detail))
                broken += 1
            previous, expected_seq = stored_hash, seq + 1
    report.head_seq, report.head_hash = expected_seq - 1, previous
    if anchor is not None and not anchor_seen and anchor[0] > report.head_seq:
        report.problems.append(
            Problem(
                "chain",
                "lims_auditseal",
                "-",
                None,
                report.head_seq + 1,
                f"the chain ends at #{report.head_seq} but the anchor recorded earlier is #{anchor[0]} "
                "(the newest events and their seals were removed)",
            )
        )


def _verify_triggers(cursor, tables: list[SealedTable], report: ChainReport) -> None:
    cursor.execute(
        "SELECT c.relname, t.tgenabled FROM pg_trigger t JOIN pg_class c ON c.oid = t.tgrelid "
        "WHERE t.tgname = %s AND c.relnamespace = current_schema()::regnamespace",
        [TRIGGER_NAME],
    )
    state = dict(cursor.fetchall())
    for t in tables:
        if t.table not in state:
            detail = "the sealing trigger is missing: new events are not sealed (run migrate)"
        elif state[t.table] == "D":
            detail = "the sealing trigger is disabled: new events are not sealed"
        else:
            continue
        report.problems.append(Problem("trigger", t.table, "-", None, None, detail))


def verify(
    conn: psycopg.Connection, *, limit_per_check: int = 100, anchor: tuple[int, str] | None = None
) -> ChainReport:
    """Recompute the whole chain and every sealed row's content hash, on a psycopg connection.

    Outside a transaction it reads one REPEATABLE READ snapshot; inside one (tests) it uses a savepoint.
    Either way it rolls back at the end, so the canonical SET LOCALs do not leak into the session.
    `anchor` is a (seq, chain hash) recorded earlier; the chain must still hold it.
    """
    outside_transaction = conn.info.transaction_status == psycopg.pq.TransactionStatus.IDLE
    with conn.transaction(force_rollback=True), conn.cursor() as cursor:
        if outside_transaction:
            cursor.execute("SET TRANSACTION ISOLATION LEVEL REPEATABLE READ, READ ONLY")
        for name, value in CANONICAL_SETTINGS:
            cursor.execute("SELECT set_config(%s, %s, true)", [name, value])
        existing = _existing_tables(cursor)
        if not CHAIN_TABLES.issubset(existing):
            raise LookupError("this database has no audit chain tables (is it migrated?)")
        tables = [t for t in sealed_tables() if t.table in existing]
        report = ChainReport(tables=len(tables))
        _checked(conn, report, "sealing triggers", lambda: _verify_triggers(cursor, tables, report))
        for t in tables:
            _checked(conn, report, t.table, lambda t=t: _verify_contents(cursor, t, report, limit_per_check))
        _checked(conn, report, "lims_auditseal", lambda: _verify_links(conn, report, limit_per_check, anchor))
    return report


def _checked(conn: psycopg.Connection, report: ChainReport, table: str, check) -> None:
    """Run one check in a savepoint: damage that makes a check itself fail is reported, and the rest still run."""
    try:
        with conn.transaction():
            check()
    except psycopg.Error as exc:
        detail = f"could not be checked: {str(exc).strip().splitlines()[0]}"
        report.problems.append(Problem("unreadable", table, "-", None, None, detail))


def verify_default_database(*, limit_per_check: int = 100, anchor: tuple[int, str] | None = None) -> ChainReport:
    """Verify the chain of Django's default database, sealing this transaction's pending events first."""
    from django.db import connection

    with connection.cursor() as cursor:
        if connection.in_atomic_block:
            seal_pending(cursor)
    return verify(connection.connection, limit_per_check=limit_per_check, anchor=anchor)
