import pgtrigger
from django.conf import settings
from django.db import models
from django.db.models import Q

from lims import constraints as c
from lims.audit import tracked
from lims.models import LabOwnedModel


class ProtocolCategory(models.TextChoices):
    ISOLATION = "isolation", "Isolation"
    EXPANSION = "expansion", "Expansion"
    PRIMING = "priming", "Priming"
    CONDITIONING = "conditioning", "Conditioning"
    PROCESSING = "processing", "Processing"
    STORAGE = "storage", "Storage"
    QC = "qc", "Quality control"
    ADMINISTRATION = "administration", "Administration"


class VersionStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    EFFECTIVE = "effective", "Effective"
    RETIRED = "retired", "Retired"


class ParameterType(models.TextChoices):
    NUMBER = "number", "Number"
    CHOICE = "choice", "Choice"
    TEXT = "text", "Text"


@tracked
class Protocol(LabOwnedModel):
    code = models.CharField(max_length=40, help_text="SOP code, e.g. SOP-CM-002.")
    title = models.CharField(max_length=200)
    category = models.CharField(max_length=20, choices=ProtocolCategory.choices)

    class Meta(LabOwnedModel.Meta):
        ordering = ["code"]
        constraints = [
            c.unique_code_per_lab("protocol"),
            c.in_choices("protocol", "category", ProtocolCategory),
        ]

    def __str__(self) -> str:
        return f"{self.code} {self.title}"


@tracked
class ProtocolVersion(LabOwnedModel):
    protocol = models.ForeignKey(Protocol, on_delete=models.PROTECT, related_name="versions")
    number = models.PositiveIntegerField()
    status = models.CharField(max_length=10, choices=VersionStatus.choices, default=VersionStatus.DRAFT)
    body = models.TextField(help_text="Procedure, in Markdown.")
    change_summary = models.CharField(max_length=300, blank=True)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)

    class Meta(LabOwnedModel.Meta):
        ordering = ["protocol", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["protocol", "number"], name="protocolversion_number_unique"),
            models.UniqueConstraint(
                fields=["protocol"], condition=Q(status="effective"), name="protocolversion_one_effective"
            ),
            # One draft at a time keeps version numbers in publication order.
            models.UniqueConstraint(fields=["protocol"], condition=Q(status="draft"), name="protocolversion_one_draft"),
            c.in_choices("protocolversion", "status", VersionStatus),
            models.CheckConstraint(
                condition=Q(status="draft") | (Q(approved_by__isnull=False) & Q(approved_at__isnull=False)),
                name="protocolversion_published_has_approver",
            ),
        ]
        triggers = [
            *LabOwnedModel.Meta.triggers,
            # Once effective, a version's content is frozen; only effective -> retired may change.
            pgtrigger.Protect(
                name="published_is_immutable",
                operation=pgtrigger.Update,
                condition=(
                    pgtrigger.Q(old__status__in=["effective", "retired"])
                    & (
                        pgtrigger.Q(old__body__df=pgtrigger.F("new__body"))
                        | pgtrigger.Q(old__change_summary__df=pgtrigger.F("new__change_summary"))
                        | pgtrigger.Q(old__lab_id__df=pgtrigger.F("new__lab_id"))
                        | pgtrigger.Q(old__number__df=pgtrigger.F("new__number"))
                        | pgtrigger.Q(old__protocol_id__df=pgtrigger.F("new__protocol_id"))
                        | pgtrigger.Q(old__approved_by_id__df=pgtrigger.F("new__approved_by_id"))
                        | pgtrigger.Q(old__approved_at__df=pgtrigger.F("new__approved_at"))
                        | (pgtrigger.Q(old__status="retired") & ~pgtrigger.Q(new__status="retired"))
                        | pgtrigger.Q(new__status="draft")
                    )
                ),
            ),
            pgtrigger.Protect(
                name="published_is_not_deleted",
                operation=pgtrigger.Delete,
                condition=~pgtrigger.Q(old__status="draft"),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.protocol.code} v{self.number} ({self.status})"


@tracked
class ProtocolParameter(LabOwnedModel):
    protocol_version = models.ForeignKey(ProtocolVersion, on_delete=models.CASCADE, related_name="parameters")
    name = models.CharField(max_length=60, help_text="Field it governs, e.g. conditioning_time_h, mwco_kda.")
    value_type = models.CharField(max_length=10, choices=ParameterType.choices, default=ParameterType.NUMBER)
    unit = models.CharField(max_length=20, blank=True)
    default = models.CharField(max_length=60, blank=True)
    min_value = models.FloatField(null=True, blank=True)
    max_value = models.FloatField(null=True, blank=True)
    choices = models.JSONField(default=list, blank=True, help_text="Allowed values for a choice parameter.")

    class Meta(LabOwnedModel.Meta):
        ordering = ["protocol_version", "name"]
        constraints = [
            models.UniqueConstraint(fields=["protocol_version", "name"], name="protocolparameter_name_unique"),
            c.in_choices("protocolparameter", "value_type", ParameterType),
            c.not_before("protocolparameter", "max_value", "min_value"),
        ]
        triggers = [
            *LabOwnedModel.Meta.triggers,
            # A published version's parameters are part of its frozen content.
            pgtrigger.Trigger(
                name="only_draft_parameters_change",
                when=pgtrigger.Before,
                operation=pgtrigger.Insert | pgtrigger.Update | pgtrigger.Delete,
                func="""
                    IF (TG_OP IN ('UPDATE', 'DELETE') AND EXISTS (
                            SELECT 1 FROM protocols_protocolversion v
                            WHERE v.id = OLD.protocol_version_id AND v.status <> 'draft'))
                       OR (TG_OP IN ('INSERT', 'UPDATE') AND EXISTS (
                            SELECT 1 FROM protocols_protocolversion v
                            WHERE v.id = NEW.protocol_version_id AND v.status <> 'draft'))
                    THEN
                        RAISE EXCEPTION USING
                            ERRCODE = 'check_violation',
                            CONSTRAINT = 'protocolparameter_only_in_draft',
                            MESSAGE = 'the parameters of a published protocol version cannot change';
                    END IF;
                    IF TG_OP = 'DELETE' THEN
                        RETURN OLD;
                    END IF;
                    RETURN NEW;
                """,
            ),
        ]

    def __str__(self) -> str:
        return self.name


class DeviationStatus(models.TextChoices):
    OPEN = "open", "Open"
    APPROVED = "approved", "Approved"
    REJECTED = "rejected", "Rejected"
    CLOSED = "closed", "Closed (no longer applies)"


class RecordType(models.TextChoices):
    """The step records that pin a protocol version, in the order a batch is made."""

    CELL_LINE = "cell_line", "Cell line (isolation)"
    PASSAGE = "passage", "Passage (expansion)"
    PRIMING = "priming", "Priming condition"
    BATCH = "batch", "Batch (conditioning)"
    PROCESSING_STEP = "processing_step", "Processing step"
    ALIQUOT = "aliquot", "Aliquot (storage)"
    QC_RESULT = "qc_result", "QC result"


@tracked
class Deviation(LabOwnedModel):
    batch = models.ForeignKey("batches.SecretomeBatch", on_delete=models.PROTECT, related_name="deviations")
    protocol_version = models.ForeignKey(ProtocolVersion, on_delete=models.PROTECT, related_name="deviations")
    record_type = models.CharField(
        max_length=20, choices=RecordType.choices, help_text="Kind of step record the value was recorded on."
    )
    record_id = models.PositiveBigIntegerField(help_text="Id of that step record.")
    record_label = models.CharField(max_length=200, blank=True, help_text="The step record, in words.")
    parameter = models.CharField(max_length=60)
    expected = models.CharField(max_length=120, help_text="What the SOP allows, e.g. '3–3 kDa'.")
    actual = models.CharField(max_length=120)
    justification = models.TextField(blank=True)
    justified_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        editable=False,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Who wrote the justification; someone else approves it.",
    )
    status = models.CharField(max_length=10, choices=DeviationStatus.choices, default=DeviationStatus.OPEN)
    approved_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    approved_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True, help_text="When the value stopped deviating.")

    class Meta(LabOwnedModel.Meta):
        ordering = ["batch", "parameter"]
        indexes = [models.Index(fields=["batch", "status"])]
        constraints = [
            c.in_choices("deviation", "status", DeviationStatus),
            c.in_choices("deviation", "record_type", RecordType),
            models.UniqueConstraint(
                fields=["batch", "record_type", "record_id", "protocol_version", "parameter"],
                condition=Q(status="open"),
                name="deviation_one_open_per_record_parameter",
            ),
            models.CheckConstraint(
                condition=~Q(status="closed") | Q(closed_at__isnull=False), name="deviation_closed_has_time"
            ),
            models.CheckConstraint(
                condition=~Q(status="approved")
                | (Q(approved_by__isnull=False) & Q(approved_at__isnull=False) & ~Q(justification="")),
                name="deviation_approved_is_justified_and_signed",
            ),
            models.CheckConstraint(
                condition=Q(approved_by__isnull=True)
                | Q(justified_by__isnull=True)
                | ~Q(approved_by=models.F("justified_by")),
                name="deviation_not_approved_by_justifier",
            ),
        ]
        triggers = [
            *LabOwnedModel.Meta.triggers,
            # A decided deviation is a signed record: it is never rewritten or deleted.
            pgtrigger.Protect(
                name="decided_is_immutable",
                operation=pgtrigger.Update | pgtrigger.Delete,
                condition=pgtrigger.Q(old__status__in=["approved", "rejected", "closed"]),
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch} {self.parameter}: {self.actual} (expected {self.expected})"
