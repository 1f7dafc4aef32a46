"""Batches over the API: lifecycle actions, locking, lineage, filters and a constant number of queries."""

import base64
import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from batches.models import ChecklistReport, SecretomeBatch
from lims.signatures import Signature
from tests import factories as f
from tests.batches.checklist.builders import complete_batch

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


def _url(batch, action=""):
    return f"/api/v1/batches/{batch.pk}/{action + '/' if action else ''}"


def _history_labels(batch):
    return list(
        SecretomeBatch.history.rel.related_model.objects.filter(pgh_obj_id=batch.pk)
        .order_by("pgh_id")
        .values_list("pgh_label", flat=True)
    )


def test_two_clients_updating_from_the_same_version_one_wins_the_other_gets_409(api, lab, technician, reviewer):
    batch = f.SecretomeBatchFactory(lab=lab)
    first = api(technician).patch(_url(batch), {"final_volume_ml": 16.0, "version": 1}, format="json")
    second = api(reviewer).patch(_url(batch), {"final_volume_ml": 12.0, "version": 1}, format="json")
    assert first.status_code == 200
    assert second.status_code == 409
    assert second.data["current_version"] == 2
    assert SecretomeBatch.objects.get(pk=batch.pk).final_volume_ml == 16.0
    assert _history_labels(batch) == ["insert", "update"]


def test_a_released_batch_cannot_be_edited_through_the_api(api, lab, technician):
    batch = f.SecretomeBatchFactory(lab=lab, status="released")
    response = api(technician).patch(_url(batch), {"final_volume_ml": 1.0, "version": batch.version}, format="json")
    assert response.status_code == 409
    assert "released" in response.data["detail"]
    step = {"batch": batch.pk, "order": 1, "kind": "filtration", "pore_size_um": 0.22}
    assert api(technician).post("/api/v1/processing-steps/", step, format="json").status_code == 409


def test_status_is_read_only_on_update(api, lab, technician):
    batch = f.SecretomeBatchFactory(lab=lab)
    response = api(technician).patch(_url(batch), {"status": "released", "version": 1}, format="json")
    assert response.status_code == 200
    assert SecretomeBatch.objects.get(pk=batch.pk).status == "draft"


@pytest.fixture
def releasable(lab, technician, reviewer):
    """A draft batch on which every checklist item is satisfied and all QC is verified."""
    batch = complete_batch(lab, technician)
    batch.qc_results.update(status="verified", verified_by=reviewer, verified_at=timezone.now())
    return batch


def test_a_technician_submits_and_a_reviewer_releases_with_a_signature(api, technician, reviewer, releasable):
    batch = releasable
    assert api(technician).post(_url(batch, "submit")).data["status"] == "submitted"
    assert api(technician).post(_url(batch, "release"), {"password": PASSWORD}, format="json").status_code == 403
    response = api(reviewer).post(_url(batch, "release"), {"password": PASSWORD}, format="json")
    assert response.status_code == 200, response.data
    assert response.data["status"] == "released"
    assert Signature.objects.get(object_id=batch.pk).meaning == "released"


def test_a_release_with_a_wrong_password_releases_nothing(api, reviewer, releasable):
    batch = releasable
    SecretomeBatch.objects.filter(pk=batch.pk).update(status="submitted")
    response = api(reviewer).post(_url(batch, "release"), {"password": "guess"}, format="json")
    assert response.status_code == 400
    assert "password" in response.data
    assert SecretomeBatch.objects.get(pk=batch.pk).status == "submitted"


def test_a_refused_release_lists_every_blocker(api, lab, reviewer):
    batch = f.SecretomeBatchFactory(lab=lab, status="submitted")
    response = api(reviewer).post(_url(batch, "release"), {"password": PASSWORD}, format="json")
    assert response.status_code == 400
    assert response.data["blockers"]
    assert all(isinstance(message, str) for message in response.data["blockers"])
    assert SecretomeBatch.objects.get(pk=batch.pk).status == "submitted"


def test_rejecting_needs_a_reason_and_a_signature(api, lab, reviewer):
    batch = f.SecretomeBatchFactory(lab=lab, status="submitted")
    missing = api(reviewer).post(_url(batch, "reject"), {}, format="json").data
    assert missing == {"password": ["This field is required."], "reason": ["This field is required."]}
    wrong = api(reviewer).post(
        _url(batch, "reject"), {"reason": "Mycoplasma positive", "password": "nope"}, format="json"
    )
    assert wrong.status_code == 400 and "password" in wrong.data
    assert SecretomeBatch.objects.get(pk=batch.pk).status == "submitted"
    response = api(reviewer).post(
        _url(batch, "reject"), {"reason": "Mycoplasma positive", "password": PASSWORD}, format="json"
    )
    assert response.data["status"] == "rejected"
    signature = Signature.objects.get(object_id=str(batch.pk), meaning="rejected")
    assert signature.user == reviewer and signature.comment == "Mycoplasma positive"


def test_a_draft_cannot_be_released(api, lab, reviewer):
    batch = f.SecretomeBatchFactory(lab=lab)
    response = api(reviewer).post(_url(batch, "reject"), {"reason": "no", "password": PASSWORD}, format="json")
    assert response.status_code == 400
    assert "status" in response.data


def test_check_queues_a_checklist_run(api, lab, technician, auditor):
    batch = f.SecretomeBatchFactory(lab=lab)
    response = api(technician).post(_url(batch, "check"))
    assert response.status_code == 202
    assert response.data == {"batch": batch.pk, "queued": True}
    assert api(auditor).post(_url(batch, "check")).status_code == 403


def test_actions_on_another_labs_batch_answer_404(api, lab, outsider):
    batch = f.SecretomeBatchFactory(lab=lab)
    client = api(outsider)
    for action in ("submit", "release", "reject", "retire", "check"):
        assert client.post(_url(batch, action), {"reason": "x", "password": "x"}, format="json").status_code == 404
    assert client.get(_url(batch, "lineage")).status_code == 404


def test_lineage_returns_the_whole_chain_in_one_response(api, lab, auditor):
    grandparent = f.PassageFactory(lab=lab, number=1)
    parent = f.PassageFactory(lab=lab, cell_line=grandparent.cell_line, parent=grandparent, number=2)
    priming = f.PrimingConditionFactory(lab=lab, kind="cytokine")
    f.PrimingAgentFactory(lab=lab, priming=priming)
    batch = f.SecretomeBatchFactory(lab=lab, passage=parent, priming=priming)
    f.ProcessingStepFactory(lab=lab, batch=batch, order=1)
    f.QCResultFactory(lab=lab, batch=batch)
    f.AliquotFactory(lab=lab, batch=batch)
    f.AdministrationFactory(lab=lab, batch=batch)
    response = api(auditor).get(_url(batch, "lineage"))
    assert response.status_code == 200
    data = response.data
    assert data["donor"]["id"] == parent.cell_line.donor_id
    assert data["cell_line"]["id"] == parent.cell_line_id
    assert [p["number"] for p in data["passages"]] == [1, 2]
    assert data["passages"][1]["cumulative_population_doublings"] == pytest.approx(6.0)
    assert data["priming"]["agents"][0]["agent"] == "ifn_gamma"
    assert data["batch"]["id"] == batch.pk
    assert [len(data[key]) for key in ("processing_steps", "qc_results", "aliquots", "administrations")] == [1] * 4


def _list_queries(client, size: int) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = client.get("/api/v1/batches/", {"page_size": size})
    assert response.status_code == 200
    assert len(response.data["results"]) == size
    return len(queries)


def test_the_batch_list_costs_the_same_queries_for_10_and_200_rows(api, lab, technician):
    passage = f.PassageFactory(lab=lab)
    priming = f.PrimingConditionFactory(lab=lab)
    batches = f.SecretomeBatchFactory.create_batch(205, lab=lab, passage=passage, priming=priming)
    for batch in batches[::3]:
        ChecklistReport.objects.create(
            lab=lab, batch=batch, checklist_version="v1", score=50, fingerprint=f"{batch.pk:064x}"
        )
        f.QCResultFactory(lab=lab, batch=batch, performed_by=technician)
    client = api(technician)
    assert _list_queries(client, 10) == _list_queries(client, 200)


def test_page_size_is_capped_at_200(api, lab, technician):
    passage = f.PassageFactory(lab=lab)
    f.SecretomeBatchFactory.create_batch(203, lab=lab, passage=passage, priming=None)
    response = api(technician).get("/api/v1/batches/", {"page_size": 1000})
    assert len(response.data["results"]) == 200
    assert response.data["count"] == 203


def test_next_cursor_walks_the_list_newest_first_without_counting_or_skipping(api, lab, technician):
    passage = f.PassageFactory(lab=lab)
    batches = f.SecretomeBatchFactory.create_batch(25, lab=lab, passage=passage, priming=None)
    same_moment = timezone.now()  # rows written in the same microsecond are ordered by id
    SecretomeBatch.objects.filter(pk__in=[b.pk for b in batches[5:15]]).update(created_at=same_moment)
    elsewhere = f.LabFactory(slug="elsewhere")
    f.SecretomeBatchFactory(lab=elsewhere, passage=f.PassageFactory(lab=elsewhere), priming=None)  # not listed
    client = api(technician)
    everything = [row["id"] for row in client.get("/api/v1/batches/", {"page_size": 200}).data["results"]]
    assert len(everything) == 25

    first = client.get("/api/v1/batches/", {"page_size": 10}).data
    assert first["count"] == 25 and first["next_cursor"]
    seen, cursor, pages = [row["id"] for row in first["results"]], first["next_cursor"], []
    while cursor:
        with CaptureQueriesContext(connection) as queries:
            page = client.get("/api/v1/batches/", {"page_size": 10, "after": cursor}).data
        assert page["count"] is None and page["previous"] is None
        # (the only OFFSET is the out-of-spec flag's `OFFSET 0)`, which keeps it a per-row lookup, skipping nothing)
        sqls = [q["sql"].lower().replace("offset 0)", ")") for q in queries.captured_queries]
        assert not any("count(" in sql or "offset" in sql for sql in sqls)
        pages.append(len(queries))
        seen += [row["id"] for row in page["results"]]
        cursor = page["next_cursor"]
        assert (page["next"] is None) == (cursor is None)
    assert seen == everything  # every row once, in the list's order
    assert pages[0] == pages[-1]  # the same queries for a middle and the last page


def test_after_is_refused_with_another_ordering_or_a_cursor_the_list_did_not_give(api, lab, technician):
    f.SecretomeBatchFactory.create_batch(3, lab=lab, passage=f.PassageFactory(lab=lab), priming=None)
    client = api(technician)
    cursor = client.get("/api/v1/batches/", {"page_size": 1}).data["next_cursor"]
    assert client.get("/api/v1/batches/", {"after": cursor, "ordering": "code"}).status_code == 400
    naive = base64.urlsafe_b64encode(b"2025-01-01T00:00:00|5").decode()  # no time zone
    for bad in ("nonsense", "", "MjAyNS0wMS0wMQ", naive, cursor + "%%"):
        response = client.get("/api/v1/batches/", {"after": bad})
        assert response.status_code == 400 and "after" in response.data, bad


@pytest.fixture
def fleet(lab, technician):
    """Batches that differ in every filtered field."""
    adipose = f.PassageFactory(lab=lab, started_on=dt.date(2025, 1, 1), harvested_on=dt.date(2025, 1, 6),
        cell_line=f.CellLineFactory(lab=lab, donor=f.DonorFactory(lab=lab, tissue_source="adipose")))  # fmt: skip
    marrow = f.PassageFactory(lab=lab)
    hypoxia = f.PrimingConditionFactory(lab=lab, name="Hypoxia 1 %", kind="hypoxia", o2_percent=1, duration_h=24)
    ev = f.SecretomeBatchFactory(
        lab=lab, code="EV-1", product_type="EV", passage=adipose, priming=hypoxia,
        collected_at=dt.datetime(2025, 1, 10, tzinfo=dt.UTC),
    )  # fmt: skip
    cm = f.SecretomeBatchFactory(
        lab=lab, code="CM-1", product_type="CM", passage=marrow, status="submitted",
        collected_at=dt.datetime(2025, 2, 9, tzinfo=dt.UTC),
    )  # fmt: skip
    ChecklistReport.objects.create(lab=lab, batch=ev, checklist_version="v1", score=40, fingerprint="a" * 64)
    ChecklistReport.objects.create(lab=lab, batch=cm, checklist_version="v1", score=95, fingerprint="b" * 64)
    spec = f.QCSpecificationFactory(lab=lab, assay="endotoxin", max_value=0.5, warn_max=None)
    f.QCResultFactory(lab=lab, batch=cm, assay="endotoxin", value=2, unit="EU/mL", specification=spec,
                      outcome="fail", performed_by=technician)  # fmt: skip
    return {"ev": ev, "cm": cm, "adipose": adipose}


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"status": "submitted"}, {"cm"}),
        ({"status": ["draft", "submitted"]}, {"ev", "cm"}),
        ({"product_type": "EV"}, {"ev"}),
        ({"tissue_source": "adipose"}, {"ev"}),
        ({"priming_kind": "hypoxia"}, {"ev"}),
        ({"collected_after": "2025-02-01"}, {"cm"}),
        ({"collected_before": "2025-02-01"}, {"ev"}),
        ({"checklist_score_below": 50}, {"ev"}),
        ({"qc_out_of_spec": "true"}, {"cm"}),
        ({"qc_out_of_spec": "false"}, {"ev"}),
        ({"code": "ev-"}, {"ev"}),
    ],
)
def test_batches_filter_as_a_lab_asks(api, technician, fleet, params, expected):
    response = api(technician).get("/api/v1/batches/", params)
    assert response.status_code == 200, response.data
    assert {row["id"] for row in response.data["results"]} == {fleet[name].pk for name in expected}


def test_batches_filter_by_donor(api, technician, fleet):
    donor = fleet["adipose"].cell_line.donor_id
    response = api(technician).get("/api/v1/batches/", {"donor": donor})
    assert [row["code"] for row in response.data["results"]] == ["EV-1"]


def test_batches_order_by_checklist_score(api, technician, fleet):
    response = api(technician).get("/api/v1/batches/", {"ordering": "-checklist_score"})
    assert [row["code"] for row in response.data["results"]] == ["CM-1", "EV-1"]
    assert [row["checklist_score"] for row in response.data["results"]] == [95.0, 40.0]


@pytest.mark.parametrize(
    "params",
    [
        {"checklist_score_below": "lots"},
        {"checklist_score_below": "1e999"},
        {"collected_after": "2025-13-45"},
        {"donor": "x"},
        {"donor": "99999999999999999999999"},
        {"status": "approved"},
    ],
)
def test_a_bad_filter_value_answers_400_naming_the_parameter(api, technician, params):
    response = api(technician).get("/api/v1/batches/", params)
    assert response.status_code == 400
    assert set(response.data) == set(params)


def test_with_several_labs_the_lab_must_be_named(api, lab, other_lab, technician):
    f.MembershipFactory(user=technician, lab=other_lab, role="technician")
    payload = {
        "code": "SB-2L",
        "passage": f.PassageFactory(lab=lab).pk,
        "product_type": "CM",
        "intended_use": "in_vitro",
    }
    response = api(technician).post("/api/v1/batches/", payload, format="json")
    assert response.status_code == 400
    assert "lab" in response.data
    response = api(technician).post("/api/v1/batches/", {**payload, "lab": other_lab.pk}, format="json")
    assert response.status_code == 400
    assert "passage" in response.data
    response = api(technician).post("/api/v1/batches/", {**payload, "lab": lab.pk}, format="json")
    assert response.status_code == 201


def test_a_lab_the_user_does_not_belong_to_is_refused_naming_lab(api, lab, other_lab, technician):
    payload = {"code": "SB-X", "passage": f.PassageFactory(lab=lab).pk, "product_type": "CM", "lab": other_lab.pk,
               "intended_use": "in_vitro"}  # fmt: skip
    response = api(technician).post("/api/v1/batches/", payload, format="json")
    assert response.status_code == 400
    assert "lab" in response.data


@pytest.mark.django_db(transaction=True)
def test_two_simultaneous_updates_from_one_version_leave_one_change(lab, technician, reviewer):
    """Both requests really overlap: each thread has its own connection, a barrier releases them together."""
    import threading

    from django.db import connections
    from rest_framework.test import APIClient

    batch = f.SecretomeBatchFactory(lab=lab)
    barrier = threading.Barrier(2)
    statuses: dict[str, int] = {}

    def update(user, volume: float) -> None:
        client = APIClient()
        client.force_authenticate(user)
        barrier.wait()
        try:
            response = client.patch(_url(batch), {"final_volume_ml": volume, "version": 1}, format="json")
            statuses[user.username] = response.status_code
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=update, args=(technician, 16.0)),
        threading.Thread(target=update, args=(reviewer, 12.0)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(statuses.values()) == [200, 409]
    winner = 16.0 if statuses["tina"] == 200 else 12.0
    fresh = SecretomeBatch.objects.get(pk=batch.pk)
    assert (fresh.final_volume_ml, fresh.version) == (winner, 2)
    assert _history_labels(batch) == ["insert", "update"]


def test_a_page_looks_up_its_out_of_spec_flags_row_by_row_however_many_results_failed(lab, technician):
    """PostgreSQL hashed a plain EXISTS over every failed result, so a page of 50 read all of them (160 ms at
    100,000); the list's flag must stay a per-row probe, as the plan with many failures shows."""
    from batches.api.views import BatchViewSet

    passage = f.PassageFactory(lab=lab)
    made = SecretomeBatch.objects.bulk_create(
        f.SecretomeBatchFactory.build(lab=lab, passage=passage, priming=None, code=f"SB-{i:05d}") for i in range(3000)
    )
    result = f.QCResultFactory(lab=lab, batch=made[0], outcome="fail", performed_by=technician)
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO batches_qcresult ("
            + _columns(cursor)
            + ") SELECT "
            + _columns(cursor, prefix="p.", batch="b.id")
            + " FROM batches_qcresult p, batches_secretomebatch b "
            "WHERE p.id = %s AND b.lab_id = %s AND b.id <> %s",
            [result.pk, lab.pk, made[0].pk],
        )
        cursor.execute("ANALYZE batches_secretomebatch; ANALYZE batches_qcresult")
        page = BatchViewSet.queryset.filter(lab=lab).order_by("-created_at", "-id")[:50]
        sql, params = page.query.sql_with_params()
        cursor.execute("EXPLAIN (VERBOSE) " + sql, params)
        plan = "\n".join(row[0] for row in cursor.fetchall())
    assert "hashed SubPlan" not in plan, plan
    assert all(batch.qc_out_of_spec for batch in page)


def _columns(cursor, prefix: str = "", batch: str | None = None) -> str:
    cursor.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'batches_qcresult' "
        "AND column_name <> 'id' ORDER BY ordinal_position"
    )
    names = [row[0] for row in cursor.fetchall()]
    return ", ".join(batch if name == "batch_id" and batch else f'{prefix}"{name}"' for name in names)


def test_the_whole_lists_count_is_read_from_the_kept_counts_and_a_filtered_list_is_counted(api, lab, technician):
    passage = f.PassageFactory(lab=lab)
    batches = f.SecretomeBatchFactory.create_batch(7, lab=lab, passage=passage, priming=None)
    SecretomeBatch.objects.filter(pk__in=[b.pk for b in batches[:3]]).update(status="submitted")
    elsewhere = f.LabFactory(slug="elsewhere")
    f.SecretomeBatchFactory(lab=elsewhere, passage=f.PassageFactory(lab=elsewhere), priming=None)  # not counted
    client = api(technician)
    for params in ({}, {"page_size": 2}, {"page_size": 2, "page": 3, "ordering": "code"}):
        with CaptureQueriesContext(connection) as queries:
            listed = client.get("/api/v1/batches/", params).data
        assert listed["count"] == 7, params
        assert not any("count(" in q["sql"].lower() for q in queries.captured_queries)  # a sum of kept counts
    assert client.get("/api/v1/batches/", {"status": "submitted"}).data["count"] == 3
    assert client.get("/api/v1/batches/", {"code": batches[0].code}).data["count"] == 1
    assert client.get("/api/v1/batches/", {"page_size": 2, "page": 5}).status_code == 404  # 7 rows: 4 pages of 2
