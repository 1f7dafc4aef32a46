"""Electronic signatures: re-entered password, meaning, UTC time, printed name, and a hash of what was signed."""

import datetime as dt

import pgtrigger
import pytest
from django.db import DatabaseError, connection, transaction

from batches.models import QCResult
from lims.services.signatures import (
    SignatureRefused,
    signature_is_valid,
    signature_sign,
    signatures_for_record,
)
from lims.sign_in import SignInAttempt, SignInChannel, SignInOutcome
from lims.signatures import Signature, content_hash, record_signed_content, signature_manifestation
from tests import factories as f

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery"


@pytest.fixture
def qc_result(lab, technician):
    return f.QCResultFactory(lab=lab, performed_by=technician, value=120)


def _failed_signature_attempts(user) -> int:
    return SignInAttempt.objects.filter(
        user_id=user.pk, channel=SignInChannel.SIGNATURE, outcome=SignInOutcome.FAILED
    ).count()


def test_a_signature_records_the_signer_their_printed_name_the_utc_time_the_meaning_and_the_record_hash(
    reviewer, qc_result
):
    signature = signature_sign(actor=reviewer, password=PASSWORD, meaning="verified", record=qc_result)

    signature.refresh_from_db()
    assert signature.user == reviewer
    assert signature.printed_name == "Paula Investigator"
    assert signature.username == "paula"
    assert signature.meaning == "verified"
    assert signature.signed_at.utcoffset() == dt.timedelta(0)
    assert (signature.content_type.model_class(), signature.object_id) == (QCResult, qc_result.pk)
    assert signature.record_hash == content_hash(record_signed_content(qc_result))
    assert signature.record_content["fields"]["value"] == 120
    assert signature.lab_id == qc_result.lab_id
    assert signature_is_valid(signature)
    assert signatures_for_record(record=qc_result) == [signature]
    assert signature_manifestation(signature).startswith("Verified by Paula Investigator (paula) on ")
    assert signature_manifestation(signature).endswith(" UTC")


def test_a_wrong_password_is_refused_with_a_clear_error_and_counted_even_when_the_callers_transaction_rolls_back(
    reviewer, qc_result
):
    with pytest.raises(SignatureRefused) as refused, transaction.atomic():
        QCResult.objects.filter(pk=qc_result.pk).update(
            status="verified", verified_by=reviewer, verified_at=dt.datetime.now(dt.UTC)
        )
        signature_sign(actor=reviewer, password="wrong-password", meaning="verified", record=qc_result)

    assert "password" in refused.value.message_dict
    assert "not correct" in refused.value.message_dict["password"][0]
    assert not Signature.objects.exists()
    assert QCResult.objects.get(pk=qc_result.pk).status == "recorded"
    assert _failed_signature_attempts(reviewer) == 1


def test_signing_is_refused_once_wrong_passwords_reach_the_lockout_limit_even_with_the_right_password(
    reviewer, qc_result, settings
):
    settings.LOGIN_FAILURE_LIMIT = 3
    for _ in range(3):
        with pytest.raises(SignatureRefused):
            signature_sign(actor=reviewer, password="guess", meaning="verified", record=qc_result)

    with pytest.raises(SignatureRefused) as refused:
        signature_sign(actor=reviewer, password=PASSWORD, meaning="verified", record=qc_result)

    assert "locked" in refused.value.message_dict["password"][0]
    assert _failed_signature_attempts(reviewer) == 3
    assert SignInAttempt.objects.filter(user_id=reviewer.pk, outcome=SignInOutcome.LOCKED_OUT).count() == 1
    assert not Signature.objects.exists()


def test_the_signature_no_longer_matches_once_the_signed_record_changes(reviewer, qc_result):
    signature = signature_sign(actor=reviewer, password=PASSWORD, meaning="reviewed", record=qc_result)
    assert signature_is_valid(signature)

    QCResult.objects.filter(pk=qc_result.pk).update(value=121)

    assert not signature_is_valid(signature)


def test_the_verification_written_after_signing_does_not_break_the_signature(reviewer, qc_result):
    signature = signature_sign(actor=reviewer, password=PASSWORD, meaning="verified", record=qc_result)

    QCResult.objects.filter(pk=qc_result.pk).update(
        status="verified", verified_by=reviewer, verified_at=dt.datetime.now(dt.UTC)
    )

    assert signature_is_valid(signature)


def test_a_release_signature_covers_the_batch_qc_results_too(reviewer, qc_result):
    batch = qc_result.batch
    signature = signature_sign(actor=reviewer, password=PASSWORD, meaning="released", record=batch)
    assert [r["id"] for r in signature.record_content["related"]["qc_results"]] == [qc_result.pk]

    QCResult.objects.filter(pk=qc_result.pk).update(unit="mg/mL")

    assert not signature_is_valid(signature)


def test_a_signature_on_a_deleted_record_is_not_valid(reviewer, lab):
    donor = f.DonorFactory(lab=lab)
    signature = signature_sign(actor=reviewer, password=PASSWORD, meaning="reviewed", record=donor)
    with pgtrigger.ignore("batches.Donor:never_deleted"):
        donor.delete()
    assert not signature_is_valid(signature)


@pytest.mark.parametrize(
    ("meaning", "password", "field"),
    [("approved-ish", PASSWORD, "meaning"), ("approved", "", "password")],
)
def test_bad_input_is_refused_naming_the_field(reviewer, qc_result, meaning, password, field):
    with pytest.raises(SignatureRefused) as refused:
        signature_sign(actor=reviewer, password=password, meaning=meaning, record=qc_result)
    assert list(refused.value.message_dict) == [field]
    assert _failed_signature_attempts(reviewer) == 0


def test_nobody_signs_a_record_of_a_lab_they_do_not_belong_to(outsider, qc_result):
    with pytest.raises(SignatureRefused) as refused:
        signature_sign(actor=outsider, password=PASSWORD, meaning="reviewed", record=qc_result)
    assert "record" in refused.value.message_dict


@pytest.mark.parametrize("statement", ["UPDATE lims_signature SET meaning = 'approved'", "DELETE FROM lims_signature"])
def test_a_signature_can_be_neither_edited_nor_deleted(reviewer, qc_result, statement):
    signature_sign(actor=reviewer, password=PASSWORD, meaning="reviewed", record=qc_result)
    with pytest.raises(DatabaseError, match="Cannot"), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(statement)
    assert Signature.objects.get().meaning == "reviewed"
