"""Reads of QC results whose cost does not grow with the number of results."""

from django.db import connection

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
