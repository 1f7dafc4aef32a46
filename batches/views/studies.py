"""Studies: design, groups, administrations of batches, outcome measures, their checklist, methods export.

An author creates the study and adds its groups, administrations (regular or irregular schedules) and
outcome measures here; every write goes through the record services."""

from django.contrib import messages
from django.db.models import Prefetch
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from batches import forms as f
from batches import models as m
from batches.selectors import checklist_current_evaluations
from batches.services.records import administration_create, record_create, record_update
from batches.views.forms import edit_page, posted_version, save_through_service, validate_only, validation_response
from lims.web import can_write, get_scoped_or_404, may_create, member_required, require_write, scoped, writable_labs


def _study(user, pk: int) -> m.Study:
    return get_scoped_or_404(
        m.Study.objects.prefetch_related(
            Prefetch(
                "administrations",
                queryset=m.Administration.objects.select_related("batch", "aliquot", "received_aliquot"),
            ),
            "outcome_measures",
        ),
        user,
        pk=pk,
    )


@member_required
def study_list(request):
    studies = scoped(m.Study.objects.all(), request.user).prefetch_related("administrations").order_by("-created_at")
    return render(request, "batches/study_list.html", {"studies": studies, "can_create": may_create(request.user)})


def _part_forms(request, study, bound: dict | None = None) -> dict:
    bound = bound or {}
    return {
        "group_form": bound.get("group") or f.StudyGroupForm(auto_id="id_group_%s"),
        "administration_form": bound.get("administration")
        or f.AdministrationForm(user=request.user, study=study, auto_id="id_administration_%s"),
        "outcome_form": bound.get("outcome") or f.OutcomeMeasureForm(user=request.user, auto_id="id_outcome_%s"),
    }


@member_required
def study_detail(request, pk: int, bound: dict | None = None):
    study = _study(request.user, pk)
    evaluation = checklist_current_evaluations(study_ids=[study.pk])[1][study.pk]
    writable = can_write(request.user, study.lab_id)
    return render(
        request,
        "batches/study_detail.html",
        {
            "study": study,
            "evaluation": evaluation,
            "todo": [
                {"item": item, "url": _fill_url(study, item) if writable else ""}
                for item in evaluation.items
                if item.status in ("missing", "invalid")
            ],
            "writable": writable,
            **(_part_forms(request, study, bound) if writable else {}),
        },
    )


def _fill_url(study, item) -> str:
    """Where an author fills in what a study checklist item misses."""
    name = (item.field or "").split(".")[-1]
    if name in f.StudyForm.base_fields:
        return reverse("batches:study-edit", args=[study.pk]) + f"#field-{name}"
    detail = reverse("batches:study-detail", args=[study.pk])
    if "outcome" in item.item_id or "outcome" in (item.entity or ""):
        return detail + "#outcomes"
    if item.subject or "administration" in (item.entity or ""):
        return detail + "#administrations"
    if name == "groups":
        return detail + "#groups"
    return ""


@member_required
def study_create(request):
    labs = writable_labs(request.user)
    if not labs:
        messages.error(request, "Your role is read-only in every lab you belong to; you cannot add a study.")
        return redirect("batches:study-list")
    form = f.StudyForm(request.POST or None, user=request.user)
    if request.method == "POST":
        if request.POST.get("_validate"):
            validate_only(form)
            return validation_response(form)
        study = save_through_service(
            form, lambda data: record_create(model=m.Study, lab=labs[0], actor=request.user, data=data)
        )
        if study is not None:
            messages.success(request, f"Study “{study}” created. Next: its groups, administrations and outcomes.")
            return redirect("batches:study-detail", study.pk)
    return render(
        request,
        "batches/record_form.html",
        {
            "form": form,
            "heading": "New study",
            "submit_label": "Create the study",
            "cancel_url": reverse("batches:study-list"),
            "version": None,
            "writable": True,
        },
    )


@member_required
def study_edit(request, pk: int):
    study = _study(request.user, pk)
    form = f.StudyForm(request.POST or None, instance=study, user=request.user)
    return edit_page(
        request,
        form,
        instance=study,
        write=lambda data, version: record_update(instance=study, actor=request.user, data=data, version=version),
        saved=lambda saved: ("Study design saved.", reverse("batches:study-detail", args=[study.pk])),
        context={"heading": f"Study design: {study}", "cancel_url": reverse("batches:study-detail", args=[study.pk])},
    )


@require_POST
@member_required
def study_part_add(request, pk: int, part: str):
    """Add a group, an administration or an outcome measure to the study."""
    study = _study(request.user, pk)
    require_write(request.user, study.lab_id)
    if part == "group":
        form = f.StudyGroupForm(request.POST, auto_id="id_group_%s")
        saved = save_through_service(form, lambda data: _add_group(request, study, data))
        done = "Group {name} added."
    elif part == "administration":
        form = f.AdministrationForm(request.POST, user=request.user, study=study, auto_id="id_administration_%s")
        saved = save_through_service(
            form,
            lambda data: administration_create(lab=study.lab, actor=request.user, data={**data, "study": study}),
        )
        done = "Administration added."
    elif part == "outcome":
        form = f.OutcomeMeasureForm(request.POST, user=request.user, auto_id="id_outcome_%s")
        saved = save_through_service(
            form,
            lambda data: record_create(
                model=m.OutcomeMeasure, lab=study.lab, actor=request.user, data={**data, "study": study}
            ),
        )
        done = "Outcome measure added."
    else:
        raise Http404("Nothing to add here.")
    if saved is None:
        messages.error(request, "Not saved: see the highlighted fields.")
        return study_detail(request, study.pk, bound={part: form})
    messages.success(request, done.format(name=form.cleaned_data.get("name", "")))
    return redirect(reverse("batches:study-detail", args=[study.pk]) + f"#{part}s")


def _add_group(request, study, data):
    groups = [dict(g) for g in (study.groups or []) if isinstance(g, dict)]
    if any(g.get("name") == data["name"] for g in groups):
        from django.core.exceptions import ValidationError

        raise ValidationError({"name": ["The study already has a group with this name."]})
    return record_update(
        instance=study,
        actor=request.user,
        data={"groups": [*groups, {"name": data["name"], "role": data["role"]}]},
        version=posted_version(request),
    )
