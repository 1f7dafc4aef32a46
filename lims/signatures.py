"""Electronic signatures (21 CFR Part 11 §11.50, §11.70; EU GMP Annex 11 §14).

A signature names the signer (user and printed name), the UTC time and the meaning, and is linked
to the signed record by the SHA-256 of the record's canonical content at the moment of signing,
so any later change to the record makes the signature no longer match. Rows are append-only and
under the audit trail. The service that creates them is `lims.services.signatures.signature_sign`.
"""

import datetime as dt
import hashlib
import json
import uuid
from decimal import Decimal

import pgtrigger
from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.db import models

from lims.audit import tracked

CONTENT_FORMAT = "lims-record/1"

# Fields the act of signing (or the lifecycle around it) writes: they are not part of what is signed,
# so verifying or releasing a record after signing it does not break the signature, while any change
# to what was measured, recorded or approved does.
UNSIGNED_FIELDS = frozenset(
    {"updated_at", "version", "status", "verified_by", "verified_at", "approved_by", "approved_at"}
)

# Child rows that are part of what a signer signs off, per model ("app_label.model").
SIGNED_RELATIONS: dict[str, tuple[str, ...]] = {
    "batches.secretomebatch": ("qc_results", "processing_steps"),
    "protocols.protocolversion": ("parameters",),
}


class SignatureMeaning(models.TextChoices):
    REVIEWED = "reviewed", "Reviewed"
    VERIFIED = "verified", "Verified"
    APPROVED = "approved", "Approved"
    RELEASED = "released", "Released"
    REJECTED = "rejected", "Rejected"
    PUBLISHED = "published", "Published"
    RETIRED = "retired", "Retired"


@tracked
class Signature(models.Model):
    lab = models.ForeignKey("lims.Lab", null=True, blank=True, on_delete=models.PROTECT, related_name="+")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="signatures")
    username = models.CharField(max_length=150, help_text="Signer's user name when signing.")
    printed_name = models.CharField(max_length=300, help_text="Signer's full name when signing.")
    signed_at = models.DateTimeField(help_text="When the signature was made (UTC).")
    meaning = models.CharField(max_length=12, choices=SignatureMeaning.choices)
    comment = models.TextField(blank=True, help_text="What the signer wrote with the signature, if anything.")
    content_type = models.ForeignKey(ContentType, on_delete=models.PROTECT, related_name="+")
    object_id = models.PositiveBigIntegerField()
    content_format = models.CharField(max_length=20, default=CONTENT_FORMAT)
    record_hash = models.CharField(max_length=64, help_text="SHA-256 of the canonical record content signed.")
    record_content = models.JSONField(help_text="The canonical record content that was signed.")

    class Meta:
        ordering = ["-signed_at"]
        indexes = [models.Index(fields=["content_type", "object_id", "signed_at"], name="signature_record")]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(meaning__in=SignatureMeaning.values), name="signature_meaning_valid"
            ),
            models.CheckConstraint(condition=models.Q(record_hash__regex=r"^[0-9a-f]{64}$"), name="signature_hash"),
        ]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return signature_manifestation(self)


def signature_manifestation(signature: Signature) -> str:
    """The human-readable form shown with the signed record (Part 11 §11.50)."""
    when = signature.signed_at.astimezone(dt.UTC).strftime("%Y-%m-%d %H:%M:%S UTC")
    meaning = SignatureMeaning(signature.meaning).label
    return f"{meaning} by {signature.printed_name} ({signature.username}) on {when}"


def _plain(value):
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            raise ValueError("naive datetime in a signed record")
        return value.astimezone(dt.UTC).isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    if isinstance(value, Decimal | uuid.UUID):
        return str(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    if isinstance(value, dt.timedelta):
        return value.total_seconds()
    return value


def _row_fields(obj) -> dict:
    return {
        f.attname: _plain(f.value_from_object(obj) if not f.is_relation else getattr(obj, f.attname))
        for f in obj._meta.concrete_fields
        if f.name not in UNSIGNED_FIELDS
    }


def record_label(model) -> str:
    return f"{model._meta.app_label}.{model._meta.model_name}"


def record_signed_content(record) -> dict:
    """The record as stored now (never in-memory edits), with the child rows its signer signs off."""
    model = type(record)
    stored = model._base_manager.get(pk=record.pk)
    content = {"format": CONTENT_FORMAT, "record": record_label(model), "id": stored.pk, "fields": _row_fields(stored)}
    related = {}
    for name in SIGNED_RELATIONS.get(record_label(model), ()):
        children = getattr(stored, name).order_by("pk")
        related[name] = [{"id": child.pk, "fields": _row_fields(child)} for child in children]
    if related:
        content["related"] = related
    return content


def content_hash(content: dict) -> str:
    text = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)
    return hashlib.sha256(text.encode()).hexdigest()
