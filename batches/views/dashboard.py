"""The dashboard: what needs attention in the user's labs."""

from django.db.models import F, Sum, Value
from django.db.models.functions import Coalesce, Collate
from django.shortcuts import render

from batches import models as m
from batches.choices import QC_NOT_COUNTED, BatchStatus, QCOutcome, QCStatus
from lims.models import Membership, Role
from lims.web import may_create, member_required, user_lab_id_list


@member_required
def dashboard(request):
    user = request.user
    # The user's labs as values, not a subquery, so the (lab, created_at) index serves the newest batches.
    labs = user_lab_id_list(user)
    batches = m.SecretomeBatch.objects.filter(lab_id__in=labs)
    # Kept by the batch table's triggers: counting the batches themselves would read every one of them.
    by_status = dict(
        m.BatchStatusCount.objects.filter(lab_id__in=labs).values_list("status").annotate(n=Sum("batches")).order_by()
    )
    # The 12 lowest checklist scores among the 200 newest active batches, ranked in the database (unchecked
    # first, then by code): the page reads 12 batches whatever the size of the lab.
    newest = batches.exclude(status=BatchStatus.RETIRED).order_by("-created_at").values("pk")[:200]
    ranked = (
        m.SecretomeBatch.objects.filter(pk__in=newest)
        .annotate(score=F("current_checklist__report__score"))
        .only("pk", "code", "status")
        .order_by(Coalesce("score", Value(-1.0)), Collate("code", "C"), "-created_at")[:12]
    )
    results = m.QCResult.objects.filter(lab_id__in=labs).select_related("batch", "specification", "performed_by")
    return render(
        request,
        "dashboard.html",
        {
            "statuses": [(value, label, by_status.get(value, 0)) for value, label in BatchStatus.choices],
            "scored": [(b, b.score) for b in ranked],
            "awaiting": results.filter(status=QCStatus.RECORDED).order_by("performed_on")[:12],
            "out_of_spec": results.filter(outcome=QCOutcome.FAIL)
            .exclude(status__in=QC_NOT_COUNTED)
            .order_by("-performed_on")[:12],
            "can_create": may_create(user),
            "can_recheck": Membership.objects.filter(user=user, role__in=[Role.REVIEWER, Role.LAB_ADMIN]).exists(),
            # Lifecycle events only: checklist runs are bookkeeping and would drown what people did.
            # The labs as values: the (lab, at) index gives a lab's newest events without reading them all.
            "activity": m.BatchEvent.objects.filter(lab_id__in=labs)
            .exclude(kind=m.BatchEventKind.CHECKED)
            .select_related("batch", "actor")
            .order_by("-at")[:15],
        },
    )
