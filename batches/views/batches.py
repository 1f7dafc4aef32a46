"""The batch: list, the guided logging flow, the batch page, and its lifecycle actions."""

from dataclasses import replace

from django import forms
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
from batches.services.lifecycle import (
    ReleaseRefused,
    batch_is_own_work,
    batch_release_blockers,
    batch_return_for_changes,
    batch_submit,
)
from batches.services.qc import qc_result_correct, qc_result_record, qc_result_update
from batches.services.records import (
    RecordLocked,
    batch_create,
    batch_update,
    processing_step_create,
    processing_step_update,
    record_update,
)
from batches.views.forms import edit_page, posted_version, save_through_service, validate_only, validation_response
from batches.views.review import release_refused_summary, signed_reject, signed_release
from lims.api.pagination import encode_cursor, keyset_page
from lims.models import Lab
from lims.roles import JUSTIFY_ROLES, user_role
from lims.selectors.audit_trail import AuditTrailFilters, audit_trail_for_batch
from lims.web import (
    can_review,
    can_write,
    get_scoped_or_404,
    may_create,
    member_required,
    require_write,
    scoped,
    user_lab_id_list,
    writable_labs,
)
from protocols import services as deviations
from protocols.models import Deviation, DeviationStatus
from protocols.selectors import deviation_sentence

# While a batch is a draft its records change freely; once submitted, every change says why (amendment).
EDITABLE_STATUSES = {BatchStatus.DRAFT, BatchStatus.SUBMITTED}
REASON_HELP = "Why this change is made after submission (kept in the batch's history)."

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


BATCH_LIST_PAGE = 50


@member_required
def batch_list(request):
    """The newest batches first, a page at a time: `?after=` a page's last row (keyset, no count, no OFFSET)."""
    # The user's labs as values, not a subquery: then the (lab, created_at) index serves the order, and a
    # page reads its rows whatever the number of the lab's batches.
    labs = user_lab_id_list(request.user)
    batches = (
        m.SecretomeBatch.objects.filter(lab_id__in=labs)
        .select_related("passage__cell_line", "priming")
        .order_by("-created_at", "-id")
    )
    status = request.GET.get("status", "")
    if status in BatchStatus.values:
        batches = batches.filter(status=status)
    after = request.GET.get("after", "")
    try:
        batches, last = keyset_page(batches, after or None, BATCH_LIST_PAGE)
    except ValueError:  # not a cursor this page gave (a mangled or old link): say so, show the newest batches
        messages.warning(request, "That page link could not be read, so the newest batches are shown.")
        after = ""
        batches, last = keyset_page(batches, None, BATCH_LIST_PAGE)
    older = encode_cursor(last) if last is not None else ""
    scores = checklist_current_scores(batch_ids=[b.pk for b in batches])
    return render(
        request,
        "batches/batch_list.html",
        {
            "batches": [(b, scores.get(b.pk)) for b in batches],
            "status": status,
            "statuses": BatchStatus.choices,
            "can_create": may_create(request.user),
            "older": older,
            "after": after,
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
        "can_write": can_write(request.user, batch.lab_id) and batch.status in EDITABLE_STATUSES,
        "can_submit": can_write(request.user, batch.lab_id) and batch.status == BatchStatus.DRAFT,
        "can_review": can_review(request.user, batch.lab_id),
        "signatures": _signatures(batch),
        "history": readable_history(_history(batch)),
        "release_blockers": release_blockers_for(request.user, batch),
        "steps": FLOW_STEPS,
        "deviations": _deviations(request.user, batch),
        "returned": _returned_reason(batch),
    }
    return render(request, "batches/batch_detail.html", context)


def release_blockers_for(user, batch) -> list[str]:
    """What stands between a submitted batch and its release, for a reviewer to read before signing."""
    if batch.status != BatchStatus.SUBMITTED or not can_review(user, batch.lab_id):
        return []
    own = batch_is_own_work(batch, user)
    mine = ["You made or recorded this batch: another reviewer of the lab releases it."] if own else []
    return mine + [in_words(blocker) for blocker in batch_release_blockers(batch=batch)]


def _returned_reason(batch):
    """The reviewer's words when a draft came back for changes (the latest return, if still a draft)."""
    if batch.status != BatchStatus.DRAFT:
        return None
    events = sorted(batch.events.all(), key=lambda e: (e.at, e.pk))
    lifecycle = [e for e in events if e.kind != BatchEventKind.CHECKED]
    if lifecycle and lifecycle[-1].kind == BatchEventKind.RETURNED:
        return lifecycle[-1]
    return None


def _deviations(user, batch):
    """The batch's standing deviations, each with what this user may do about it."""
    justifier = user_role(user, batch.lab_id) in JUSTIFY_ROLES
    reviewer = can_review(user, batch.lab_id)
    rows = []
    for deviation in (
        Deviation.objects.filter(batch=batch)
        .exclude(status=DeviationStatus.CLOSED)
        .select_related("protocol_version__protocol", "justified_by", "approved_by")
        .order_by("status", "record_type", "record_id", "parameter")
    ):
        is_open = deviation.status == DeviationStatus.OPEN
        rows.append(
            {
                "deviation": deviation,
                "sentence": deviation_sentence(deviation),
                "may_justify": justifier and is_open,
                "may_approve": reviewer
                and is_open
                and bool(deviation.justification.strip())
                and deviation.justified_by_id != user.pk,
                "own_justification": is_open and deviation.justified_by_id == user.pk,
            }
        )
    return rows


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


def _add_lab_choice(form, labs) -> None:
    """The lab a new batch goes to, offered only to someone who records in several labs."""
    if len(labs) < 2:
        return
    field = forms.ModelChoiceField(
        queryset=Lab.objects.filter(pk__in=[lab.pk for lab in labs]).order_by("name"),
        label="Lab",
        help_text="The lab this batch belongs to; its cells, priming and SOPs must be that lab's.",
        empty_label=None,
    )
    field.unit = ""
    form.fields = {"lab": field, **form.fields}


@member_required
def batch_start(request):
    labs = writable_labs(request.user)
    if not labs:
        messages.error(request, "Your role is read-only in every lab you belong to; you cannot log a batch.")
        return redirect("batches:batch-list")
    form = f.BatchStartForm(request.POST or None, user=request.user)
    _add_lab_choice(form, labs)
    if request.method == "POST":
        if request.POST.get("_validate"):
            validate_only(form)
            return validation_response(form)

        def create(data):
            lab = data.pop("lab", None) or labs[0]
            return batch_create(lab=lab, actor=request.user, data=data)

        batch = save_through_service(form, create)
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
            "writable": True,
        },
    )


STEP_FORMS = {
    "start": f.BatchStartForm,
    "production": f.BatchProductionForm,
    "processing": f.ProcessingStepForm,
    "aliquots": f.AliquotSeriesForm,  # several tubes at once, positions picked on the box map
    "qc": f.QCResultForm,
}
# A saved row opens in its own form: one aliquot at a time.
ROW_FORMS = {**STEP_FORMS, "aliquots": f.AliquotForm}
ROW_MODELS = {"processing": m.ProcessingStep, "aliquots": m.Aliquot, "qc": m.QCResult}
ROW_NAMES = {"processing": "processing step", "aliquots": "aliquot", "qc": "QC result"}


def _ask_reason(form, *, label: str = "Reason for the change") -> None:
    """A change after submission (or a correction of a verified result) says why; the reason goes to the service."""
    field = forms.CharField(label=label, help_text=REASON_HELP, widget=forms.Textarea(attrs={"rows": 2}))
    field.unit = ""
    form.fields["reason"] = field


def _pop_reason(data: dict) -> str | None:
    return (data.pop("reason", "") or "").strip() or None


def _is_htmx(request) -> bool:
    return request.headers.get("HX-Request") == "true"


@member_required
def batch_step(request, pk: int, step: str):
    batch = _batch(request.user, pk)
    if step not in dict(FLOW_STEPS):
        raise Http404("No such step.")
    is_batch_form = step in ("start", "production")
    writable = can_write(request.user, batch.lab_id) and batch.status in EDITABLE_STATUSES
    saved = None
    if request.method == "POST":
        require_write(request.user, batch.lab_id)
        if not writable:
            messages.error(request, f"Batch {batch.code} is {batch.get_status_display().lower()}; it cannot change.")
            return redirect("batches:batch-detail", batch.pk)
        form = STEP_FORMS[step](request.POST, instance=batch if is_batch_form else None, user=request.user)
        if batch.status == BatchStatus.SUBMITTED:
            _ask_reason(form)
        if request.POST.get("_validate"):
            validate_only(form)
            return validation_response(form)
        saved = save_through_service(form, lambda data: _write_step(request, batch, step, data, form))
        if saved is not None and not (_is_htmx(request) and not is_batch_form):
            messages.success(request, _saved_message(step, saved))
            next_step = _next_step(step) if is_batch_form else step
            return redirect("batches:batch-step", batch.pk, next_step)
        if saved is not None:
            batch = _batch(request.user, pk)
            form = _blank_step_form(batch, step, request.user)
    else:
        form = _blank_step_form(batch, step, request.user)
    context = {
        "form": form,
        "batch": batch,
        "heading": f"{batch.code}: {dict(FLOW_STEPS)[step]}",
        "steps": FLOW_STEPS,
        "current_step": step,
        "version": batch.version if is_batch_form else None,
        "rows": _rows_for(batch, step),
        "writable": writable,
        "amending": writable and batch.status == BatchStatus.SUBMITTED,
        "is_batch_form": is_batch_form,
        "next_step": _next_step(step),
        "submit_label": "Save and continue" if is_batch_form else "Add",
        "just_saved": _saved_message(step, saved) if saved is not None else "",
        "open_deviations": Deviation.objects.filter(batch=batch, status=DeviationStatus.OPEN).count(),
    }
    if _is_htmx(request) and not is_batch_form and request.method == "POST":
        response = render(request, "batches/_step_work.html", context)
        response["HX-Trigger"] = "checklist-changed"
        return response
    evaluation, todo = _checklist_context(batch)
    return render(request, "batches/batch_step.html", {**context, "checklist": evaluation, "todo": todo})


def _blank_step_form(batch, step: str, user):
    is_batch_form = step in ("start", "production")
    form = STEP_FORMS[step](instance=batch if is_batch_form else None, initial=_initial_for(batch, step), user=user)
    if batch.status == BatchStatus.SUBMITTED and can_write(user, batch.lab_id):
        _ask_reason(form)
    return form


@member_required
def batch_row(request, step: str, row: int):
    """One processing step, aliquot or QC result of a batch, in full: edited while the batch is a draft,
    amended with a reason once submitted; a verified QC result is corrected by a new version, with a reason."""
    if step not in ROW_MODELS:
        raise Http404("No such kind of row.")
    obj = get_scoped_or_404(ROW_MODELS[step].objects.all(), request.user, pk=row)
    batch = _batch(request.user, obj.batch_id)
    writable, correcting, locked_note = _row_rules(request.user, batch, step, obj)
    form = ROW_FORMS[step](request.POST or None, instance=obj, user=request.user)
    if writable and (batch.status == BatchStatus.SUBMITTED or correcting):
        _ask_reason(form, label="Reason for the correction" if correcting else "Reason for the change")

    def write(data, version):
        return _write_row(request.user, step, obj, data, version=version, correcting=correcting)

    def saved(row):
        if correcting:
            message = f"QC result {row} recorded as a correction; it waits for review."
        else:
            message = f"{ROW_NAMES[step].capitalize()} {row} saved."
        return message, reverse("batches:batch-step", args=[batch.pk, step])

    return edit_page(
        request,
        form,
        instance=obj,
        write=write,
        saved=saved,
        writable=writable,
        locked_note=locked_note,
        context={
            "batch": batch,
            "heading": f"{batch.code}: {ROW_NAMES[step]} {obj}",
            "steps": FLOW_STEPS,
            "current_step": step,
            "read_only_note": locked_note,
            "note": _row_note(batch, correcting) if writable else "",
            "submit_label": "Save as a correction" if correcting else "Save",
            "cancel_url": reverse("batches:batch-step", args=[batch.pk, step]),
        },
    )


def _row_note(batch, correcting: bool) -> str:
    if correcting:
        return (
            "This QC result is verified and never changes: saving records a corrected result, which the PI "
            "reviews again; the verified one stays in the history as superseded."
        )
    if batch.status == BatchStatus.SUBMITTED:
        return f"Batch {batch.code} is submitted for review: say why you change this, the reason stays in its history."
    return ""


def _row_rules(user, batch, step: str, obj) -> tuple[bool, bool, str]:
    """(may change it, is that a correction by a new version, why not) for this user and row."""
    if not can_write(user, batch.lab_id):
        return False, False, "Your role in this lab is read-only."
    if batch.status not in EDITABLE_STATUSES:
        return (
            False,
            False,
            (f"Batch {batch.code} is {batch.get_status_display().lower()}; its records no longer change."),
        )
    if step == "qc":
        if obj.status == "verified":
            return True, True, ""
        if obj.status != "recorded":
            return False, False, f"This QC result is {obj.get_status_display().lower()}; it no longer changes."
    return True, False, ""


def _write_row(actor, step: str, obj, data: dict, *, version: int, correcting: bool):
    reason = _pop_reason(data)
    if step == "processing":
        return processing_step_update(step=obj, actor=actor, data=data, version=version, reason=reason)
    if step == "aliquots":
        return record_update(instance=obj, actor=actor, data=data, version=version, reason=reason)
    if correcting:
        return qc_result_correct(result=obj, actor=actor, data=data, reason=reason or "")
    return qc_result_update(result=obj, actor=actor, data=data, version=version, reason=reason)


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


# What the next aliquot or QC result most likely shares with the one before (the technician changes the rest).
ALIQUOT_CARRIED = ("volume_ul", "container", "container_details", "buffer", "buffer_details", "state")
ALIQUOT_CARRIED += ("temperature_c", "location", "stored_at", "freeze_thaw_count", "protocol_version")
QC_CARRIED = ("sample", "performed_on", "protocol_version")


def _initial_for(batch, step: str) -> dict:
    if step == "processing":
        return {"order": batch.processing_steps.count() + 1}
    if step == "aliquots":
        initial = {"code": _next_aliquot_code(batch)}
        last = batch.aliquots.order_by("-created_at", "-pk").first()
        if last is not None:
            initial |= {name: getattr(last, name) for name in ALIQUOT_CARRIED}
            initial["location"] = last.location_id
            initial["protocol_version"] = last.protocol_version_id
        return initial
    if step == "qc":
        last = batch.qc_results.order_by("-created_at", "-pk").first()
        if last is None:
            return {"assay": "", "sample": "product"}
        return {
            "assay": "",
            "sample": last.sample,
            "performed_on": last.performed_on,
            "protocol_version": last.protocol_version_id,
        }
    return {}


def _next_aliquot_code(batch) -> str:
    taken = set(m.Aliquot.objects.filter(lab_id=batch.lab_id).values_list("code", flat=True))
    number = batch.aliquots.count() + 1
    while f"{batch.code}-A{number:02d}" in taken:
        number += 1
    return f"{batch.code}-A{number:02d}"


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
    reason = _pop_reason(data)
    if step in ("start", "production"):
        return batch_update(batch=batch, actor=actor, data=data, version=posted_version(request), reason=reason)
    if step == "processing":
        return processing_step_create(lab=batch.lab, actor=actor, data={**data, "batch": batch}, reason=reason)
    if step == "aliquots":
        count, positions = form.cleaned_data["count"], form.cleaned_data["positions"]
        return aliquot_series_create(
            batch=batch, actor=actor, data=data, count=count, positions=positions, reason=reason
        )
    return qc_result_record(
        lab=batch.lab, actor=actor, data={**data, "batch": batch, "performed_by": actor}, reason=reason
    )


@member_required
def batch_checklist_panel(request, pk: int):
    batch = _batch(request.user, pk)
    evaluation, todo = _checklist_context(batch)
    return render(request, "batches/_checklist_panel.html", {"evaluation": evaluation, "todo": todo, "batch": batch})


@member_required
def batch_submit_check(request, pk: int):
    """Before submitting: what the checklist still misses and which deviations are open; then confirm."""
    batch = _batch(request.user, pk)
    may_submit = can_write(request.user, batch.lab_id) and batch.status == BatchStatus.DRAFT
    if request.method == "POST":
        if not may_submit:
            messages.error(
                request, f"Batch {batch.code} is {batch.get_status_display().lower()}; it is not submitted again."
            )
            return redirect("batches:batch-detail", batch.pk)
        if not request.POST.get("confirm"):
            messages.error(request, "Tick the confirmation to submit the batch.")
            return redirect("batches:batch-submit", batch.pk)
        try:
            batch_submit(batch=batch, actor=request.user)
        except (ValidationError, PermissionDenied) as error:
            _report(request, error)
            return redirect("batches:batch-submit", batch.pk)
        messages.success(request, f"Batch {batch.code} submitted for review.")
        return redirect("batches:batch-detail", batch.pk)
    evaluation, todo = _checklist_context(batch)
    required = [entry for entry in todo if entry["item"].blocks_release]
    others = [entry for entry in todo if not entry["item"].blocks_release]
    standing = _deviations(request.user, batch)
    return render(
        request,
        "batches/batch_submit.html",
        {
            "batch": batch,
            "evaluation": evaluation,
            "required": required,
            "others": others,
            "open_deviations": [row for row in standing if row["deviation"].status == DeviationStatus.OPEN],
            "may_submit": may_submit,
            "unverified": batch.qc_results.filter(status="recorded").count(),
        },
    )


def _report(request, error) -> None:
    if isinstance(error, ValidationError):
        for message in error.messages:
            messages.error(request, message)
    else:
        messages.error(request, str(error))


@require_POST
@member_required
def deviation_action(request, pk: int, action: str):
    """Justify a deviation (who records) or approve it (a reviewer who did not justify it)."""
    deviation = get_scoped_or_404(Deviation.objects.all(), request.user, pk=pk)
    batch = _batch(request.user, deviation.batch_id)
    try:
        if action == "justify":
            deviations.deviation_justify(
                deviation=deviation, actor=request.user, justification=request.POST.get("justification", "")
            )
            messages.success(request, "Justification saved; a reviewer approves the deviation.")
        elif action == "approve":
            deviations.deviation_approve(deviation=deviation, actor=request.user)
            messages.success(request, "Deviation approved.")
        else:
            raise Http404("No such action.")
    except (ValidationError, PermissionDenied) as error:
        _report(request, error)
    return redirect(reverse("batches:batch-detail", args=[batch.pk]) + "#deviations")


@require_POST
@member_required
def batch_action(request, pk: int, action: str):
    batch = _batch(request.user, pk)
    try:
        if action == "submit":
            return batch_submit_check(request, pk)
        if action == "release":
            _release(request, batch)
        elif action == "reject":
            signed_reject(request, batch)
        elif action == "return":
            batch_return_for_changes(batch=batch, actor=request.user, reason=request.POST.get("reason", ""))
            messages.success(request, f"Batch {batch.code} returned to the technician for changes.")
        else:
            raise Http404("No such action.")
    except ReleaseRefused as refused:
        messages.error(request, release_refused_summary(refused.blockers))
    except ValidationError as error:
        for message in error.messages:
            messages.error(request, message)
    except (PermissionDenied, RecordLocked) as denied:
        messages.error(request, str(denied))
    return redirect(request.POST.get("next") or reverse("batches:batch-detail", args=[batch.pk]))


def _release(request, batch):
    signed_release(request, batch)
