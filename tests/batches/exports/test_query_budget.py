"""The methods export of a study reads its records in a fixed number of queries, whatever the number of batches
(benchmarks/methods_export.py measures 50 batches). Reading the records stays within 20 queries; the checklist
verdict adds its own fixed number."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from batches.exports import methods, records
from tests import factories as f

pytestmark = pytest.mark.django_db
RECORDS_BUDGET = 20


def _study_with(lab, n: int):
    study = f.StudyFactory(lab=lab, title=f"Study of {n} batches")
    for index in range(n):
        batch = f.SecretomeBatchFactory(lab=lab, code=f"SB-B{n}-{index}")
        f.ProcessingStepFactory(lab=lab, batch=batch, order=1)
        f.QCResultFactory(lab=lab, batch=batch)
        f.AliquotFactory(lab=lab, batch=batch)
        f.AdministrationFactory(lab=lab, study=study, batch=batch, group=f"G{index}")
    return study


def _queries(study) -> tuple[int, int]:
    """(queries reading the records, queries of the whole export and its Markdown)."""
    with CaptureQueriesContext(connection) as reading:
        loaded = records.study_queryset().get(pk=study.pk)
        records.snapshot(batches=records.study_batches(loaded), study=loaded)
    with CaptureQueriesContext(connection) as everything:
        methods.render(methods.study_methods_export(study=study), "md")
    return len(reading.captured_queries), len(everything.captured_queries)


def test_a_study_export_needs_no_more_queries_for_more_batches(lab):
    _queries(_study_with(lab, 1))  # content types and the active checklist version are cached per process
    few_reading, few_total = _queries(_study_with(lab, 2))
    many_reading, many_total = _queries(_study_with(lab, 10))
    assert many_reading <= few_reading <= RECORDS_BUDGET
    assert many_total <= few_total
