from django.conf import settings
from django.db import models
from django.db.models import Q

from batches import choices
from lims import constraints as c
from lims.audit import tracked
from lims.models import LabOwnedModel


@tracked
class StorageLocation(LabOwnedModel):
    """Freezer → rack → box; a box is a grid of positions (rows × columns)."""

    name = models.CharField(max_length=80)
    kind = models.CharField(max_length=20, choices=choices.StorageKind.choices)
    parent = models.ForeignKey("self", null=True, blank=True, on_delete=models.PROTECT, related_name="children")
    temperature_c = models.FloatField(null=True, blank=True, help_text="Set temperature, °C (freezers, tanks).")
    rows = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Box rows (A, B, …).")
    columns = models.PositiveSmallIntegerField(null=True, blank=True, help_text="Box columns (1, 2, …).")

    class Meta(LabOwnedModel.Meta):
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["lab", "parent", "name"],
                name="storagelocation_name_unique_in_parent",
                nulls_distinct=False,
            ),
            c.in_choices("storagelocation", "kind", choices.StorageKind),
            c.between("storagelocation", "temperature_c", -200, 40),
            models.CheckConstraint(
                condition=~Q(kind="box") | (Q(rows__gte=1, rows__lte=26) & Q(columns__gte=1, columns__lte=26)),
                name="storagelocation_box_has_grid",
            ),
            models.CheckConstraint(
                condition=Q(parent__isnull=True) | ~Q(parent=models.F("id")), name="storagelocation_parent_not_self"
            ),
        ]

    def __str__(self) -> str:
        return self.path

    @property
    def path(self) -> str:
        names, node, seen = [], self, set()
        while node is not None and node.pk not in seen:
            seen.add(node.pk)
            names.append(node.name)
            node = node.parent
        return " → ".join(reversed(names))


@tracked
class Aliquot(LabOwnedModel):
    batch = models.ForeignKey("batches.SecretomeBatch", on_delete=models.PROTECT, related_name="aliquots")
    code = models.CharField(max_length=50, help_text="Aliquot code, unique in the lab; printed on the label.")
    volume_ul = models.FloatField(
        null=True, blank=True, help_text="Volume, µL (for lyophilised aliquots: volume before drying)."
    )
    container = models.CharField(max_length=20, choices=choices.Container.choices, blank=True)
    container_details = models.CharField(max_length=120, blank=True, help_text="The container, when 'other'.")
    buffer = models.CharField(max_length=20, choices=choices.Buffer.choices, blank=True)
    buffer_details = models.CharField(max_length=200, blank=True, help_text="The buffer, when 'other'.")
    state = models.CharField(max_length=12, choices=choices.AliquotState.choices, blank=True)
    temperature_c = models.FloatField(null=True, blank=True, help_text="Storage temperature, °C.")
    location = models.ForeignKey(
        StorageLocation,
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="aliquots",
        help_text="The box it sits in.",
    )
    position = models.CharField(max_length=4, blank=True, help_text="Position in the box, e.g. A1.")
    stored_at = models.DateTimeField(null=True, blank=True, help_text="When it went into storage.")
    freeze_thaw_count = models.PositiveSmallIntegerField(
        null=True, blank=True, help_text="Freeze–thaw cycles so far (0 = never thawed)."
    )
    status = models.CharField(
        max_length=10, choices=choices.AliquotStatus.choices, default=choices.AliquotStatus.AVAILABLE
    )
    protocol_version = models.ForeignKey(
        "protocols.ProtocolVersion",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="Storage SOP version followed.",
    )

    class Meta(LabOwnedModel.Meta):
        triggers = [*LabOwnedModel.Meta.triggers, c.never_deleted()]
        ordering = ["code"]
        constraints = [
            c.unique_code_per_lab("aliquot"),
            models.UniqueConstraint(
                fields=["location", "position"],
                condition=Q(status__in=["available", "reserved"]) & ~Q(position=""),
                name="aliquot_one_per_position",
            ),
            c.in_choices("aliquot", "container", choices.Container, blank=True),
            c.in_choices("aliquot", "buffer", choices.Buffer, blank=True),
            c.in_choices("aliquot", "state", choices.AliquotState, blank=True),
            c.in_choices("aliquot", "status", choices.AliquotStatus),
            *c.positive("aliquot", "volume_ul"),
            c.between("aliquot", "temperature_c", -200, 40),
            models.CheckConstraint(
                condition=Q(position="") | Q(position__regex=r"^[A-Z][0-9]{1,2}$"), name="aliquot_position_format"
            ),
        ]

    def __str__(self) -> str:
        return self.code


@tracked
class AliquotEvent(LabOwnedModel):
    """A thaw, a use, a move or a discard of one aliquot."""

    aliquot = models.ForeignKey(Aliquot, on_delete=models.PROTECT, related_name="events")
    kind = models.CharField(max_length=12, choices=choices.AliquotEventKind.choices)
    at = models.DateTimeField()
    volume_ul = models.FloatField(null=True, blank=True, help_text="Volume used, µL.")
    administration = models.ForeignKey(
        "batches.Administration", null=True, blank=True, on_delete=models.PROTECT, related_name="aliquot_events"
    )
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    note = models.CharField(max_length=200, blank=True)

    class Meta(LabOwnedModel.Meta):
        ordering = ["aliquot", "at"]
        constraints = [
            c.in_choices("aliquotevent", "kind", choices.AliquotEventKind),
            *c.positive("aliquotevent", "volume_ul"),
        ]

    def __str__(self) -> str:
        return f"{self.aliquot} {self.kind}"
