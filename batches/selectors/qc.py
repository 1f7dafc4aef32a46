"""Reads of QC results shared by the API and the pages."""

from django.db.models import Exists, OuterRef, QuerySet

from batches.choices import QC_NOT_COUNTED, QCOutcome
from batches.models import QCResult


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
