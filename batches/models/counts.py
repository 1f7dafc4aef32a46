"""How many batches each lab has in each status, kept by the database as batches are written.

The dashboard shows these counts; counting them with a GROUP BY reads every batch of the lab (50,000 rows
for a lab of a million-batch network), whereas these rows are one per lab and status. Statement-level
triggers on the batch table (declared on SecretomeBatch) add what each INSERT, UPDATE or DELETE statement
changed, aggregated over its transition tables, with INSERT … ON CONFLICT DO UPDATE SET batches = batches + n:
two transactions writing batches of one lab both count (the second waits for the first's row, then adds to
what it committed). Rows are taken in (lab, status) order, so two statements never lock them crosswise.

Rows written with triggers off (`session_replication_role = replica`, as the benchmarks copy batches) are not
counted: `refresh_batch_status_counts()` recounts from the batch table.
"""

import pgtrigger
from django.db import models

from batches import choices

TABLE = "batches_batchstatuscount"

# One (lab, status, +n or -n) per group of the statement's rows; what nets to zero is not written.
_ADD = f"""
    INSERT INTO {TABLE} (lab_id, status, batches)
    SELECT lab_id, status, sum(n)::bigint FROM ({{deltas}}) AS delta(lab_id, status, n)
    GROUP BY lab_id, status HAVING sum(n) <> 0
    ORDER BY lab_id, status
    ON CONFLICT (lab_id, status) DO UPDATE SET batches = {TABLE}.batches + EXCLUDED.batches;
"""
_ADDED = "SELECT lab_id, status, count(*) FROM new_rows GROUP BY lab_id, status"
_REMOVED = "SELECT lab_id, status, -count(*) FROM old_rows GROUP BY lab_id, status"

# Recount from the batches (in one statement: the counts of every lab and status, zero where none is left).
REFRESH = f"""
    INSERT INTO {TABLE} (lab_id, status, batches)
    SELECT lab_id, status, count(*) FROM batches_secretomebatch GROUP BY lab_id, status
    UNION ALL
    SELECT c.lab_id, c.status, 0 FROM {TABLE} c WHERE NOT EXISTS (
        SELECT 1 FROM batches_secretomebatch b WHERE b.lab_id = c.lab_id AND b.status = c.status
    )
    ORDER BY 1, 2
    ON CONFLICT (lab_id, status) DO UPDATE SET batches = EXCLUDED.batches;
"""


def status_count_triggers() -> list[pgtrigger.Trigger]:
    """The three triggers of the batch table (PostgreSQL allows transition tables on one event per trigger)."""

    def trigger(name, operation, referencing, deltas):
        return pgtrigger.Trigger(
            name=name,
            level=pgtrigger.Statement,
            when=pgtrigger.After,
            operation=operation,
            referencing=referencing,
            func=_ADD.format(deltas=deltas) + "RETURN NULL;",
        )

    return [
        trigger("status_count_insert", pgtrigger.Insert, pgtrigger.Referencing(new="new_rows"), _ADDED),
        trigger(
            "status_count_update",
            pgtrigger.Update,
            pgtrigger.Referencing(old="old_rows", new="new_rows"),
            f"{_ADDED} UNION ALL {_REMOVED}",
        ),
        trigger("status_count_delete", pgtrigger.Delete, pgtrigger.Referencing(old="old_rows"), _REMOVED),
    ]


def refresh_batch_status_counts(cursor) -> None:
    """Recount every lab's batches by status (after rows were written with triggers off)."""
    cursor.execute(REFRESH)


class BatchStatusCount(models.Model):
    """A lab's number of batches in one status: derived data, written only by the batch table's triggers."""

    lab = models.ForeignKey("lims.Lab", on_delete=models.CASCADE, related_name="+")
    status = models.CharField(max_length=10, choices=choices.BatchStatus.choices)
    batches = models.BigIntegerField(default=0)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["lab", "status"], name="batchstatuscount_one_per_lab_and_status")
        ]

    def __str__(self) -> str:
        return f"{self.lab_id} {self.status}: {self.batches}"
