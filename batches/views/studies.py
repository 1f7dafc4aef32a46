"""Studies: design, groups, administrations of batches, outcome measures, their checklist, methods export."""

from django.db.models import Prefetch
from django.shortcuts import render

from batches import models as m
from batches.selectors import checklist_current_evaluations
from lims.web import get_scoped_or_404, member_required, scoped


@member_required
def study_list(request):
    studies = scoped(m.Study.objects.all(), request.user).prefetch_related("administrations").order_by("-created_at")
    return render(request, "batches/study_list.html", {"studies": studies})


@member_required
def study_detail(request, pk: int):
    study = get_scoped_or_404(
        m.Study.objects.prefetch_related(
            Prefetch("administrations", queryset=m.Administration.objects.select_related("batch", "aliquot")),
            "outcome_measures",
        ),
        request.user,
        pk=pk,
    )
    evaluation = checklist_current_evaluations(study_ids=[study.pk])[1][study.pk]
    return render(
        request,
        "batches/study_detail.html",
        {
            "study": study,
            "evaluation": evaluation,
            "todo": [{"item": item, "url": ""} for item in evaluation.items if item.status in ("missing", "invalid")],
        },
    )
