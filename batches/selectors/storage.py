"""Reads about storage: which positions of a lab's boxes hold a tube (for the box map on the aliquot form)."""

from batches import models as m
from batches.choices import AliquotStatus


def box_occupancy(*, lab_id: int) -> list[dict]:
    """Every box of the lab: its size and the tubes in it by position (two queries, whatever the box count)."""
    boxes = list(
        m.StorageLocation.objects.filter(lab_id=lab_id, kind="box", rows__isnull=False, columns__isnull=False)
        .select_related("parent__parent")
        .order_by("pk")
    )
    taken: dict[int, dict[str, str]] = {box.pk: {} for box in boxes}
    held = m.Aliquot.objects.filter(
        location_id__in=taken, status__in=[AliquotStatus.AVAILABLE, AliquotStatus.RESERVED]
    ).exclude(position="")
    for location_id, position, code in held.values_list("location_id", "position", "code"):
        taken[location_id][position] = code
    return [
        {"id": box.pk, "name": box.path, "rows": box.rows, "columns": box.columns, "taken": taken[box.pk]}
        for box in boxes
    ]
