"""Pages whose cost does not grow with the data: the same number of queries with few and with many batches.

Each page is opened once with a lab of a few batches and again after many more batches (with QC
results, aliquots in the box, administrations in the study, submitted ones waiting for review and
current checklist reports) were added; the number of SQL queries must be the same. The methods export
of a study is held to a fixed budget as well.
"""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from batches import models as m
from batches.checklist.outbox import dispatch_suspended
from batches.choices import BatchStatus
from batches.models.checklist import ChecklistOutbox
from batches.services.checklist import batch_check_many, study_check_many
from tests import factories as f
from tests.batches.checklist.builders import complete_batch

pytestmark = pytest.mark.django_db


@pytest.fixture
def lab_data(lab, technician, reviewer):
    box = f.StorageLocationFactory(lab=lab, name="Box A", rows=9, columns=9)
    study = f.StudyFactory(lab=lab, title="Knee pain")
    spec = f.QCSpecificationFactory(lab=lab)
    return {"lab": lab, "box": box, "study": study, "spec": spec, "batches": [], "user": technician}


def _grow(data, count: int, *, submit: bool = True) -> None:
    """Add `count` batches like a lab's: complete records, QC, aliquots in the box, used in the study."""
    lab, user = data["lab"], data["user"]
    with dispatch_suspended():
        for _ in range(count):
            batch = complete_batch(lab, user)
            index = len(data["batches"])
            f.QCResultFactory(
                lab=lab, batch=batch, assay="endotoxin", method="lal_kinetic", value=0.1 + index, unit="EU/mL",
                specification=data["spec"], performed_by=user,
            )  # fmt: skip
            f.AliquotFactory(
                lab=lab, batch=batch, location=data["box"], position=f"{'ABCDEFGHI'[index // 9]}{index % 9 + 1}"
            )
            f.AdministrationFactory(lab=lab, batch=batch, study=data["study"], group=f"G{index}")
            if submit and index % 2:
                m.SecretomeBatch.objects.filter(pk=batch.pk).update(status=BatchStatus.SUBMITTED)
            data["batches"].append(batch)
    batch_check_many(batch_ids=[b.pk for b in data["batches"]])
    study_check_many(study_ids=[data["study"].pk])
    # The checks above ran in this test's transaction, so the outbox rows they answered are still there;
    # a worker's check commits and removes them.
    ChecklistOutbox.objects.all().delete()


def _queries(client, url: str) -> int:
    # Once to fill the process's caches (content types, checklist explanations), then counted.
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured.captured_queries)


def _pages(data) -> dict[str, str]:
    first = data["batches"][0]
    return {
        "dashboard": "/",
        "batch list": "/batches/",
        "review queue": "/review/",
        "QC trends": "/qc/trends/?assay=endotoxin",
        "QC trend data": "/qc/trends/data/?assay=endotoxin",
        "storage box": f"/storage/box/{data['box'].pk}/",
        "batch page": f"/batches/{first.pk}/",
        "study page": f"/studies/{data['study'].pk}/",
    }


def test_every_page_costs_the_same_queries_with_few_and_with_many_batches(client, lab_data, reviewer):
    client.force_login(reviewer)
    _grow(lab_data, 2)
    client.get("/")  # the session and the caches settle on the first request
    pages = {name: url for name, url in _pages(lab_data).items() if name != "review queue"}
    few = {name: _queries(client, url) for name, url in pages.items()}
    _grow(lab_data, 10)
    many = {name: _queries(client, url) for name, url in pages.items()}
    assert many == few


def test_the_review_queue_costs_the_same_queries_however_many_other_batches_the_lab_has(client, lab_data, reviewer):
    # Its checklist and QC blockers are read for all submitted batches at once; the deviation check still
    # reads each submitted batch's records, so here only the lab's other batches grow.
    client.force_login(reviewer)
    _grow(lab_data, 4)
    client.get("/")
    few = _queries(client, "/review/")
    _grow(lab_data, 10, submit=False)
    assert _queries(client, "/review/") == few


def test_the_methods_export_of_a_study_reads_current_reports_in_a_fixed_budget(lab_data):
    from batches.exports.methods import study_methods_export

    _grow(lab_data, 6)
    with CaptureQueriesContext(connection) as captured:
        export = study_methods_export(study=lab_data["study"])
    assert len(export["checklist"]["batches"]) == 6
    assert len(captured.captured_queries) <= 20


def test_the_batch_list_pages_older_batches_by_keyset_at_the_same_cost(client, lab, reviewer, monkeypatch):
    from batches.views import batches as views

    monkeypatch.setattr(views, "BATCH_LIST_PAGE", 4)
    passage = f.PassageFactory(lab=lab)
    made = f.SecretomeBatchFactory.create_batch(10, lab=lab, passage=passage, priming=None)
    newest_first = [b.code for b in sorted(made, key=lambda b: (b.created_at, b.pk), reverse=True)]
    client.force_login(reviewer)
    client.get("/")
    url, seen, costs = "/batches/", [], []
    while url:
        costs.append(_queries(client, url))
        response = client.get(url)
        seen += [batch.code for batch, _score in response.context["batches"]]
        older = response.context["older"]
        url = f"/batches/?after={older}" if older else ""
        if older:
            assert f"after={older}" in response.content.decode()  # the "Older batches" link
    assert seen == newest_first
    assert len(set(costs)) == 1  # the first, a middle and the last page cost the same queries
    response = client.get("/batches/?after=not-a-cursor")
    assert [b.code for b, _ in response.context["batches"]] == newest_first[:4]
    assert "That page link could not be read, so the newest batches are shown." in response.content.decode()


def test_qc_trend_data_plots_the_latest_results_in_production_order(client, lab, reviewer, technician, monkeypatch):
    import datetime as dt

    from batches.views import trends

    monkeypatch.setattr(trends, "TREND_POINTS", 3)
    passage = f.PassageFactory(lab=lab)
    start = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)  # collected 2–6 March, tested on the 10th
    for day in (4, 1, 5, 2, 3):  # recorded out of production order
        batch = f.SecretomeBatchFactory(
            lab=lab, passage=passage, priming=None, code=f"SB-T{day}", collected_at=start + dt.timedelta(days=day)
        )
        f.QCResultFactory(
            lab=lab, batch=batch, assay="endotoxin", method="lal_kinetic", value=day, unit="EU/mL",
            performed_by=technician, performed_on=dt.date(2025, 3, 10),
        )  # fmt: skip
    client.force_login(reviewer)
    points = client.get("/qc/trends/data/?assay=endotoxin").json()["points"]
    assert [p["batch"] for p in points] == ["SB-T3", "SB-T4", "SB-T5"]
    page = client.get("/qc/trends/?assay=endotoxin").content.decode()
    assert "The latest 3 results, one per batch in production order." in page  # 5 results, counted up to 4


def test_qc_trends_order_ties_and_missing_dates_and_keep_to_the_users_labs(
    client, lab, other_lab, reviewer, technician, monkeypatch
):
    """The walk of a lab's batches by (lab, collected_at, code) gives the order the chart always had: the latest
    first with an uncollected batch (no date) counted as the latest, a day's batches by code, a batch's results
    by their order of entry; another lab's results never appear, in the chart, the analytes or the list in words."""
    import datetime as dt

    from batches.views import trends

    monkeypatch.setattr(trends, "TREND_POINTS", 4)
    march = dt.datetime(2025, 3, 1, tzinfo=dt.UTC)

    def batch(code, day, in_lab=lab):
        collected = march + dt.timedelta(days=day) if day is not None else None
        return f.SecretomeBatchFactory(
            lab=in_lab, passage=f.PassageFactory(lab=in_lab), priming=None, code=code, collected_at=collected
        )

    def result(on, value, *, analyte="", assay="endotoxin", in_lab=lab):
        numeric = {"method": "lal_kinetic", "value": value, "unit": "EU/mL"} if value is not None else {}
        words = {"method": "", "value": None, "unit": "", "result_text": "negative"} if value is None else {}
        return f.QCResultFactory(
            lab=in_lab, batch=on, assay=assay, analyte=analyte, performed_by=technician,
            performed_on=dt.date(2025, 3, 20), **numeric, **words,
        )  # fmt: skip

    a1, a2, a4, undated = batch("SB-A1", 3), batch("SB-A2", 3), batch("SB-A4", 5), batch("SB-A0", None)
    elsewhere = batch("SB-B1", 6, in_lab=other_lab)
    first, second = result(a1, 1, analyte="X2"), result(a1, 2, analyte="X1")
    result(a2, 3, analyte="X1")
    result(a4, 4)
    result(undated, 5)
    result(elsewhere, 6, analyte="Z9", in_lab=other_lab)
    for on in (a4, a1, undated):
        result(on, None, assay="sterility")
    result(elsewhere, None, assay="sterility", in_lab=other_lab)

    client.force_login(reviewer)
    points = client.get("/qc/trends/data/?assay=endotoxin").json()["points"]
    # The latest four: SB-A0 (no date), SB-A4 (5 March), SB-A2 then SB-A1's second result (3 March, by code).
    assert [(p["batch"], p["value"]) for p in points] == [("SB-A1", 2), ("SB-A2", 3), ("SB-A4", 4), ("SB-A0", 5)]
    assert points[0]["id"] == second.pk != first.pk
    page = client.get("/qc/trends/?assay=endotoxin")
    assert page.context["analytes"] == ["X1", "X2"]
    assert page.context["result_count"] == 5  # counted up to the chart's 4 + 1
    assert [p["batch"] for p in client.get("/qc/trends/data/?assay=endotoxin&analyte=X1").json()["points"]] == [
        "SB-A1",
        "SB-A2",
    ]
    in_words = client.get("/qc/trends/?assay=sterility").context["in_words"]
    assert [r.batch.code for r in in_words] == ["SB-A1", "SB-A4", "SB-A0"]  # production order, undated last
