"""The sign-in log: every password check (browser, admin, API token, e-signature) and every unlock.

Append-only. Lockout state is computed from it (lims.services.sign_in), so there is no mutable
"locked" flag to forget to reset. It is deliberately not under the row history or the hash chain:
failed attempts are written on their own connection so that they survive the rollback of the
transaction that asked for the password (a refused signature rolls back everything else), and an
independent commit must not wait on the chain head lock a transaction in progress may hold.
"""

import pgtrigger
from django.conf import settings
from django.db import models
from django.utils import timezone


class SignInOutcome(models.TextChoices):
    SUCCEEDED = "succeeded", "Succeeded"
    FAILED = "failed", "Failed (wrong password or unknown user)"
    LOCKED_OUT = "locked_out", "Refused: account locked"
    UNLOCKED = "unlocked", "Unlocked by a lab administrator"


class SignInChannel(models.TextChoices):
    PASSWORD = "password", "Password sign-in (browser, admin or API token)"
    SIGNATURE = "signature", "Electronic signature"
    ADMIN = "admin", "Administrator action"


class SignInAttempt(models.Model):
    at = models.DateTimeField(default=timezone.now, db_index=True)
    username = models.CharField(max_length=150, help_text="User name as typed.")
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        help_text="The account, when the user name exists.",
    )
    outcome = models.CharField(max_length=12, choices=SignInOutcome.choices)
    channel = models.CharField(max_length=10, choices=SignInChannel.choices)
    ip_address = models.GenericIPAddressField(null=True, blank=True)
    user_agent = models.CharField(max_length=300, blank=True)
    recorded_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        null=True,
        blank=True,
        on_delete=models.DO_NOTHING,
        db_constraint=False,
        related_name="+",
        help_text="Administrator who unlocked the account.",
    )

    class Meta:
        ordering = ["-at"]
        verbose_name = "sign-in attempt"
        indexes = [models.Index(fields=["user", "-at"], name="signinattempt_user_at")]
        constraints = [
            models.CheckConstraint(condition=models.Q(outcome__in=SignInOutcome.values), name="signinattempt_outcome"),
            models.CheckConstraint(condition=models.Q(channel__in=SignInChannel.values), name="signinattempt_channel"),
        ]
        triggers = [pgtrigger.Protect(name="append_only", operation=pgtrigger.Update | pgtrigger.Delete)]

    def __str__(self) -> str:
        return f"{self.username} {self.outcome} at {self.at:%Y-%m-%d %H:%M:%S}"
