"""The signing services other apps call: a wrong password leaves the record untouched and counts toward the lockout."""

import pytest
from django.db import connection

from batches.models import QCResult
from batches.services.qc import qc_result_verify
from lims.services.signatures import SignatureRefused, signature_is_valid
from lims.sign_in import SignInAttempt, SignInChannel, SignInOutcome
from lims.signatures import Signature
from protocols.models import ProtocolVersion
from protocols.services import protocol_version_publish
from tests import factories as f

pytestmark = pytest.mark.django_db


def _failed_signatures(user) -> int:
    return SignInAttempt.objects.filter(
        user_id=user.pk, channel=SignInChannel.SIGNATURE, outcome=SignInOutcome.FAILED
    ).count()


def test_verifying_a_qc_result_with_a_wrong_password_changes_nothing_and_is_counted(lab, technician, reviewer):
    result = f.QCResultFactory(lab=lab, performed_by=technician)

    with pytest.raises(SignatureRefused):
        qc_result_verify(result=result, actor=reviewer, password="wrong-password")

    assert QCResult.objects.get(pk=result.pk).status == "recorded"
    assert not Signature.objects.exists()
    assert _failed_signatures(reviewer) == 1


def test_verifying_a_qc_result_signs_it_and_the_signature_breaks_if_the_value_is_changed_behind_the_app(
    lab, technician, reviewer
):
    result = f.QCResultFactory(lab=lab, performed_by=technician)

    verified = qc_result_verify(result=result, actor=reviewer, password="correct-horse-battery")

    signature = Signature.objects.get(object_id=verified.pk, meaning="verified")
    assert signature.user == reviewer and signature_is_valid(signature)
    # The database refuses the change (verified results are final); a superuser could still switch the
    # triggers off, and the signature shows it.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
        QCResult.objects.filter(pk=result.pk).update(value=999)
        cursor.execute("SET LOCAL session_replication_role = origin")
    assert not signature_is_valid(signature)


def test_publishing_a_protocol_with_a_wrong_password_leaves_a_draft_and_is_counted(lab, reviewer):
    draft = f.ProtocolVersionFactory(lab=lab)

    with pytest.raises(SignatureRefused):
        protocol_version_publish(version=draft, actor=reviewer, password="wrong-password")

    assert ProtocolVersion.objects.get(pk=draft.pk).status == "draft"
    assert _failed_signatures(reviewer) == 1
