"""A value outside the pinned SOP raises exactly one deviation, which blocks release until a reviewer approves it."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import DatabaseError, IntegrityError, transaction

from batches.models import PrimingAgent, ProcessingStep, SecretomeBatch
from batches.services.lifecycle import ReleaseRefused, batch_release, batch_release_blockers
from protocols.models import Deviation
from protocols.selectors import deviation_release_blockers
from protocols.services import (
    deviation_approve,
    deviation_justify,
    deviation_sync,
    deviation_sync_for_record,
)
from tests import factories as f

pytestmark = pytest.mark.django_db

JUSTIFICATION = "48 h gave twice the protein yield in the pilot; validated in SB-24-017."


@pytest.fixture
def conditioning_sop(publish_sop):
    return publish_sop(category="conditioning")  # conditioning_time_h: exactly 24 h


@pytest.fixture
def batch(lab, conditioning_sop):
    # The factory's batch conditions for 48 h: a deviation from the 24 h SOP.
    return f.SecretomeBatchFactory(lab=lab, protocol_version=conditioning_sop, status="submitted")


def _verified_qc(batch, technician, reviewer):
    f.QCResultFactory(
        lab=batch.lab,
        batch=batch,
        performed_by=technician,
        status="verified",
        verified_by=reviewer,
        verified_at=batch.collected_at,
    )


def test_an_out_of_range_value_raises_one_deviation(batch, conditioning_sop, technician):
    result = deviation_sync(batch=batch, actor=technician)
    deviation = Deviation.objects.get(batch=batch)
    assert result.created == [deviation]
    assert (deviation.record_type, deviation.record_id) == ("batch", batch.pk)
    assert deviation.protocol_version == conditioning_sop
    assert (deviation.parameter, deviation.expected, deviation.actual) == ("conditioning_time_h", "24 h", "48 h")
    assert deviation.status == "open"
    assert deviation.record_label == f"Batch {batch.code}"


def test_checking_again_raises_no_second_deviation(batch, technician):
    deviation_sync(batch=batch, actor=technician)
    again = deviation_sync(batch=batch, actor=technician)
    assert not again.changed
    assert Deviation.objects.filter(batch=batch).count() == 1


def test_the_database_allows_only_one_open_deviation_per_record_and_parameter(batch, technician):
    deviation_sync(batch=batch, actor=technician)
    existing = Deviation.objects.get(batch=batch)
    with pytest.raises(IntegrityError), transaction.atomic():
        Deviation.objects.create(
            lab=batch.lab,
            batch=batch,
            protocol_version=existing.protocol_version,
            record_type="batch",
            record_id=batch.pk,
            parameter="conditioning_time_h",
            expected="24 h",
            actual="48 h",
        )


def test_a_value_inside_the_range_raises_nothing(lab, conditioning_sop, technician):
    compliant = f.SecretomeBatchFactory(lab=lab, protocol_version=conditioning_sop, conditioning_time_h=24)
    assert not deviation_sync(batch=compliant, actor=technician).changed
    assert not Deviation.objects.filter(batch=compliant).exists()


def test_an_unpinned_step_or_an_empty_value_raises_nothing(lab, conditioning_sop, technician):
    unpinned = f.SecretomeBatchFactory(lab=lab)
    blank = f.SecretomeBatchFactory(lab=lab, protocol_version=conditioning_sop, conditioning_time_h=None)
    for batch in (unpinned, blank):
        deviation_sync(batch=batch, actor=technician)
    assert not Deviation.objects.exists()


def test_an_open_deviation_follows_the_value_while_it_still_deviates(batch, technician):
    deviation_sync(batch=batch, actor=technician)
    SecretomeBatch.objects.filter(pk=batch.pk).update(conditioning_time_h=72)
    result = deviation_sync(batch=batch, actor=technician)
    deviation = Deviation.objects.get(batch=batch)
    assert result.updated == [deviation]
    assert deviation.actual == "72 h"


def test_an_open_deviation_closes_when_the_value_is_corrected(batch, technician):
    deviation_sync(batch=batch, actor=technician)
    SecretomeBatch.objects.filter(pk=batch.pk).update(conditioning_time_h=24)
    result = deviation_sync(batch=batch, actor=technician)
    deviation = Deviation.objects.get(batch=batch)
    assert result.closed == [deviation]
    assert deviation.status == "closed"
    assert deviation.closed_at is not None
    assert deviation_release_blockers(batch=batch) == []


def test_an_approved_deviation_stays_approved_while_the_value_is_unchanged(batch, technician, reviewer):
    deviation_sync(batch=batch, actor=technician)
    deviation = Deviation.objects.get(batch=batch)
    deviation_justify(deviation=deviation, actor=technician, justification=JUSTIFICATION)
    deviation_approve(deviation=deviation, actor=reviewer)
    assert not deviation_sync(batch=batch, actor=technician).changed
    assert list(Deviation.objects.filter(batch=batch).values_list("status", flat=True)) == ["approved"]


def test_a_new_value_after_approval_needs_its_own_approval(batch, technician, reviewer):
    deviation_sync(batch=batch, actor=technician)
    deviation = Deviation.objects.get(batch=batch)
    deviation_justify(deviation=deviation, actor=technician, justification=JUSTIFICATION)
    deviation_approve(deviation=deviation, actor=reviewer)
    SecretomeBatch.objects.filter(pk=batch.pk).update(conditioning_time_h=96)
    result = deviation_sync(batch=batch, actor=technician)
    assert [d.actual for d in result.created] == ["96 h"]
    assert sorted(Deviation.objects.filter(batch=batch).values_list("status", flat=True)) == ["approved", "open"]


def test_an_approved_deviation_is_never_rewritten(batch, technician, reviewer):
    deviation_sync(batch=batch, actor=technician)
    deviation = Deviation.objects.get(batch=batch)
    deviation_justify(deviation=deviation, actor=technician, justification=JUSTIFICATION)
    deviation_approve(deviation=deviation, actor=reviewer)
    with pytest.raises(DatabaseError, match="Cannot update"), transaction.atomic():
        Deviation.objects.filter(pk=deviation.pk).update(justification="something else")


def test_approval_needs_a_justification_first(batch, technician, reviewer):
    deviation_sync(batch=batch, actor=technician)
    deviation = Deviation.objects.get(batch=batch)
    with pytest.raises(ValidationError) as refused:
        deviation_approve(deviation=deviation, actor=reviewer)
    assert "justification" in refused.value.message_dict


def test_an_empty_justification_is_refused(batch, technician):
    deviation_sync(batch=batch, actor=technician)
    with pytest.raises(ValidationError, match="Say why"):
        deviation_justify(deviation=Deviation.objects.get(batch=batch), actor=technician, justification="  ")


@pytest.mark.parametrize("role", ["technician", "auditor", "lab_admin", "outsider"])
def test_only_a_reviewer_may_approve(batch, technician, role, request):
    deviation_sync(batch=batch, actor=technician)
    deviation = deviation_justify(
        deviation=Deviation.objects.get(batch=batch), actor=technician, justification=JUSTIFICATION
    )
    with pytest.raises(PermissionDenied):
        deviation_approve(deviation=deviation, actor=request.getfixturevalue(role))
    deviation.refresh_from_db()
    assert deviation.status == "open"


def test_approving_twice_changes_nothing_the_second_time(batch, technician, reviewer):
    deviation_sync(batch=batch, actor=technician)
    deviation = deviation_justify(
        deviation=Deviation.objects.get(batch=batch), actor=technician, justification=JUSTIFICATION
    )
    once = deviation_approve(deviation=deviation, actor=reviewer)
    twice = deviation_approve(deviation=deviation, actor=reviewer)
    assert (twice.version, twice.approved_at) == (once.version, once.approved_at)
    assert once.approved_by == reviewer


def test_an_open_deviation_blocks_release_until_approved(batch, technician, reviewer):
    _verified_qc(batch, technician, reviewer)
    deviation_sync(batch=batch, actor=technician)
    deviation = Deviation.objects.get(batch=batch)

    blockers = batch_release_blockers(batch=batch)
    deviation_blockers = [b for b in blockers if "conditioning time" in b]
    assert deviation_blockers == [
        f"Deviation — Batch {batch.code}: conditioning time is 48 h, but {deviation.protocol_version.protocol.code} "
        "v1 allows 24 h; it needs a justification and approval."
    ]
    with pytest.raises(ReleaseRefused):
        batch_release(batch=batch, actor=reviewer, password="correct-horse-battery")

    deviation_justify(deviation=deviation, actor=technician, justification=JUSTIFICATION)
    assert any("waits for a reviewer's approval" in b for b in batch_release_blockers(batch=batch))

    deviation_approve(deviation=deviation, actor=reviewer)
    assert not [b for b in batch_release_blockers(batch=batch) if "eviation" in b]


def test_a_deviation_nobody_raised_yet_still_blocks_release(batch):
    assert deviation_release_blockers(batch=batch) == [
        f"Deviation not yet raised — Batch {batch.code}: conditioning time is 48 h, but "
        f"{batch.protocol_version.protocol.code} v1 allows 24 h; run the deviation check."
    ]


def test_a_processing_step_with_the_wrong_cut_off_raises_a_deviation_on_that_step(lab, publish_sop, technician):
    uf_sop = publish_sop(
        category="processing", parameters=({"name": "mwco_kda", "unit": "kDa", "min_value": 3, "max_value": 3},)
    )
    step = f.ProcessingStepFactory(lab=lab, kind="ultrafiltration", g_force=None, mwco_kda=10, protocol_version=uf_sop)
    deviation_sync(batch=step.batch, actor=technician)
    deviation = Deviation.objects.get(batch=step.batch)
    assert (deviation.record_type, deviation.record_id) == ("processing_step", step.pk)
    assert (deviation.expected, deviation.actual) == ("3 kDa", "10 kDa")
    assert deviation.record_label == f"Processing step #{step.order} (ultrafiltration)"


def test_deleting_the_deviating_step_closes_its_open_deviation(lab, publish_sop, technician):
    spin_sop = publish_sop(
        category="processing", parameters=({"name": "g_force", "unit": "× g", "min_value": 200, "max_value": 400},)
    )
    step = f.ProcessingStepFactory(lab=lab, g_force=2000, protocol_version=spin_sop)
    deviation_sync(batch=step.batch, actor=technician)
    ProcessingStep.objects.filter(pk=step.pk).delete()
    deviation_sync(batch=step.batch, actor=technician)
    assert Deviation.objects.get(batch=step.batch).status == "closed"


def test_a_choice_parameter_deviates_when_the_value_is_not_among_the_choices(lab, publish_sop, technician):
    lyo_sop = publish_sop(
        category="processing",
        parameters=({"name": "lyoprotectant", "value_type": "choice", "choices": ["trehalose"], "unit": ""},),
    )
    step = f.ProcessingStepFactory(
        lab=lab, kind="lyophilisation", g_force=None, lyoprotectant="sucrose", protocol_version=lyo_sop
    )
    deviation_sync(batch=step.batch, actor=technician)
    deviation = Deviation.objects.get(batch=step.batch)
    assert (deviation.expected, deviation.actual) == ("one of: trehalose", "sucrose")


def test_a_priming_dose_in_another_unit_is_a_deviation(lab, publish_sop, technician):
    priming_sop = publish_sop(
        category="priming",
        parameters=({"name": "ifn_gamma_concentration", "unit": "ng/mL", "min_value": 10, "max_value": 50},),
    )
    agent = f.PrimingAgentFactory(lab=lab, concentration=25, concentration_unit="ng/mL")
    priming = agent.priming
    priming.protocol_version = priming_sop
    priming.save()
    batch = f.SecretomeBatchFactory(lab=lab, priming=priming)
    assert not deviation_sync(batch=batch, actor=technician).changed

    PrimingAgent.objects.filter(pk=agent.pk).update(concentration=25, concentration_unit="µM")
    deviation_sync(batch=batch, actor=technician)
    deviation = Deviation.objects.get(batch=batch)
    assert (deviation.record_type, deviation.actual, deviation.expected) == ("priming", "25 µM", "10–50 ng/mL")


def test_an_upstream_passage_deviation_is_raised_on_every_batch_made_from_its_cells(lab, publish_sop, technician):
    expansion_sop = publish_sop(
        category="expansion",
        parameters=({"name": "seeding_density_per_cm2", "unit": "cells/cm²", "min_value": 2000, "max_value": 6000},),
    )
    parent = f.PassageFactory(lab=lab, number=2, cells_seeded=1_750_000, protocol_version=expansion_sop)  # 10 000/cm²
    child = f.PassageFactory(lab=lab, cell_line=parent.cell_line, parent=parent, number=3, cells_seeded=875_000)
    batches = f.SecretomeBatchFactory.create_batch(2, lab=lab, passage=child)
    results = deviation_sync_for_record(record=parent, actor=technician)
    assert len(results) == 2
    for batch in batches:
        deviation = Deviation.objects.get(batch=batch)
        assert (deviation.record_type, deviation.record_id) == ("passage", parent.pk)
        assert deviation.actual == "10000 cells/cm²"


def test_a_step_record_write_checks_its_batch(lab, publish_sop, technician):
    storage_sop = publish_sop(
        category="storage", parameters=({"name": "temperature_c", "unit": "°C", "min_value": -86, "max_value": -70},)
    )
    aliquot = f.AliquotFactory(lab=lab, temperature_c=-20, protocol_version=storage_sop)
    deviation_sync_for_record(record=aliquot, actor=technician)
    deviation = Deviation.objects.get(batch=aliquot.batch)
    assert (deviation.record_type, deviation.actual, deviation.expected) == ("aliquot", "-20 °C", "-86 to -70 °C")


def test_the_deviation_check_is_recorded_in_the_audit_trail(batch, technician):
    deviation_sync(batch=batch, actor=technician)
    event = Deviation.objects.get(batch=batch).history.get(pgh_label="insert")
    assert event.pgh_context.metadata["user"] == technician.pk


def test_the_reviewer_who_justified_a_deviation_cannot_approve_it(batch, lab, reviewer):
    deviation_sync(batch=batch, actor=reviewer)
    deviation = deviation_justify(
        deviation=Deviation.objects.get(batch=batch), actor=reviewer, justification=JUSTIFICATION
    )
    assert deviation.justified_by == reviewer

    with pytest.raises(PermissionDenied, match="another reviewer"):
        deviation_approve(deviation=deviation, actor=reviewer)

    second = f.UserFactory(username="petra")
    f.MembershipFactory(user=second, lab=lab, role="reviewer")
    approved = deviation_approve(deviation=deviation, actor=second)
    assert (approved.status, approved.approved_by, approved.justified_by) == ("approved", second, reviewer)


def test_the_database_refuses_a_deviation_approved_by_its_justifier(batch, technician, reviewer):
    deviation_sync(batch=batch, actor=technician)
    deviation = deviation_justify(
        deviation=Deviation.objects.get(batch=batch), actor=technician, justification=JUSTIFICATION
    )
    with pytest.raises(IntegrityError), transaction.atomic():
        Deviation.objects.filter(pk=deviation.pk).update(
            status="approved", approved_by=technician, approved_at=batch.collected_at
        )
