"""Reads of QC results shared by the API and the pages, at a cost that does not grow with the number of results."""

from django.db import connection
from django.db.models import Exists, OuterRef, QuerySet

from batches.choices import QC_NOT_COUNTED, QCOutcome
from batches.models import QCResult

# The distinct analytes of one lab's results of an assay, by skipping through the (lab, assay, analyte) index:
# one index probe per analyte found, however many results each has (a DISTINCT would read them all).
_ANALYTES = """
    SELECT DISTINCT a.analyte FROM unnest(%(labs)s::bigint[]) AS l(id), LATERAL (
        WITH RECURSIVE found(analyte) AS (
            SELECT min(q.analyte) FROM batches_qcresult q
            WHERE q.lab_id = l.id AND q.assay = %(assay)s AND q.analyte > ''
            UNION ALL
            SELECT (
                SELECT min(q.analyte) FROM batches_qcresult q
                WHERE q.lab_id = l.id AND q.assay = %(assay)s AND q.analyte > f.analyte
            ) FROM found f WHERE f.analyte IS NOT NULL
        )
        SELECT analyte FROM found WHERE analyte IS NOT NULL
    ) AS a
    ORDER BY a.analyte
"""


def qc_analytes(*, lab_ids: list[int], assay: str) -> list[str]:
    """The analytes named on the labs' results of `assay` (every status), in order; one query."""
    with connection.cursor() as cursor:
        cursor.execute(_ANALYTES, {"labs": list(lab_ids), "assay": assay})
        return [row[0] for row in cursor.fetchall()]


class ProbedExists(Exists):
    """EXISTS looked up row by row through an index.

    PostgreSQL may plan a correlated EXISTS in the select list as a hashed subplan that reads every matching
    row of the table first, even for a page of 50: with 100,000 failed QC results stored, that was 160 ms of
    a 161 ms page. It cannot hash a subquery with an OFFSET, so `OFFSET 0` keeps the cost that of the page's
    rows. For filtering on the flag, use a plain Exists (PostgreSQL may join it)."""

    template = "EXISTS(%(subquery)s OFFSET 0)"


def out_of_spec_results() -> QuerySet[QCResult]:
    """The failed QC results that count, of the outer batch."""
    return QCResult.objects.filter(batch=OuterRef("pk"), outcome=QCOutcome.FAIL).exclude(status__in=QC_NOT_COUNTED)
