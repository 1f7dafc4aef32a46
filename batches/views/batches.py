"""The batch: list, the guided logging flow, the batch page, and its lifecycle actions."""

from dataclasses import replace

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from batches import forms as f
from batches import models as m
from batches.choices import BatchStatus
from batches.history import readable_history
from batches.labels import in_words
from batches.models import BatchEventKind
from batches.selectors import checklist_current_evaluations, checklist_current_scores, checklist_latest_report
from batches.services.aliquots import aliquot_series_create
from batches.services.lifecycle import ReleaseRefused, batch_release_blockers, batch_submit
from batches.services.qc import qc_result_record
from batches.services.records import batch_create, batch_update, processing_step_create
from batches.views.forms import posted_version, save_through_service, validate_only, validation_response
from batches.views.review import release_refused_summary, signed_reject, signed_release
from lims.selectors.audit_trail import AuditTrailFilters, audit_trail_for_batch
from lims.web import (
    can_review,
    can_write,
    default_lab,
    get_scoped_or_404,
    member_required,
    require_write,
    scoped,
)

FLOW_STEPS = [
    ("start", "Producing cells & priming"),
    ("production", "Production"),
    ("processing", "Processing steps"),
    ("aliquots", "Aliquots into storage"),
    ("qc", "QC results"),
]
# Items whose rule reads rows rather than one field: the page where those rows are recorded.
ITEM_PAGES = (
    ("ie_phenotype", "passage.cell_line"),
    ("ie_trilineage", "passage.cell_line"),
    ("ie_population_doublings", "passage"),
    ("ie_seeding_density", "passage"),
    ("sp_priming", "priming"),
    ("sp_", "processing_steps"),
    ("st_", "aliquots"),
    ("qc_", "qc_results"),
    ("ch_", "qc_results"),
)
COLLECTION_STEPS = {
    "processing_steps": "processing",
    "aliquots": "aliquots",
    "aliquot_uses": "aliquots",
    "qc_results": "qc",
}


def _batches_for(user):
    return scoped(m.SecretomeBatch.objects.all(), user)


def _batch(user, pk: int) -> m.SecretomeBatch:
    return get_scoped_or_404(
        m.SecretomeBatch.objects.select_related(
            "passage__cell_line__donor", "priming", "operator", "mock_control", "protocol_version__protocol", "lab"
        ),
        user,
        pk=pk,
    )


def fill_url(batch: m.SecretomeBatch, item) -> str:
    """Where to fill in what a checklist item misses: the form, and the field on it."""
    path = item.field or item.entity
    related = [
        ("passage.cell_line.donor", "donors", batch.passage.cell_line.donor_id),
        ("passage.cell_line", "cell-lines", batch.passage.cell_line_id),
        ("passage", "passages", batch.passage_id),
        ("priming", "primings", batch.priming_id),
    ]
    for prefix, kind, pk in related:
        if path == prefix or path.startswith(prefix + "."):
            column = path[len(prefix) + 1 :].split(".")[0]
            if pk is None:
                break
            anchor = f"#field-{column}" if column else ""
            return reverse("batches:record-edit", args=[kind, pk]) + anchor
    name = path.split(".")[0]
    if name in COLLECTION_STEPS:
        return reverse("batches:batch-step", args=[batch.pk, COLLECTION_STEPS[name]])
    if name in f.BATCH_PRODUCTION_FIELDS:
        return f"{reverse('batches:batch-step', args=[batch.pk, 'production'])}#field-{name}"
    if name in f.BATCH_START_FIELDS:
        return f"{reverse('batches:batch-step', args=[batch.pk, 'start'])}#field-{name}"
    for prefix, target in ITEM_PAGES:
        if item.item_id.startswith(prefix):
            return fill_url(batch, replace(item, field=target, entity=""))
    return reverse("batches:batch-detail", args=[batch.pk])


def _checklist_context(batch):
    # The current report when it stands for the records as stored now; evaluated only when it does not.
    evaluation = checklist_current_evaluations(batch_ids=[batch.pk])[0][batch.pk]
    todo = [
        {"item": item, "url": fill_url(batch, item)}
        for item in evaluation.items
        if item.status in ("missing", "invalid")
    ]
    return evaluation, todo


@member_required
def batch_list(request):
    batches = _batches_for(request.user).select_related("passage__cell_line", "priming").order_by("-created_at")
    status = request.GET.get("status", "")
    if status in BatchStatus.values:
        batches = batches.filter(status=status)
    batches = list(batches[:300])
    scores = checklist_current_scores(batch_ids=[b.pk for b in batches])
    return render(
        request,
        "batches/batch_list.html",
        {
            "batches": [(b, scores.get(b.pk)) for b in batches],
            "status": status,
            "statuses": BatchStatus.choices,
        },
    )


@member_required
def batch_detail(request, pk: int):
    batch = _batch(request.user, pk)
    batch = (
        m.SecretomeBatch.objects.filter(pk=batch.pk)
        .select_related("passage__cell_line__donor", "priming", "operator", "mock_control", "lab")
        .prefetch_related(
            "processing_steps",
            "priming__agents",
            Prefetch(
                "qc_results",
                queryset=m.QCResult.objects.select_related("specification", "performed_by", "verified_by").order_by(
                    "assay", "analyte", "sample"
                ),
            ),
            Prefetch("aliquots", queryset=m.Aliquot.objects.select_related("location__parent__parent")),
            Prefetch("administrations", queryset=m.Administration.objects.select_related("study")),
            "events__actor",
        )
        .get()
    )
    evaluation, todo = _checklist_context(batch)
    report = checklist_latest_report(batch=batch)
    context = {
        "batch": batch,
        "chain": batch.passage.chain(),
        "evaluation": evaluation,
        "todo": todo,
        "report": report,
        "can_write": can_write(request.user, batch.lab_id) and batch.status == BatchStatus.DRAFT,
        "can_review": can_review(request.user, batch.lab_id),
        "signatures": _signatures(batch),
        "history": readable_history(_history(batch)),
        "release_blockers": release_blockers_for(request.user, batch),
        "steps": FLOW_STEPS,
    }
    return render(request, "batches/batch_detail.html", context)


def release_blockers_for(user, batch) -> list[str]:
    """What stands between a submitted batch and its release, for a reviewer to read before signing."""
    if batch.status != BatchStatus.SUBMITTED or not can_review(user, batch.lab_id):
        return []
    return [in_words(blocker) for blocker in batch_release_blockers(batch=batch)]


def _signatures(batch):
    """The batch's signatures and its QC results', in two queries whatever their number."""
    from django.contrib.contenttypes.models import ContentType
    from django.db.models import Q

    from lims.models import Signature

    types = ContentType.objects.get_for_models(m.SecretomeBatch, m.QCResult)
    wanted = Q(content_type=types[m.SecretomeBatch], object_id=batch.pk) | Q(
        content_type=types[m.QCResult], object_id__in=[result.pk for result in batch.qc_results.all()]
    )
    return list(Signature.objects.filter(wanted).order_by("signed_at", "pk"))


def _history(batch):
    """Who changed what on the batch and every row hanging off it, and why (checklist runs left out)."""
    entries = audit_trail_for_batch(batch=batch, filters=AuditTrailFilters(limit=300))
    return [
        entry
        for entry in entries
        if entry.record_type != "batches.checklistreport"
        and not (
            entry.record_type == "batches.batchevent"
            and any(c.field == "kind" and c.new == BatchEventKind.CHECKED for c in entry.changes)
        )
    ][:150]


@member_required
def batch_start(request):
    lab = default_lab(request.user)
    form = f.BatchStartForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if request.POST.get("_validate"):
            validate_only(form)
            return validation_response(form)
        batch = save_through_service(form, lambda data: batch_create(lab=lab, actor=request.user, data=data))
        if batch is not None:
            messages.success(request, f"Draft batch {batch.code} created. Next: production.")
            return redirect("batches:batch-step", batch.pk, "production")
    return render(
        request,
        "batches/record_form.html",
        {
            "form": form,
            "heading": "Log a new batch",
            "steps": FLOW_STEPS,
            "current_step": "start",
            "submit_label": "Create draft and continue",
            "cancel_url": reverse("batches:batch-list"),
            "version": None,
        },
    )


@member_required
def batch_step(request, pk: int, step: str):
    batch = _batch(request.user, pk)
    if step not in dict(FLOW_STEPS):
        raise Http404("No such step.")
    forms_for_step = {
        "start": f.BatchStartForm,
        "production": f.BatchProductionForm,
        "processing": f.ProcessingStepForm,
        "aliquots": f.AliquotSeriesForm,
        "qc": f.QCResultForm,
    }
    is_batch_form = step in ("start", "production")
    writable = can_write(request.user, batch.lab_id) and batch.status == BatchStatus.DRAFT
    initial = _initial_for(batch, step)
    if request.method == "POST":
        require_write(request.user, batch.lab_id)
        form = forms_for_step[step](request.POST, instance=batch if is_batch_form else None, user=request.user)
        if request.POST.get("_validate"):
            validate_only(form)
            return validation_response(form)
        saved = save_through_service(form, lambda data: _write_step(request, batch, step, data, form))
        if saved is not None:
            messages.success(request, _saved_message(step, saved))
            next_step = _next_step(step) if is_batch_form else step
            return redirect("batches:batch-step", batch.pk, next_step)
    else:
        form = forms_for_step[step](instance=batch if is_batch_form else None, initial=initial, user=request.user)
    if not writable:
        for field in form.fields.values():
            field.disabled = True
    evaluation, todo = _checklist_context(batch)
    return render(
        request,
        "batches/batch_step.html",
        {
            "form": form,
            "batch": batch,
            "heading": f"{batch.code}: {dict(FLOW_STEPS)[step]}",
            "steps": FLOW_STEPS,
            "current_step": step,
            "version": batch.version if is_batch_form else None,
            "checklist": evaluation,
            "todo": todo,
            "rows": _rows_for(batch, step),
            "writable": writable,
            "is_batch_form": is_batch_form,
            "next_step": _next_step(step),
            "submit_label": "Save and continue" if is_batch_form else "Add",
        },
    )


def _next_step(step: str) -> str:
    names = [name for name, _ in FLOW_STEPS]
    index = names.index(step)
    return names[min(index + 1, len(names) - 1)]


def _saved_message(step: str, saved) -> str:
    if step == "processing":
        return f"Processing step {saved.order} added."
    if step == "aliquots":
        codes = ", ".join(str(aliquot) for aliquot in saved)
        return f"Aliquot {codes} added." if len(saved) == 1 else f"{len(saved)} aliquots added: {codes}."
    if step == "qc":
        return f"QC result {saved} recorded."
    return "Saved."


def _initial_for(batch, step: str) -> dict:
    if step == "processing":
        return {"order": batch.processing_steps.count() + 1}
    if step == "aliquots":
        return {"code": f"{batch.code}-A{batch.aliquots.count() + 1:02d}"}
    if step == "qc":
        return {"assay": "", "sample": "product"}
    return {}


def _rows_for(batch, step: str):
    if step == "processing":
        return batch.processing_steps.order_by("order")
    if step == "aliquots":
        return batch.aliquots.select_related("location").order_by("code")
    if step == "qc":
        return batch.qc_results.select_related("specification").order_by("assay", "analyte")
    return []


def _write_step(request, batch, step: str, data: dict, form=None):
    actor = request.user
    if step in ("start", "production"):
        return batch_update(batch=batch, actor=actor, data=data, version=posted_version(request))
    if step == "processing":
        return processing_step_create(lab=batch.lab, actor=actor, data={**data, "batch": batch})
    if step == "aliquots":
        count, positions = form.cleaned_data["count"], form.cleaned_data["positions"]
        return aliquot_series_create(batch=batch, actor=actor, data=data, count=count, positions=positions)
    return qc_result_record(lab=batch.lab, actor=actor, data={**data, "batch": batch, "performed_by": actor})


@member_required
def batch_checklist_panel(request, pk: int):
    batch = _batch(request.user, pk)
    evaluation, todo = _checklist_context(batch)
    return render(request, "batches/_checklist_panel.html", {"evaluation": evaluation, "todo": todo, "batch": batch})


@require_POST
@member_required
def batch_action(request, pk: int, action: str):
    batch = _batch(request.user, pk)
    try:
        if action == "submit":
            batch_submit(batch=batch, actor=request.user)
            messages.success(request, f"Batch {batch.code} submitted for review.")
        elif action == "release":
            _release(request, batch)
        elif action == "reject":
            signed_reject(request, batch)
        else:
            raise Http404("No such action.")
    except ReleaseRefused as refused:
        messages.error(request, release_refused_summary(refused.blockers))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except PermissionDenied as denied:
        messages.error(request, str(denied))
    return redirect(request.POST.get("next") or reverse("batches:batch-detail", args=[batch.pk]))


def _release(request, batch):
    signed_release(request, batch)
