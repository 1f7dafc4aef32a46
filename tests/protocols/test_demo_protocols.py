"""The demo lab follows an SOP at every step and shows one approved deviation; its complete batch stays releasable."""

import pytest
from django.core.management import call_command

from batches import models as m
from batches.services.lifecycle import batch_release_blockers
from protocols.models import Deviation, Protocol, ProtocolVersion
from protocols.selectors import protocol_version_batches, protocol_version_diff, protocol_versions_for_batch

pytestmark = pytest.mark.django_db

STEP_MODELS = (m.CellLine, m.Passage, m.SecretomeBatch, m.ProcessingStep, m.Aliquot, m.QCResult)


@pytest.fixture
def demo(db):
    call_command("seed_demo")


def test_every_demo_step_record_pins_an_effective_version_of_the_right_category(demo):
    for model in STEP_MODELS:
        assert not model.objects.filter(protocol_version__isnull=True).exists(), model.__name__
    primings = m.PrimingCondition.objects.all()
    assert not primings.exclude(kind="none").filter(protocol_version__isnull=True).exists()
    pinned = set()
    for model in (*STEP_MODELS, m.PrimingCondition):
        pinned |= set(model.objects.values_list("protocol_version_id", flat=True))
    pinned.discard(None)
    assert set(ProtocolVersion.objects.filter(pk__in=pinned).values_list("status", flat=True)) == {"effective"}
    assert set(Protocol.objects.values_list("category", flat=True)) >= {
        "isolation",
        "expansion",
        "priming",
        "conditioning",
        "processing",
        "storage",
        "qc",
    }


def test_the_demo_has_one_approved_deviation_on_the_ev_batch(demo):
    deviation = Deviation.objects.get()
    assert deviation.batch.code == "SB-25-002"
    assert (deviation.parameter, deviation.expected, deviation.actual) == ("duration_min", "110–130 min", "70 min")
    assert deviation.status == "approved"
    assert deviation.approved_by.username == "pi"
    assert "k-factor" in deviation.justification


def test_the_demo_complete_batch_has_no_deviation_and_nothing_blocks_its_release(demo):
    complete = m.SecretomeBatch.objects.get(code="SB-25-001")
    assert not Deviation.objects.filter(batch=complete).exists()
    assert batch_release_blockers(batch=complete) == []
    categories = [v.protocol.category for v in protocol_versions_for_batch(batch=complete)]
    assert categories[:4] == ["isolation", "expansion", "priming", "conditioning"]
    assert {"processing", "storage", "qc"} <= set(categories)


def test_the_demo_conditioning_sop_has_a_retired_version_whose_diff_shows_the_longer_time(demo):
    v1, v2 = ProtocolVersion.objects.filter(protocol__code="SOP-CM-001").order_by("number")
    assert (v1.status, v2.status) == ("retired", "effective")
    diff = protocol_version_diff(version=v2, against=v1)
    assert [p["name"] for p in diff["parameters"]["changed"]] == ["conditioning_time_h"]
    assert [p["name"] for p in diff["parameters"]["added"]] == ["ml_per_million_cells"]
    assert protocol_version_batches(version=v2).count() == m.SecretomeBatch.objects.count()
    assert not protocol_version_batches(version=v1).exists()
