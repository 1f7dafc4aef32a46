"""The whole story across two labs: produce and release in A, ship, receive in B, B's study uses the
aliquots, A retires the batch after a late QC failure, A's impact report lists B's study and groups,
B sees the notice and acknowledges it; B's methods text states A's record from the snapshot it has taken."""

import pytest

from batches.exports.methods import render, study_methods_export
from batches.models import ImpactNotice, ProvenanceSnapshot, ReceivedAliquot
from batches.services.corrections import batch_correct
from batches.services.lifecycle import batch_retire
from batches.shipments.selectors import snapshot_for_batch, snapshots_for_study, trace_downstream, trace_upstream
from batches.shipments.services import impact_notice_acknowledge, received_aliquot_administer
from tests import factories as f
from tests.shipments.conftest import released_and_verified, ship_and_receive, use_in_study

pytestmark = pytest.mark.django_db


def _methods_text(study) -> str:
    return render(study_methods_export(study=study), "md").content.decode()


def test_a_batch_travels_is_used_by_the_partner_and_its_late_failure_reaches_the_partner(
    partners, lab, technician, reviewer, receiving_lab, receiver_tech, django_capture_on_commit_callbacks, mailoutbox
):
    batch = released_and_verified(lab, technician, reviewer)
    shipment = ship_and_receive(lab, technician, reviewer, receiving_lab, receiver_tech, list(batch.aliquots.all()))
    study = use_in_study(receiving_lab, receiver_tech)
    text = _methods_text(study)
    assert "produced and characterised by Pain Lab" in text and "to Pain Pharmacology Lab" in text
    for heading in ("Secretome production", "Processing", "Quality control and characterisation of the product"):
        assert f"## {heading}\n" in text, heading

    shipped = snapshot_for_batch(batch_id=batch.pk, lab_id=receiving_lab.pk)
    assert shipped.snapshot_version == 1 and shipped.content["status"] == "released"
    assert shipped.content["records"]["batches"][0]["code"] == batch.code
    assert any(s["batch"] == batch.code for s in shipped.content["records"]["signatures"])
    assert shipped.content["checklist"] is None or "score" in shipped.content["checklist"]

    with django_capture_on_commit_callbacks(execute=True):
        batch_retire(batch=batch, actor=reviewer, reason="Late sterility failure on the retained sample")

    impact = trace_downstream(root="batch", root_id=batch.pk, lab_ids=[lab.pk])
    assert [(use.lab, use.study, use.groups) for use in impact.studies] == [
        ("Pain Pharmacology Lab", "CM in MIA knee OA", ["CM", "CM low"])
    ]
    assert {row["lab"] for row in impact.shipments} == {"Pain Pharmacology Lab"}
    assert impact.batches == [{"lab": "Pain Lab", "batch": batch.code, "status": "retired"}]

    notice = ImpactNotice.objects.get(lab=receiving_lab)
    assert notice.kind == "retired" and notice.shipment == shipment and "Late sterility failure" in notice.message
    assert notice.snapshot.snapshot_version == 2 and notice.snapshot.content["status"] == "retired"
    assert ProvenanceSnapshot.objects.get(batch=batch, snapshot_version=1).content["status"] == "released"
    assert impact.notices[0]["lab"] == "Pain Pharmacology Lab" and impact.notices[0]["acknowledged_at"] is None
    assert snapshot_for_batch(batch_id=batch.pk, lab_id=receiving_lab.pk) == notice.snapshot
    assert snapshots_for_study(study=study) == {batch.pk: shipped}  # until the receiving lab takes version 2
    assert snapshot_for_batch(batch_id=batch.pk, lab_id=lab.pk) is None
    assert [message.to for message in mailoutbox] == [["rolf@example.org"]]

    acknowledged = impact_notice_acknowledge(notice=notice, actor=receiver_tech)
    assert acknowledged.acknowledged_by == receiver_tech and acknowledged.acknowledged_at is not None
    assert snapshots_for_study(study=study) == {batch.pk: notice.snapshot}
    assert f"Pain Lab retired batch {batch.code}: Late sterility failure" in _methods_text(study)

    origin = trace_upstream(administration_id=study.administrations.first().pk, lab_ids=[receiving_lab.pk])
    assert origin["donor"] == batch.passage.cell_line.donor.code and origin["producer"] == "Pain Lab"
    assert origin["shipment"] == shipment.code and origin["fingerprint"] == notice.snapshot.fingerprint
    assert trace_upstream(administration_id=study.administrations.first().pk, lab_ids=[lab.pk]) is None


def test_a_correction_after_shipping_makes_a_new_snapshot_version_and_mails_the_receiving_lab(
    partners, lab, technician, reviewer, receiving_lab, receiver_admin, receiver_tech,
    django_capture_on_commit_callbacks, mailoutbox,
):  # fmt: skip
    batch = released_and_verified(lab, technician, reviewer)
    ship_and_receive(lab, technician, reviewer, receiving_lab, receiver_tech, list(batch.aliquots.all()))
    with django_capture_on_commit_callbacks(execute=True):
        batch_correct(batch=batch, actor=reviewer, reason="Final volume was 18 mL, not 28 mL")
    notice = ImpactNotice.objects.get(lab=receiving_lab)
    assert notice.kind == "corrected" and notice.snapshot.snapshot_version == 2
    assert [m.to for m in mailoutbox] == [[receiver_admin.email]]
    assert batch.code in mailoutbox[0].subject


@pytest.mark.parametrize("shipments", [1, 4])
def test_trace_and_impact_take_one_query_whatever_the_downstream_size(
    partners, lab, technician, reviewer, receiving_lab, receiver_tech, django_assert_num_queries, shipments
):
    batch = f.SecretomeBatchFactory(lab=lab, code="SB-TRACE")
    type(batch).objects.filter(pk=batch.pk).update(status="released")
    for n in range(shipments):
        aliquot = f.AliquotFactory(lab=lab, batch=batch, code=f"SB-TRACE-{n}")
        ship_and_receive(lab, technician, reviewer, receiving_lab, receiver_tech, [aliquot])
    _use_in_study_each = f.StudyFactory(lab=receiving_lab, title="Study", groups=[])
    for received in ReceivedAliquot.objects.all():
        received_aliquot_administer(
            aliquot=received, actor=receiver_tech, study=_use_in_study_each,
            data={"group": "CM", "dose_value": 1, "dose_unit": "ug_protein", "route": "intra_articular",
                  "volume_ul": 10},
        )  # fmt: skip
    donor_id = batch.passage.cell_line.donor_id
    with django_assert_num_queries(1):
        trace = trace_downstream(root="donor", root_id=donor_id, lab_ids=[lab.pk])
    assert len(trace.shipments) == shipments and len(trace.administrations) == shipments
    with django_assert_num_queries(1):
        by_cell_line = trace_downstream(root="cell_line", root_id=batch.passage.cell_line_id, lab_ids=[lab.pk])
    assert by_cell_line.as_dict() == trace.as_dict() | {"root": "cell_line", "root_id": batch.passage.cell_line_id}
    first = batch.aliquots.order_by("code").first()
    with django_assert_num_queries(1):
        by_aliquot = trace_downstream(root="aliquot", root_id=first.pk, lab_ids=[lab.pk])
    assert [row["aliquot"] for row in by_aliquot.shipments] == [first.code]


def test_another_labs_donor_traces_to_nothing(partners, lab, other_lab):
    batch = f.SecretomeBatchFactory(lab=other_lab)
    trace = trace_downstream(root="donor", root_id=batch.passage.cell_line.donor_id, lab_ids=[lab.pk])
    assert trace.batches == [] and trace.shipments == [] and trace.administrations == []


def test_a_corrected_qc_result_of_a_shipped_batch_gives_the_receiver_a_new_snapshot_version(
    partners, lab, technician, reviewer, receiving_lab, receiver_tech
):
    from batches.services.qc import qc_result_correct

    batch = released_and_verified(lab, technician, reviewer)
    ship_and_receive(lab, technician, reviewer, receiving_lab, receiver_tech, list(batch.aliquots.all()))
    result = batch.qc_results.filter(assay="endotoxin").first() or batch.qc_results.first()
    qc_result_correct(result=result, actor=technician, data={"raw_data": "corrected-plate.xlsx"}, reason="Wrong file")
    notice = ImpactNotice.objects.get(lab=receiving_lab)
    assert notice.kind == "snapshot_updated" and "Wrong file" in notice.message
    assert snapshot_for_batch(batch_id=batch.pk, lab_id=receiving_lab.pk).snapshot_version == 2
