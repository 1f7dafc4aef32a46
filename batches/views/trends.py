"""QC trend charts per assay across batches, with specification limits — how a PI spots a drifting process."""

from django.db.models import F
from django.http import JsonResponse
from django.shortcuts import render

from batches import models as m
from batches.choices import QC_NOT_COUNTED, Assay, ProductType
from batches.selectors import qc_analytes
from lims.web import member_required, user_lab_id_list

COLOUR_BY = {
    "priming": ("batch__priming__name", "Priming condition"),
    "donor": ("batch__passage__cell_line__donor__code", "Donor"),
    "product_type": ("batch__product_type", "Product type"),
}


TREND_POINTS = 500  # a chart shows a lab's latest results, not its whole history
LATEST_FIRST = ("-batch__collected_at", "-batch__code", "-pk")  # production order, newest first


def _title(assay: str, analyte: str) -> str:
    label = dict(Assay.choices).get(assay, "QC results")
    return f"{label}, {analyte}" if analyte else label


def _lab_results(labs: list[int], **lookups):
    """The labs' counted results, scoped by their batch's lab (a result's lab is its batch's: the same-lab
    trigger). With the labs as values the planner walks a lab's batches backwards by the (lab, collected_at,
    code) index and stops at the chart's 500; a second condition on the result's own lab would make it expect
    twenty times fewer matches per batch and read the lab's whole history instead."""
    return m.QCResult.objects.filter(batch__lab_id__in=labs, **lookups).exclude(status__in=QC_NOT_COUNTED)


def _results(request):
    assay = request.GET.get("assay") or "endotoxin"
    labs = user_lab_id_list(request.user)
    queryset = _lab_results(labs, assay=assay, value__isnull=False)
    analyte = request.GET.get("analyte", "")
    if analyte:
        queryset = queryset.filter(analyte=analyte)
    product_type = request.GET.get("product_type", "")
    if product_type in ProductType.values:
        queryset = queryset.filter(batch__product_type=product_type)
    return labs, assay, analyte, product_type, queryset


@member_required
def qc_trends(request):
    labs, assay, analyte, product_type, queryset = _results(request)
    # Skipping through an index: a lab's results of an assay may run to tens of thousands.
    analytes = qc_analytes(lab_ids=labs, assay=assay)
    return render(
        request,
        "batches/qc_trends.html",
        {
            "assays": Assay.choices,
            "assay": assay,
            "analyte": analyte,
            "analytes": analytes,
            "product_types": ProductType.choices,
            "product_type": product_type,
            "colour_by": request.GET.get("colour_by", "priming"),
            "colour_choices": [(k, v[1]) for k, v in COLOUR_BY.items()],
            # Counted up to what the chart shows (a count of a long history would scan it all), in the chart's
            # order so that the same walk of the lab's newest batches serves it.
            "result_count": queryset.order_by(*LATEST_FIRST)[: TREND_POINTS + 1].count(),
            "trend_points": TREND_POINTS,
            "title": _title(assay, analyte),
            "in_words": _results_in_words(labs, assay, analyte),
        },
    )


def _results_in_words(labs: list[int], assay: str, analyte: str) -> list:
    """Results recorded in words (e.g. sterility: negative) have nothing to plot; they are listed instead."""
    # Few results of a numeric assay have no value: the partial (lab, assay) index finds them by their own lab.
    queryset = _lab_results(labs, lab_id__in=labs, assay=assay, value__isnull=True)
    if analyte:
        queryset = queryset.filter(analyte=analyte)
    return list(queryset.select_related("batch").order_by("batch__collected_at", "batch__code", "pk")[:100])


@member_required
def qc_trend_data(request):
    """Points (one per result, in production order; the latest TREND_POINTS) and the limits in force."""
    _labs, assay, analyte, product_type, queryset = _results(request)
    colour_field, colour_label = COLOUR_BY.get(request.GET.get("colour_by", "priming"), COLOUR_BY["priming"])
    # The latest TREND_POINTS results, in production order: a chart of a lab's whole history would grow
    # with every batch, and the recent ones are those a lab looks at.
    rows = queryset.select_related("batch", "specification").order_by(*LATEST_FIRST)
    points = []
    latest = rows.values(
        "pk",
        "value",
        "unit",
        "outcome",
        "batch_id",
        "batch__code",
        "batch__collected_at",
        "performed_on",
        "specification__min_value",
        "specification__max_value",
        "specification__warn_min",
        "specification__warn_max",
        group=F(colour_field),
    )[:TREND_POINTS]
    for result in reversed(list(latest)):
        points.append(
            {
                "id": result["pk"],
                "batch": result["batch__code"],
                "batch_id": result["batch_id"],
                "value": result["value"],
                "unit": result["unit"],
                "outcome": result["outcome"] or "",
                "group": result["group"] or "—",
                "date": (result["batch__collected_at"] or result["performed_on"]).isoformat()[:10],
                "limits": {
                    key: result[f"specification__{key}"] for key in ("min_value", "max_value", "warn_min", "warn_max")
                },
            }
        )
    limits = next((p["limits"] for p in reversed(points) if any(v is not None for v in p["limits"].values())), {})
    return JsonResponse(
        {
            "assay": assay,
            "analyte": analyte,
            "title": _title(assay, analyte),
            "product_type": product_type,
            "colour_by": colour_label,
            "unit": points[-1]["unit"] if points else "",
            "points": points,
            "limits": limits,
        }
    )
