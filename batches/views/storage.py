"""The storage browser (freezer → rack → box grid) and printable QR labels for aliquots."""

import string

import segno
from django.db.models import Count
from django.shortcuts import render

from batches import models as m
from batches.choices import AliquotStatus
from lims.web import get_scoped_or_404, member_required, scoped


@member_required
def storage_browser(request):
    locations = list(scoped(m.StorageLocation.objects.all(), request.user).order_by("name"))
    children: dict[int | None, list] = {}
    for location in locations:
        children.setdefault(location.parent_id, []).append(location)
    counts = dict(
        scoped(m.Aliquot.objects.filter(status__in=[AliquotStatus.AVAILABLE, AliquotStatus.RESERVED]), request.user)
        .values_list("location_id")
        .annotate(n=Count("pk"))
    )

    def tree(parent_id):
        return [
            {"node": node, "count": counts.get(node.pk, 0), "children": tree(node.pk)}
            for node in children.get(parent_id, [])
        ]

    return render(request, "batches/storage.html", {"tree": tree(None)})


@member_required
def storage_box(request, pk: int):
    box = get_scoped_or_404(m.StorageLocation.objects.filter(kind="box"), request.user, pk=pk)
    aliquots = {
        a.position: a
        for a in box.aliquots.filter(status__in=[AliquotStatus.AVAILABLE, AliquotStatus.RESERVED]).select_related(
            "batch"
        )
        if a.position
    }
    rows = [
        {
            "label": letter,
            "cells": [
                {"position": f"{letter}{col}", "aliquot": aliquots.get(f"{letter}{col}")}
                for col in range(1, (box.columns or 0) + 1)
            ],
        }
        for letter in string.ascii_uppercase[: box.rows or 0]
    ]
    return render(
        request,
        "batches/storage_box.html",
        {
            "box": box,
            "rows": rows,
            "columns": range(1, (box.columns or 0) + 1),
            "unplaced": box.aliquots.filter(position="").select_related("batch"),
        },
    )


def qr_svg(text: str) -> str:
    return segno.make(text, error="m").svg_data_uri(scale=4, border=1)


@member_required
def aliquot_labels(request):
    """Labels for the chosen aliquots, or every aliquot of a box or a batch, ready to print."""
    aliquots = scoped(m.Aliquot.objects.select_related("batch", "location"), request.user)
    if _ids(request, "box"):
        aliquots = aliquots.filter(location_id__in=_ids(request, "box"))
    elif _ids(request, "batch"):
        aliquots = aliquots.filter(batch_id__in=_ids(request, "batch"))
    else:
        aliquots = aliquots.filter(pk__in=_ids(request, "aliquot"))
    labels = [{"aliquot": a, "qr": qr_svg(f"LIMS:ALIQUOT:{a.code}")} for a in aliquots.order_by("code")[:500]]
    return render(request, "batches/labels.html", {"labels": labels})


def _ids(request, name: str) -> list[int]:
    return [int(value) for value in request.GET.getlist(name) if value.isdigit()]
