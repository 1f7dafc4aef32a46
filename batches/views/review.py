"""The PI's review queue: verify or reject QC and release batches, each through a signature dialog."""

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from batches import models as m
from batches.choices import BatchStatus, QCStatus
from batches.forms import SignatureForm
from batches.labels import in_words
from batches.services.lifecycle import (
    ReleaseRefused,
    batch_reject,
    batch_release,
    batch_release_blockers_many,
)
from batches.services.qc import qc_result_reject, qc_result_verify
from batches.services.records import Conflict
from lims.signatures import SignatureMeaning
from lims.web import get_scoped_or_404, member_required, scoped

QC_MEANINGS = [(SignatureMeaning.VERIFIED, "Verified — I checked this result against its raw data")]
RELEASE_MEANINGS = [(SignatureMeaning.RELEASED, "Released — the batch may be used as intended")]


@member_required
def review_queue(request):
    awaiting = (
        scoped(m.QCResult.objects.filter(status=QCStatus.RECORDED), request.user)
        .select_related("batch", "specification", "performed_by")
        .order_by("batch__code", "assay", "analyte")
    )
    submitted = list(
        scoped(m.SecretomeBatch.objects.filter(status=BatchStatus.SUBMITTED), request.user)
        .select_related("passage__cell_line")
        .order_by("code")
    )
    blockers = batch_release_blockers_many(batches=submitted)
    return render(
        request,
        "batches/review_queue.html",
        {
            "awaiting": awaiting,
            "submitted": [(batch, blockers[batch.pk]) for batch in submitted],
            "qc_meanings": QC_MEANINGS,
            "release_meanings": RELEASE_MEANINGS,
        },
    )


@require_POST
@member_required
def qc_verify(request, pk: int):
    result = get_scoped_or_404(m.QCResult.objects.select_related("batch"), request.user, pk=pk)
    form = SignatureForm(request.POST, meanings=QC_MEANINGS)
    if not form.is_valid():
        messages.error(request, "Enter your password and the meaning of your signature.")
        return _back(request, result.batch)
    try:
        qc_result_verify(
            result=result,
            actor=request.user,
            password=form.cleaned_data["password"],
            acceptance_justification=form.cleaned_data["justification"],
        )
        messages.success(request, f"QC result {result} verified and signed.")
    except (ValidationError, PermissionDenied, Conflict) as error:
        _report(request, error)
    return _back(request, result.batch)


@require_POST
@member_required
def qc_reject(request, pk: int):
    result = get_scoped_or_404(m.QCResult.objects.select_related("batch"), request.user, pk=pk)
    try:
        qc_result_reject(
            result=result,
            actor=request.user,
            reason=request.POST.get("reason", ""),
            password=request.POST.get("password", ""),
            request=request,
        )
        messages.success(request, f"QC result {result} rejected and signed.")
    except (ValidationError, PermissionDenied, Conflict) as error:
        _report(request, error)
    return _back(request, result.batch)


def signed_release(request, batch) -> None:
    """Release with an electronic signature; both happen in one transaction or not at all."""
    form = SignatureForm(request.POST, meanings=RELEASE_MEANINGS)
    if not form.is_valid():
        messages.error(request, "Enter your password and the meaning of your signature.")
        return
    try:
        batch_release(batch=batch, actor=request.user, password=form.cleaned_data["password"], request=request)
        messages.success(request, f"Batch {batch.code} released and signed.")
    except ReleaseRefused as refused:
        messages.error(request, release_refused_summary(refused.blockers))
    except (ValidationError, PermissionDenied, Conflict) as error:
        _report(request, error)


def release_refused_summary(blockers: list[str]) -> str:
    """One message instead of a banner per reason; the release dialog lists them all."""
    count = len(blockers)
    first = in_words(blockers[0]) if blockers else ""
    more = f" And {count - 1} more: open Release… to read them all." if count > 1 else ""
    return f"The batch was not released. {first}{more}"


def signed_reject(request, batch) -> None:
    try:
        batch_reject(
            batch=batch,
            actor=request.user,
            reason=request.POST.get("reason", ""),
            password=request.POST.get("password", ""),
            request=request,
        )
        messages.success(request, f"Batch {batch.code} rejected and signed.")
    except (ValidationError, PermissionDenied, Conflict) as error:
        _report(request, error)


def _report(request, error) -> None:
    if isinstance(error, ValidationError):
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.error(request, str(error))


def _back(request, batch):
    return redirect(request.POST.get("next") or reverse("batches:batch-detail", args=[batch.pk]))
