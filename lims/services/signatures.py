"""Electronic signatures: re-authenticate, then bind name, time and meaning to the record's hash."""

from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from lims.audit import audit_context
from lims.models import Membership
from lims.services.sign_in import sign_in_attempt_record, sign_in_locked_until
from lims.sign_in import SignInChannel, SignInOutcome
from lims.signatures import Signature, SignatureMeaning, content_hash, record_signed_content


class SignatureRefused(ValidationError):
    """The record was not signed; the message names the field to fix (password, meaning, record)."""


def _refuse(field: str, message: str):
    raise SignatureRefused({field: [message]})


def signature_sign(*, actor, password: str, meaning: str, record, comment: str = "", request=None) -> Signature:
    """Sign `record` as `actor`, who re-enters their password; a wrong password counts toward the lockout.

    Call it inside the transaction that makes the change being signed, after the change: the hash
    covers the record as stored (bookkeeping fields such as status and verified_at excepted, see
    lims.signatures.UNSIGNED_FIELDS). A refused signature raises SignatureRefused; the failed
    attempt is recorded even though the caller's transaction then rolls back.
    """
    if meaning not in SignatureMeaning.values:
        _refuse("meaning", f"Choose the meaning of the signature: {', '.join(SignatureMeaning.values)}.")
    if record is None or record.pk is None:
        _refuse("record", "Save the record before signing it.")
    lab_id = getattr(record, "lab_id", None)
    if lab_id is not None and not Membership.objects.filter(user=actor, lab_id=lab_id).exists():
        _refuse("record", "You can only sign records of a lab you belong to.")
    if not password:
        _refuse("password", "Enter your password to sign.")
    locked_until = sign_in_locked_until(user=actor)
    if locked_until is not None:
        sign_in_attempt_record(
            username=actor.get_username(),
            user=actor,
            outcome=SignInOutcome.LOCKED_OUT,
            channel=SignInChannel.SIGNATURE,
            request=request,
        )
        _refuse(
            "password",
            f"Your account is locked after repeated wrong passwords until {locked_until:%H:%M} UTC; "
            "a lab administrator can unlock it.",
        )
    if not actor.is_active or not actor.check_password(password):
        sign_in_attempt_record(
            username=actor.get_username(),
            user=actor,
            outcome=SignInOutcome.FAILED,
            channel=SignInChannel.SIGNATURE,
            request=request,
        )
        _refuse(
            "password",
            "The password is not correct, so nothing was signed. Wrong passwords count toward the account lockout.",
        )
    sign_in_attempt_record(
        username=actor.get_username(),
        user=actor,
        outcome=SignInOutcome.SUCCEEDED,
        channel=SignInChannel.SIGNATURE,
        request=request,
    )
    # No reason here: a reason set inside the caller's audit context would overwrite the caller's own.
    with transaction.atomic(), audit_context(actor=actor):
        # Lock the record so nobody changes it between hashing and commit.
        list(type(record)._base_manager.select_for_update().filter(pk=record.pk).values_list("pk"))
        content = record_signed_content(record)
        return Signature.objects.create(
            lab_id=lab_id,
            user=actor,
            username=actor.get_username(),
            printed_name=actor.get_full_name().strip() or actor.get_username(),
            signed_at=timezone.now(),
            meaning=meaning,
            comment=comment,
            content_type=ContentType.objects.get_for_model(type(record)),
            object_id=record.pk,
            record_hash=content_hash(content),
            record_content=content,
        )


def signature_is_valid(signature: Signature) -> bool:
    """True while the signed record still holds exactly the content that was signed."""
    model = signature.content_type.model_class()
    if model is None:
        return False
    record = model._base_manager.filter(pk=signature.object_id).first()
    if record is None:
        return False
    return content_hash(record_signed_content(record)) == signature.record_hash


def signatures_for_record(*, record) -> list[Signature]:
    """Every signature on a record, oldest first, to show with it."""
    content_type = ContentType.objects.get_for_model(type(record))
    return list(Signature.objects.filter(content_type=content_type, object_id=record.pk).order_by("signed_at", "pk"))
