"""Invitations: how a person joins a lab. A lab administrator names them by e-mail or user name; they accept.

Nothing is looked up across the installation when the invitation is made: the administrator learns
nothing about who has an account, and the invitee's labs, lists and forms do not change until they
accept (an invitation is not a membership).
"""

from django.conf import settings
from django.db import models
from django.db.models.functions import Lower

from lims.audit import tracked
from lims.constraints import never_deleted
from lims.models import LabOwnedModel, Role


class InvitationStatus(models.TextChoices):
    PENDING = "pending", "Pending"
    ACCEPTED = "accepted", "Accepted"
    DECLINED = "declined", "Declined"
    REVOKED = "revoked", "Revoked"


@tracked
class Invitation(LabOwnedModel):
    invitee = models.CharField(
        max_length=254,
        help_text="The person's e-mail address or user name, as the lab administrator typed it.",
    )
    role = models.CharField(max_length=20, choices=Role.choices)
    status = models.CharField(max_length=10, choices=InvitationStatus.choices, default=InvitationStatus.PENDING)
    answered_at = models.DateTimeField(null=True, blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+", editable=False
    )

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(role__in=Role.values), name="invitation_role_valid"),
            models.CheckConstraint(
                condition=models.Q(status__in=InvitationStatus.values), name="invitation_status_valid"
            ),
            models.CheckConstraint(condition=~models.Q(invitee=""), name="invitation_invitee_given"),
            models.UniqueConstraint(
                "lab",
                Lower("invitee"),
                condition=models.Q(status="pending"),
                name="invitation_one_pending_per_person",
                violation_error_message="This person already has a pending invitation to the lab.",
            ),
        ]
        triggers = [
            *LabOwnedModel.Meta.triggers,
            never_deleted(),
        ]

    def __str__(self) -> str:
        return f"{self.invitee} as {self.get_role_display()} in lab {self.lab_id} ({self.status})"

    def is_for(self, user) -> bool:
        """Whether the signed-in user is the person invited (user name or e-mail, case-insensitive)."""
        wanted = self.invitee.strip().casefold()
        return wanted in {user.get_username().casefold(), (user.email or "").strip().casefold()} and bool(wanted)
