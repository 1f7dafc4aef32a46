"""The dashboard: what needs attention in the user's labs."""

from django.db.models import Count
from django.shortcuts import render

from batches import models as m
from batches.choices import QC_NOT_COUNTED, BatchStatus, QCOutcome, QCStatus
from batches.selectors import checklist_current_scores
from lims.models import Membership, Role
from lims.web import may_create, member_required, scoped, user_lab_ids


@member_required
def dashboard(request):
    user = request.user
    # The user's labs as values, not a subquery, so the (lab, created_at) index serves the newest batches.
    batches = m.SecretomeBatch.objects.filter(lab_id__in=list(user_lab_ids(user).values_list("lab_id", flat=True)))
    by_status = dict(batches.values_list("status").annotate(n=Count("pk")))
    active = list(
        batches.exclude(status=BatchStatus.RETIRED).select_related("passage__cell_line").order_by("-created_at")[:200]
    )
    scores = checklist_current_scores(batch_ids=[b.pk for b in active])
    ranked = sorted(active, key=lambda b: (scores.get(b.pk, -1), b.code))
    results = scoped(m.QCResult.objects.all(), user).select_related("batch", "specification", "performed_by")
    return render(
        request,
        "dashboard.html",
        {
            "statuses": [(value, label, by_status.get(value, 0)) for value, label in BatchStatus.choices],
            "scored": [(b, scores.get(b.pk)) for b in ranked[:12]],
            "awaiting": results.filter(status=QCStatus.RECORDED).order_by("performed_on")[:12],
            "out_of_spec": results.filter(outcome=QCOutcome.FAIL)
            .exclude(status__in=QC_NOT_COUNTED)
            .order_by("-performed_on")[:12],
            "can_create": may_create(user),
            "can_recheck": Membership.objects.filter(user=user, role__in=[Role.REVIEWER, Role.LAB_ADMIN]).exists(),
            # Lifecycle events only: checklist runs are bookkeeping and would drown what people did.
            "activity": scoped(m.BatchEvent.objects.exclude(kind=m.BatchEventKind.CHECKED), user)
            .select_related("batch", "actor")
            .order_by("-at")[:15],
        },
    )
