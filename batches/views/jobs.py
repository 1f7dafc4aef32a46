"""Long work with a progress bar: start it, then watch it fill (htmx polls until it is done)."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from batches.services.jobs import checklist_recheck_start
from lims.models import Job, JobStatus
from lims.web import default_lab, get_scoped_or_404, member_required


@require_POST
@member_required
def recheck_start(request):
    try:
        job = checklist_recheck_start(lab=default_lab(request.user), actor=request.user)
    except PermissionDenied as denied:
        messages.error(request, str(denied))
        return redirect("dashboard")
    return redirect("batches:job", job.pk)


@member_required
def job_detail(request, pk):
    job = get_scoped_or_404(Job.objects.select_related("started_by"), request.user, pk=pk)
    return render(request, "batches/job.html", {"job": job})


@member_required
def job_progress(request, pk):
    job = get_scoped_or_404(Job.objects.all(), request.user, pk=pk)
    return render(request, "batches/_job_progress.html", {"job": job, "done": job.status == JobStatus.DONE})
