import uuid

import pgtrigger
from django.conf import settings
from django.db import models

from lims.audit import tracked
from lims.constraints import FiniteNumbers, SameLab


class Role(models.TextChoices):
    TECHNICIAN = "technician", "Technician"
    REVIEWER = "reviewer", "Reviewer (PI)"
    AUDITOR = "auditor", "Auditor (read-only)"
    LAB_ADMIN = "lab_admin", "Lab administrator"


@tracked
class Lab(models.Model):
    name = models.CharField(max_length=200, unique=True)
    slug = models.SlugField(max_length=60, unique=True)
    institution = models.CharField(max_length=200, blank=True)
    url = models.URLField(blank=True, help_text="The lab's web page; exports name it as the publisher's address.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


@tracked
class Membership(models.Model):
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="memberships")
    lab = models.ForeignKey(Lab, on_delete=models.CASCADE, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["lab__name", "user__username"]
        constraints = [
            models.UniqueConstraint(fields=["user", "lab"], name="membership_one_role_per_lab"),
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="membership_role_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} in {self.lab}"


def lab_owned_triggers(*, exempt: tuple[str, ...] = (), crossing_when: dict[str, str] | None = None) -> list:
    """The triggers of every lab-owned row; a model whose links cross labs on purpose names them here."""
    return [
        pgtrigger.Trigger(
            name="bump_version",
            when=pgtrigger.Before,
            operation=pgtrigger.Update,
            func="NEW.version := OLD.version + 1; RETURN NEW;",
        ),
        SameLab(exempt=exempt, crossing_when=crossing_when),
        FiniteNumbers(),
    ]


class LabOwnedModel(models.Model):
    """Every lab-owned row: its lab, who made it and when, and a version for optimistic locking.

    The version is bumped by a database trigger on every UPDATE, so even a QuerySet.update() or
    raw SQL makes a stale client's version stale.
    """

    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
    )
    updated_at = models.DateTimeField(auto_now=True)
    version = models.PositiveIntegerField(
        default=1, editable=False, help_text="Incremented on every change; send it back with an update."
    )

    class Meta:
        abstract = True
        triggers = lab_owned_triggers()


# Models kept in their own modules (audit chain, signatures, sign-in log) are registered here.
from lims.audit_chain import AuditSeal, AuditShape, AuditTrail  # noqa: E402
from lims.invitations import Invitation, InvitationStatus  # noqa: E402
from lims.sign_in import SignInAttempt  # noqa: E402
from lims.signatures import Signature  # noqa: E402

__all__ = [
    "AuditSeal",
    "AuditShape",
    "AuditTrail",
    "Invitation",
    "InvitationStatus",
    "Lab",
    "LabOwnedModel",
    "Membership",
    "Role",
    "SignInAttempt",
    "Signature",
]


class JobKind(models.TextChoices):
    CHECKLIST_RECHECK = "checklist_recheck", "Re-check every batch against the checklist"


class JobStatus(models.TextChoices):
    QUEUED = "queued", "Queued"
    RUNNING = "running", "Running"
    DONE = "done", "Done"


@tracked
class Job(models.Model):
    """Long work that people watch: how much of it is done, shown as a progress bar."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    lab = models.ForeignKey(Lab, on_delete=models.PROTECT, related_name="+")
    kind = models.CharField(max_length=30, choices=JobKind.choices)
    total = models.PositiveIntegerField(help_text="Units of work (e.g. batches).")
    done = models.PositiveIntegerField(default=0)
    status = models.CharField(max_length=10, choices=JobStatus.choices, default=JobStatus.QUEUED)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(condition=models.Q(done__lte=models.F("total")), name="job_done_within_total"),
            models.CheckConstraint(condition=models.Q(kind__in=JobKind.values), name="job_kind_valid"),
            models.CheckConstraint(condition=models.Q(status__in=JobStatus.values), name="job_status_valid"),
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} ({self.done}/{self.total})"

    @property
    def percent(self) -> int:
        return 100 if self.total == 0 else round(100 * self.done / self.total)
