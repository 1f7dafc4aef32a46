import uuid

from django.conf import settings
from django.db import models
from django.db.models import Q

from lims.constraints import SameLab


class ImportStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    CHECKED = "checked", "Checked (dry run, nothing saved)"
    FAILED = "failed", "Has errors (nothing saved)"
    COMMITTED = "committed", "Imported"


class ImportRun(models.Model):
    """One upload of a spreadsheet: the file as sent, what was found in it, and whether it was kept.

    The run is the import's own log (the records it writes carry its id, file name and hash in their audit
    context), so it is not itself under the row history: that would copy every uploaded file again.
    """

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    lab = models.ForeignKey("lims.Lab", on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=30, help_text="What the sheet holds: a record type or 'lineage'.")
    filename = models.CharField(max_length=255)
    content = models.BinaryField(editable=False)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    dry_run = models.BooleanField(default=True)
    reason = models.CharField(max_length=500, blank=True, help_text="Why the records are imported or changed.")
    status = models.CharField(max_length=10, choices=ImportStatus.choices, default=ImportStatus.QUEUED)
    total_rows = models.PositiveIntegerField(default=0)
    done_rows = models.PositiveIntegerField(default=0)
    result = models.JSONField(default=dict, blank=True)
    checked_run = models.ForeignKey(
        "self",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        help_text="The dry run this commit confirms.",
    )
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["lab", "-created_at"])]
        triggers = [SameLab()]  # the dry run a commit was checked by is the same lab's
        constraints = [
            models.CheckConstraint(condition=Q(status__in=ImportStatus.values), name="importrun_status_valid"),
            models.CheckConstraint(
                condition=Q(done_rows__lte=models.F("total_rows")), name="importrun_done_within_total"
            ),
        ]

    def __str__(self) -> str:
        return f"{self.filename} ({self.get_status_display()})"

    @property
    def percent(self) -> int:
        return 100 if self.total_rows == 0 else round(100 * self.done_rows / self.total_rows)

    @property
    def finished(self) -> bool:
        return self.status in (ImportStatus.CHECKED, ImportStatus.FAILED, ImportStatus.COMMITTED)

    @property
    def errors(self) -> list[dict]:
        return self.result.get("errors", [])


class InstrumentFile(models.Model):
    """A raw instrument export kept as it was uploaded, found again by its SHA-256 hash."""

    lab = models.ForeignKey("lims.Lab", on_delete=models.PROTECT, related_name="+")
    instrument = models.CharField(max_length=20)
    filename = models.CharField(max_length=255)
    content = models.BinaryField(editable=False)
    sha256 = models.CharField(max_length=64)
    size_bytes = models.PositiveBigIntegerField()
    parsed = models.JSONField(default=dict, blank=True, help_text="What was read from the file.")
    uploaded_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    uploaded_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-uploaded_at"]
        constraints = [models.UniqueConstraint(fields=["lab", "sha256"], name="instrumentfile_once_per_lab")]

    def __str__(self) -> str:
        return f"{self.filename} ({self.sha256[:12]})"

    @property
    def reference(self) -> str:
        return f"sha256:{self.sha256} {self.filename}"
