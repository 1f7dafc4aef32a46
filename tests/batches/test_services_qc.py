"""QC results are judged against the specification in force and verified, with a signature, by another reviewer."""

import datetime as dt

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from batches.models import QCResult
from batches.services.qc import (
    qc_result_record,
    qc_result_reject,
    qc_result_update,
    qc_result_verify,
    qc_specification_in_force,
)
from batches.services.records import RecordLocked
from lims.signatures import Signature
from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture
def batch(lab):
    return f.SecretomeBatchFactory(lab=lab, product_type="EV")


def _endotoxin(lab, technician, batch, value, **extra):
    data = {
        "batch": batch,
        "assay": "endotoxin",
        "method": "lal_kinetic",
        "value": value,
        "unit": "EU/mL",
        "performed_on": dt.date(2025, 3, 1),
        **extra,
    }
    return qc_result_record(lab=lab, actor=technician, data=data)


@pytest.mark.parametrize(("value", "outcome"), [(0.1, "pass"), (0.3, "warn"), (0.7, "fail")])
def test_it_judges_a_result_against_the_specification(lab, technician, batch, value, outcome):
    f.QCSpecificationFactory(lab=lab, assay="endotoxin", max_value=0.5, warn_max=0.25)
    result = _endotoxin(lab, technician, batch, value)
    assert result.outcome == outcome
    assert result.performed_by == technician


def test_it_uses_the_version_in_force_on_the_day_performed(lab, technician, batch):
    old = f.QCSpecificationFactory(
        lab=lab, assay="endotoxin", max_value=1.0, warn_max=None, effective_from=dt.date(2024, 1, 1)
    )
    f.QCSpecificationFactory(
        lab=lab, assay="endotoxin", max_value=0.2, warn_max=None, spec_version=2, effective_from=dt.date(2025, 6, 1)
    )
    result = _endotoxin(lab, technician, batch, 0.4)
    assert (result.specification, result.outcome) == (old, "pass")


def test_the_product_types_own_specification_wins_over_the_general_one(lab, batch):
    f.QCSpecificationFactory(lab=lab, assay="endotoxin", max_value=1.0)
    own = f.QCSpecificationFactory(lab=lab, assay="endotoxin", product_type="EV", max_value=0.1, warn_max=None)
    chosen = qc_specification_in_force(
        lab_id=lab.pk, assay="endotoxin", analyte="", product_type=batch.product_type, on=dt.date(2025, 3, 1)
    )
    assert chosen == own


def test_another_labs_specification_never_applies(lab, other_lab, technician, batch):
    f.QCSpecificationFactory(lab=other_lab, assay="endotoxin", max_value=0.01, warn_max=None)
    result = _endotoxin(lab, technician, batch, 0.4)
    assert (result.specification, result.outcome) == (None, "")


def test_mass_concentrations_are_converted_to_the_specifications_unit(lab, technician, batch):
    f.QCSpecificationFactory(lab=lab, assay="total_protein", unit="µg/mL", min_value=100, max_value=None, warn_max=None)
    result = qc_result_record(
        lab=lab,
        actor=technician,
        data={
            "batch": batch,
            "assay": "total_protein",
            "method": "bca",
            "value": 0.05,
            "unit": "mg/mL",
            "performed_on": dt.date(2025, 3, 1),
        },
    )
    assert result.outcome == "fail"


def test_a_unit_that_cannot_be_converted_is_refused_naming_the_unit(lab, technician, batch):
    f.QCSpecificationFactory(lab=lab, assay="endotoxin", max_value=0.5, warn_max=None)
    with pytest.raises(ValidationError) as refused:
        _endotoxin(lab, technician, batch, 5.0, unit="CFU/mL")
    assert list(refused.value.message_dict) == ["unit"]
    assert not QCResult.objects.exists()


def test_a_qualitative_specification_judges_the_result_text(lab, technician, batch):
    f.QCSpecificationFactory(
        lab=lab, assay="sterility", max_value=None, warn_max=None, unit="", expected_text="negative"
    )
    result = qc_result_record(
        lab=lab,
        actor=technician,
        data={
            "batch": batch,
            "assay": "sterility",
            "method": "bact_alert",
            "result_text": "positive",
            "performed_on": dt.date(2025, 3, 1),
        },
    )
    assert result.outcome == "fail"


def test_correcting_a_result_judges_it_again(lab, technician, batch):
    f.QCSpecificationFactory(lab=lab, assay="endotoxin", max_value=0.5, warn_max=None)
    result = _endotoxin(lab, technician, batch, 0.9)
    corrected = qc_result_update(result=result, actor=technician, data={"value": 0.05}, version=result.version)
    assert corrected.outcome == "pass"


def test_another_reviewer_verifies_and_signs(lab, technician, reviewer, batch):
    result = _endotoxin(lab, technician, batch, 0.1)
    verified = qc_result_verify(result=result, actor=reviewer, password=PASSWORD)
    assert (verified.status, verified.verified_by) == ("verified", reviewer)
    signature = Signature.objects.get(object_id=result.pk)
    assert (signature.user, signature.meaning) == (reviewer, "verified")


def test_nobody_verifies_their_own_result(lab, reviewer, batch):
    result = _endotoxin(lab, reviewer, batch, 0.1)
    with pytest.raises(PermissionDenied):
        qc_result_verify(result=result, actor=reviewer, password=PASSWORD)
    assert QCResult.objects.get(pk=result.pk).status == "recorded"


def test_a_technician_cannot_verify(lab, technician, batch):
    other = f.UserFactory()
    f.MembershipFactory(user=other, lab=lab, role="technician")
    result = _endotoxin(lab, other, batch, 0.1)
    with pytest.raises(PermissionDenied):
        qc_result_verify(result=result, actor=technician, password=PASSWORD)


def test_a_wrong_password_verifies_nothing(lab, technician, reviewer, batch):
    result = _endotoxin(lab, technician, batch, 0.1)
    with pytest.raises(ValidationError) as refused:
        qc_result_verify(result=result, actor=reviewer, password="not-my-password")
    assert "password" in refused.value.message_dict
    assert QCResult.objects.get(pk=result.pk).status == "recorded"
    assert not Signature.objects.exists()


def test_an_accepted_out_of_spec_result_keeps_its_justification(lab, technician, reviewer, batch):
    f.QCSpecificationFactory(lab=lab, assay="endotoxin", max_value=0.5, warn_max=None)
    result = _endotoxin(lab, technician, batch, 0.6)
    verified = qc_result_verify(
        result=result, actor=reviewer, password=PASSWORD, acceptance_justification="In-vitro use only; below 1 EU/mL."
    )
    assert verified.acceptance_justification == "In-vitro use only; below 1 EU/mL."


def test_a_verified_result_cannot_be_corrected(lab, technician, reviewer, batch):
    result = _endotoxin(lab, technician, batch, 0.1)
    verified = qc_result_verify(result=result, actor=reviewer, password=PASSWORD)
    with pytest.raises(RecordLocked):
        qc_result_update(result=verified, actor=technician, data={"value": 0.2}, version=verified.version)


def test_rejecting_needs_a_reason_and_is_idempotent(lab, technician, reviewer, batch):
    result = _endotoxin(lab, technician, batch, 0.1)
    with pytest.raises(ValidationError):
        qc_result_reject(result=result, actor=reviewer, reason="  ", password=PASSWORD)
    with pytest.raises(ValidationError, match="password"):
        qc_result_reject(result=result, actor=reviewer, reason="Sample haemolysed", password="wrong")
    rejected = qc_result_reject(result=result, actor=reviewer, reason="Sample haemolysed", password=PASSWORD)
    again = qc_result_reject(result=rejected, actor=reviewer, reason="Sample haemolysed", password=PASSWORD)
    assert rejected.status == again.status == "rejected"
    assert again.version == rejected.version
    with pytest.raises(RecordLocked):
        qc_result_verify(result=rejected, actor=reviewer, password=PASSWORD)


def test_the_performer_must_be_a_member_of_the_lab(lab, technician, outsider, batch):
    with pytest.raises(ValidationError) as refused:
        _endotoxin(lab, technician, batch, 0.1, performed_by=outsider)
    assert list(refused.value.message_dict) == ["performed_by"]


def test_a_colleague_fixes_and_corrects_a_result_after_its_performer_left_the_lab(lab, reviewer, lab_admin, batch):
    from batches.services.qc import qc_result_correct
    from lims.models import Membership
    from lims.services.memberships import membership_remove

    leaver = f.UserFactory(username="lena")
    f.MembershipFactory(user=leaver, lab=lab, role="technician")
    colleague = f.UserFactory(username="carl")
    f.MembershipFactory(user=colleague, lab=lab, role="technician")
    waiting = _endotoxin(lab, leaver, batch, 0.9)
    checked = _endotoxin(lab, leaver, batch, 0.1)
    verified = qc_result_verify(result=checked, actor=reviewer, password=PASSWORD)
    membership_remove(membership=Membership.objects.get(user=leaver, lab=lab), actor=lab_admin)

    fixed = qc_result_update(result=waiting, actor=colleague, data={"value": 0.09}, version=waiting.version)
    assert (fixed.value, fixed.performed_by) == (0.09, leaver)  # who ran the assay stays as it was
    correction = qc_result_correct(result=verified, actor=colleague, data={"value": 0.2}, reason="Dilution misread.")
    assert correction.performed_by == leaver

    # Naming the leaver as the performer of another result is still refused, naming the field.
    other = _endotoxin(lab, colleague, batch, 0.1)
    with pytest.raises(ValidationError) as refused:
        qc_result_update(result=other, actor=colleague, data={"performed_by": leaver}, version=other.version)
    assert list(refused.value.message_dict) == ["performed_by"]
    with pytest.raises(ValidationError):
        _endotoxin(lab, colleague, batch, 0.1, performed_by=leaver)
