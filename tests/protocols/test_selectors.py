"""Reading protocols: the diff between two versions, the batches that used a version, a batch's SOPs."""

import pytest
from django.core.exceptions import ValidationError

from protocols.selectors import protocol_version_batches, protocol_version_diff, protocol_versions_for_batch
from protocols.services import protocol_version_create_draft, protocol_version_publish
from tests import factories as f

pytestmark = pytest.mark.django_db

SIGNING_PASSWORD = "correct-horse-battery"  # every tests.factories.UserFactory user's password

V1_BODY = "1. Wash the cells twice with PBS.\n2. Add serum-free medium.\n3. Condition for 24 h."
V2_BODY = "1. Wash the cells twice with PBS.\n2. Add serum-free medium.\n3. Condition for 24–48 h at 21 % O2."


@pytest.fixture
def two_versions(publish_sop, technician, reviewer):
    v1 = publish_sop(
        category="conditioning",
        body=V1_BODY,
        parameters=(
            {"name": "conditioning_time_h", "unit": "h", "default": "24", "min_value": 24, "max_value": 24},
            {"name": "serum_free", "value_type": "choice", "choices": ["true"], "unit": "", "default": ""},
        ),
    )
    draft = protocol_version_create_draft(
        protocol=v1.protocol,
        actor=technician,
        body=V2_BODY,
        change_summary="Longer conditioning allowed; O2 stated",
        parameters=[
            {"name": "conditioning_time_h", "unit": "h", "default": "48", "min_value": 24, "max_value": 48},
            {"name": "conditioning_o2_percent", "unit": "%", "min_value": 18, "max_value": 21},
        ],
    )
    v2 = protocol_version_publish(version=draft, actor=reviewer, password=SIGNING_PASSWORD)
    v1.refresh_from_db()
    return v1, v2


def test_the_diff_lists_the_changed_parameters_with_before_and_after(two_versions):
    v1, v2 = two_versions
    diff = protocol_version_diff(version=v2, against=v1)
    changed = {item["name"]: item for item in diff["parameters"]["changed"]}
    assert list(changed) == ["conditioning_time_h"]
    assert changed["conditioning_time_h"]["changes"] == {
        "default": {"from": "24", "to": "48"},
        "max_value": {"from": 24, "to": 48},
    }
    assert (changed["conditioning_time_h"]["from"], changed["conditioning_time_h"]["to"]) == ("24 h", "24–48 h")


def test_the_diff_lists_added_and_removed_parameters(two_versions):
    v1, v2 = two_versions
    diff = protocol_version_diff(version=v2, against=v1)
    assert [p["name"] for p in diff["parameters"]["added"]] == ["conditioning_o2_percent"]
    assert diff["parameters"]["added"][0]["allowed"] == "18–21 %"
    assert [p["name"] for p in diff["parameters"]["removed"]] == ["serum_free"]


def test_the_diff_shows_the_text_change_line_by_line(two_versions):
    v1, v2 = two_versions
    diff = protocol_version_diff(version=v2, against=v1)
    assert diff["body_changed"] is True
    lines = diff["body_diff"].splitlines()
    code = v1.protocol.code
    assert lines[:2] == [f"--- {code} v1", f"+++ {code} v2"]
    assert "-3. Condition for 24 h." in lines
    assert "+3. Condition for 24–48 h at 21 % O2." in lines
    assert " 1. Wash the cells twice with PBS." in lines
    assert (diff["from_version"]["number"], diff["to_version"]["number"]) == (1, 2)
    assert diff["change_summary"] == "Longer conditioning allowed; O2 stated"


def test_a_version_against_itself_has_no_differences(two_versions):
    _v1, v2 = two_versions
    diff = protocol_version_diff(version=v2, against=v2)
    assert diff["body_diff"] == ""
    assert diff["parameters"] == {"added": [], "removed": [], "changed": []}


def test_versions_of_different_protocols_are_not_compared(two_versions, publish_sop):
    _v1, v2 = two_versions
    other = publish_sop(category="conditioning")
    with pytest.raises(ValidationError) as refused:
        protocol_version_diff(version=v2, against=other)
    assert "against" in refused.value.message_dict


def test_the_batches_that_used_a_version_at_each_kind_of_step(lab, publish_sop):
    sops = {
        category: publish_sop(category=category, parameters=())
        for category in ("isolation", "expansion", "priming", "conditioning", "processing", "storage", "qc")
    }
    line = f.CellLineFactory(lab=lab, protocol_version=sops["isolation"])
    parent = f.PassageFactory(lab=lab, cell_line=line, number=2, protocol_version=sops["expansion"])
    child = f.PassageFactory(lab=lab, cell_line=line, parent=parent, number=3)
    priming = f.PrimingConditionFactory(lab=lab, protocol_version=sops["priming"])
    conditioned = f.SecretomeBatchFactory(lab=lab, passage=child, protocol_version=sops["conditioning"])
    primed = f.SecretomeBatchFactory(lab=lab, passage=child, priming=priming)
    processed = f.ProcessingStepFactory(lab=lab, protocol_version=sops["processing"]).batch
    f.ProcessingStepFactory(lab=lab, batch=processed, protocol_version=sops["processing"])
    stored = f.AliquotFactory(lab=lab, protocol_version=sops["storage"]).batch
    tested = f.QCResultFactory(lab=lab, protocol_version=sops["qc"]).batch
    unrelated = f.SecretomeBatchFactory(lab=lab)

    def used(category):
        return set(protocol_version_batches(version=sops[category]))

    assert used("isolation") == {conditioned, primed}
    assert used("expansion") == {conditioned, primed}, "a passage's SOP reaches batches made from later passages"
    assert used("priming") == {primed}
    assert used("conditioning") == {conditioned}
    assert list(protocol_version_batches(version=sops["processing"])) == [processed], "each batch once"
    assert used("storage") == {stored}
    assert used("qc") == {tested}
    assert all(unrelated not in used(category) for category in sops)


def test_the_protocol_versions_a_batch_followed_are_listed_once_in_step_order(lab, publish_sop):
    conditioning = publish_sop(category="conditioning", parameters=())
    processing = publish_sop(category="processing", parameters=())
    isolation = publish_sop(category="isolation", parameters=())
    qc = publish_sop(category="qc", parameters=())
    line = f.CellLineFactory(lab=lab, protocol_version=isolation)
    batch = f.SecretomeBatchFactory(
        lab=lab, passage=f.PassageFactory(lab=lab, cell_line=line), protocol_version=conditioning
    )
    f.ProcessingStepFactory(lab=lab, batch=batch, protocol_version=processing)
    f.ProcessingStepFactory(lab=lab, batch=batch, protocol_version=processing)
    f.QCResultFactory(lab=lab, batch=batch, protocol_version=qc)
    assert protocol_versions_for_batch(batch=batch) == [isolation, conditioning, processing, qc]
