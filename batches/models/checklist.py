import pgtrigger
from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.db import models
from django.db.models import Q
from django.db.models.functions import Now
from django.utils import timezone

from lims import constraints as c
from lims.audit import tracked


class ChecklistExplanation(models.Model):
    """What explains one item (or gate) of a report, without its recorded value: stored once, shared by reports.

    Most items of most reports say the same thing ("Recorded.", or the same missing field), so a report
    keeps one small id per item instead of the sentence. A value read only from records many batches share
    (a cell line's phenotype, its donor, a priming) is stored here with its item, once for all the reports
    that show it. Insert-only and sealed into the audit chain.
    """

    id = models.AutoField(primary_key=True)
    digest = models.CharField(max_length=32, help_text="MD5 of the canonical JSON body (the key, not a seal).")
    body = models.JSONField(help_text="The item (or gate) as a report shows it, without its value.")
    created_at = models.DateTimeField(default=timezone.now)

    # Sealed into the audit chain directly (lims.audit_chain): key column, time column.
    AUDIT_SEAL = ("id", "created_at")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["digest"], name="checklistexplanation_digest_unique")]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return self.body.get("item_id") or self.body.get("gate_id") or str(self.pk)


class ChecklistReport(models.Model):
    """One evaluation of the minimal-reporting checklist; the same inputs never make a second report.

    Insert-only (a trigger refuses updates) and sealed into the audit chain directly, not copied into a
    history table. Items are stored compactly: `statuses` holds one letter per item (s satisfied, m missing,
    i invalid, n not applicable), `explanations` one ChecklistExplanation id per item and then per gate,
    `values` the recorded value of each of them in the same order, and `details` what is this subject's own in
    an explanation's text (row ids, its code). The values (mostly this batch's own row summaries) are
    stored as zlib-compressed JSON in `packed_values`, kept in the row: as jsonb, PostgreSQL's compression
    left ~1.6 kB of ~3.6 kB and moved that to TOAST. Reports written before keep them in `values`.
    `items` and `gates` give them back as
    the dictionaries the API and the pages show (batches.checklist.storage).
    """

    lab = models.ForeignKey("lims.Lab", on_delete=models.PROTECT, related_name="+")
    batch = models.ForeignKey(
        "batches.SecretomeBatch", null=True, blank=True, on_delete=models.CASCADE, related_name="checklist_reports"
    )
    study = models.ForeignKey(
        "batches.Study", null=True, blank=True, on_delete=models.CASCADE, related_name="checklist_reports"
    )
    checklist_version = models.CharField(max_length=40)
    score = models.FloatField(help_text="Completeness score, 0–100.")
    score_by_category = models.JSONField(default=dict)
    statuses = models.TextField(default="", blank=True, help_text="One letter per item: s, m, i or n.")
    explanations = ArrayField(
        models.IntegerField(), default=list, blank=True, help_text="ChecklistExplanation ids: items, then gates."
    )
    values = models.JSONField(default=list, blank=True, help_text="Recorded values: items, then gates.")
    packed_values = models.BinaryField(
        null=True,
        blank=True,
        editable=False,
        help_text="The recorded values as zlib-compressed JSON (reports written since 0022; `values` is then empty).",
    )
    details = models.JSONField(
        default=dict, blank=True, help_text="This subject's row ids and code cut out of an explanation, by position."
    )
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of every input the checklist read.")
    created_at = models.DateTimeField(auto_now_add=True)

    AUDIT_SEAL = ("id", "created_at")

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["batch", "-created_at"]), models.Index(fields=["study", "-created_at"])]
        triggers = [c.SameLab(), pgtrigger.Protect(name="append_only", operation=pgtrigger.Update)]
        constraints = [
            models.UniqueConstraint(fields=["fingerprint"], name="checklistreport_fingerprint_unique"),
            models.CheckConstraint(
                condition=Q(batch__isnull=False, study__isnull=True) | Q(batch__isnull=True, study__isnull=False),
                name="checklistreport_batch_xor_study",
            ),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=100), name="checklistreport_score_0_100"),
        ]

    def __init__(self, *args, **kwargs):
        items = kwargs.pop("items", None)
        gates = kwargs.pop("gates", None)
        super().__init__(*args, **kwargs)
        if items is not None or gates is not None:
            self._unpacked = (list(items or []), list(gates or []))

    def __str__(self) -> str:
        subject = self.batch or self.study
        return f"{subject} — {self.score:.0f} ({self.checklist_version})"

    def save(self, *args, **kwargs):
        if self._state.adding and getattr(self, "_unpacked", None) is not None:
            from batches.checklist.storage import pack, pack_values

            self.statuses, self.explanations, values, self.details = pack(*self._unpacked)
            self.values, self.packed_values = [], pack_values(values)
        super().save(*args, **kwargs)

    @property
    def items(self) -> list[dict]:
        return self._payload()[0]

    @items.setter
    def items(self, value: list[dict]) -> None:
        self._unpacked = (list(value), self._payload()[1])

    @property
    def gates(self) -> list[dict]:
        return self._payload()[1]

    @gates.setter
    def gates(self, value: list[dict]) -> None:
        self._unpacked = (self._payload()[0], list(value))

    def _payload(self) -> tuple[list[dict], list[dict]]:
        if getattr(self, "_unpacked", None) is None:
            from batches.checklist.storage import unpack_reports

            unpack_reports([self])
        return self._unpacked


@tracked
class ChecklistActivation(models.Model):
    """Which checklist version is in force: the newest activation wins (the first version when none)."""

    version = models.CharField(max_length=40)
    activated_at = models.DateTimeField(auto_now_add=True)
    activated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["-activated_at", "-id"]
        get_latest_by = ["activated_at", "id"]

    def __str__(self) -> str:
        return f"{self.version} since {self.activated_at:%Y-%m-%d %H:%M}"


class CurrentChecklistReport(models.Model):
    """The report that describes a batch's (or a study's) records as they are now.

    Reports are keyed by the fingerprint of their inputs, so an edit that is later undone brings an
    older report back; this pointer says which one is current without writing a second copy.
    """

    batch = models.OneToOneField(
        "batches.SecretomeBatch", null=True, blank=True, on_delete=models.CASCADE, related_name="current_checklist"
    )
    study = models.OneToOneField(
        "batches.Study", null=True, blank=True, on_delete=models.CASCADE, related_name="current_checklist"
    )
    report = models.ForeignKey(ChecklistReport, on_delete=models.CASCADE, related_name="+")
    since = models.DateTimeField(help_text="When this report became the current one.")

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=Q(batch__isnull=False, study__isnull=True) | Q(batch__isnull=True, study__isnull=False),
                name="currentchecklistreport_batch_xor_study",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.batch or self.study} → report {self.report_id}"


class ChecklistOutbox(models.Model):
    """Subjects whose checklist inputs changed, written by database triggers in the changing transaction.

    One row per (transaction, subject), so a transaction touching 50 rows of one batch leaves one row.
    Rows are claimed and turned into Celery tasks after commit (batches.checklist.outbox); the check
    deletes them in the transaction that commits its report, so an unfinished claim is queued again.
    """

    class Subject(models.TextChoices):
        BATCH = "batch", "Batch"
        STUDY = "study", "Study"

    txid = models.BigIntegerField(help_text="The writing transaction (txid_current()).")
    backend_pid = models.IntegerField(help_text="The writing connection (pg_backend_pid()); it drains its own rows.")
    subject_kind = models.CharField(max_length=5, choices=Subject.choices)
    subject_id = models.BigIntegerField()
    created_at = models.DateTimeField(auto_now_add=True, db_default=Now())
    claimed_at = models.DateTimeField(
        null=True,
        blank=True,
        help_text="When a check was last queued for this row; the row stays until that check commits its report.",
    )

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                fields=["txid", "subject_kind", "subject_id"], name="checklistoutbox_once_per_transaction"
            ),
        ]
        indexes = [models.Index(fields=["subject_kind", "subject_id"], name="checklistoutbox_subject")]

    def __str__(self) -> str:
        return f"{self.subject_kind} {self.subject_id} (tx {self.txid})"
