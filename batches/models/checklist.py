from django.db import models
from django.db.models import Q

from lims.audit import tracked


@tracked
class ChecklistReport(models.Model):
    """One evaluation of the minimal-reporting checklist; the same inputs never make a second report."""

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
    items = models.JSONField(default=list)
    gates = models.JSONField(default=list)
    fingerprint = models.CharField(max_length=64, help_text="SHA-256 of every input the checklist read.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]
        indexes = [models.Index(fields=["batch", "-created_at"]), models.Index(fields=["study", "-created_at"])]
        constraints = [
            models.UniqueConstraint(fields=["fingerprint"], name="checklistreport_fingerprint_unique"),
            models.CheckConstraint(
                condition=Q(batch__isnull=False, study__isnull=True) | Q(batch__isnull=True, study__isnull=False),
                name="checklistreport_batch_xor_study",
            ),
            models.CheckConstraint(condition=Q(score__gte=0, score__lte=100), name="checklistreport_score_0_100"),
        ]

    def __str__(self) -> str:
        subject = self.batch or self.study
        return f"{subject} — {self.score:.0f} ({self.checklist_version})"
