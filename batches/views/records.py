"""Lists and forms for donors, cell lines (with phenotype and differentiation), passages and priming conditions."""

from dataclasses import dataclass, field

from django.contrib import messages
from django.db.models import Q
from django.http import Http404
from django.shortcuts import redirect, render
from django.urls import reverse

from batches import forms as f
from batches import models as m
from batches.services.records import priming_create, priming_update, record_create, record_update
from batches.views.forms import edit_page, posted_version, save_through_service, validate_only, validation_response
from lims.web import can_write, default_lab, get_scoped_or_404, may_create, member_required, require_write, scoped


@dataclass(frozen=True)
class RecordKind:
    slug: str
    model: type
    form: type
    singular: str
    plural: str
    columns: list[tuple[str, str]]
    search: tuple[str, ...]
    related: tuple[str, ...] = ()
    children: list[tuple[str, type, type, str]] = field(default_factory=list)


KINDS = {
    kind.slug: kind
    for kind in (
        RecordKind(
            "donors",
            m.Donor,
            f.DonorForm,
            "donor",
            "Donors",
            [
                ("Code", "code"),
                ("Species", "get_species_display"),
                ("Tissue", "get_tissue_source_display"),
                ("Sex", "get_sex_display"),
                ("Age (years)", "age_years"),
                ("Donors", "n_donors"),
            ],
            ("code", "anatomical_site", "supplier"),
        ),
        RecordKind(
            "cell-lines",
            m.CellLine,
            f.CellLineForm,
            "cell line",
            "Cell lines",
            [
                ("Code", "code"),
                ("Donor", "donor"),
                ("Isolation", "get_isolation_method_display"),
                ("Supplement", "get_supplement_display"),
                ("Format", "get_culture_format_display"),
            ],
            ("code", "donor__code"),
            ("donor",),
            [
                ("Immunophenotype", m.Immunophenotype, f.ImmunophenotypeForm, "cell_line"),
                ("Differentiation", m.Differentiation, f.DifferentiationForm, "cell_line"),
            ],
        ),
        RecordKind(
            "passages",
            m.Passage,
            f.PassageForm,
            "passage",
            "Passages",
            [
                ("Passage", "__str__"),
                ("Seeded", "started_on"),
                ("Harvested", "harvested_on"),
                ("Cells seeded", "cells_seeded"),
                ("Cells harvested", "cells_harvested"),
                ("PD", "population_doublings"),
                ("Cumulative PD", "cumulative_population_doublings"),
            ],
            ("cell_line__code",),
            ("cell_line", "parent"),
        ),
        RecordKind(
            "primings",
            m.PrimingCondition,
            f.PrimingForm,
            "priming condition",
            "Priming conditions",
            [("Name", "name"), ("Kind", "get_kind_display"), ("O₂ (%)", "o2_percent"), ("Duration (h)", "duration_h")],
            ("name",),
            (),
            [("Agents", m.PrimingAgent, f.PrimingAgentForm, "priming")],
        ),
    )
}


def _kind(slug: str) -> RecordKind:
    if slug not in KINDS:
        raise Http404("No such kind of record.")
    return KINDS[slug]


def _cell(obj, attr: str):
    value = getattr(obj, attr)
    value = value() if callable(value) else value
    if isinstance(value, float):
        return {"value": f"{value:.2f}" if attr.endswith("doublings") else f"{value:g}", "num": True}
    return {"value": value, "num": isinstance(value, int)}


@member_required
def record_list(request, kind: str):
    spec = _kind(kind)
    queryset = scoped(spec.model.objects.select_related(*spec.related), request.user)
    q = request.GET.get("q", "").strip()
    if q:
        condition = Q()
        for path in spec.search:
            condition |= Q(**{f"{path}__icontains": q})
        queryset = queryset.filter(condition)
    rows = [
        {
            "cells": [_cell(obj, attr) for _, attr in spec.columns],
            "url": reverse("batches:record-edit", args=[kind, obj.pk]),
        }
        for obj in queryset[:500]
    ]
    return render(
        request,
        "batches/record_list.html",
        {
            "kind": kind,
            "plural": spec.plural,
            "singular": spec.singular,
            "columns": [c for c, _ in spec.columns],
            "rows": rows,
            "q": q,
            "can_create": may_create(request.user),
        },
    )


@member_required
def record_create_view(request, kind: str):
    spec = _kind(kind)
    lab = default_lab(request.user)
    form = spec.form(request.POST or None, user=request.user)
    if request.method == "POST":
        if request.POST.get("_validate"):
            validate_only(form, lambda data: spec.model(lab=lab, **data))
            return validation_response(form)
        if kind == "primings":
            saved = save_through_service(
                form, lambda data: priming_create(lab=lab, actor=request.user, data=data, agents=None)
            )
        else:
            saved = save_through_service(
                form, lambda data: record_create(model=spec.model, lab=lab, actor=request.user, data=data)
            )
        if saved is not None:
            messages.success(request, f"{spec.singular.capitalize()} {saved} recorded.")
            return redirect("batches:record-edit", kind, saved.pk)
    return render(
        request,
        "batches/record_detail.html",
        {
            "form": form,
            "heading": f"New {spec.singular}",
            "cancel_url": reverse("batches:record-list", args=[kind]),
            "version": None,
            "kind": kind,
            "obj": None,
            "children": [],
            "writable": True,
        },
    )


@member_required
def record_edit_view(request, kind: str, pk: int):
    spec = _kind(kind)
    obj = get_scoped_or_404(spec.model.objects.all(), request.user, pk=pk)
    writable = can_write(request.user, obj.lab_id)
    form = spec.form(
        request.POST or None, instance=obj if not request.POST else spec.model.objects.get(pk=pk), user=request.user
    )
    if request.method == "POST":
        require_write(request.user, obj.lab_id)
        if request.POST.get("_validate"):
            validate_only(form)
            return validation_response(form)
        version = posted_version(request)
        if kind == "primings":
            saved = save_through_service(
                form,
                lambda data: priming_update(priming=obj, actor=request.user, data=data, version=version, agents=None),
            )
        else:
            saved = save_through_service(
                form, lambda data: record_update(instance=obj, actor=request.user, data=data, version=version)
            )
        if saved is not None:
            messages.success(request, f"{spec.singular.capitalize()} {saved} saved.")
            return redirect("batches:record-edit", kind, saved.pk)
    if not writable:
        for field in form.fields.values():
            field.disabled = True
    children = [
        {
            "title": title,
            "rows": [
                (row, reverse("batches:record-child-edit", args=[kind, pk, model.__name__.lower(), row.pk]))
                for row in model.objects.filter(**{parent_field: obj})
            ],
            "form": child_form(user=request.user, auto_id=f"id_{model.__name__.lower()}_%s"),
            "url": reverse("batches:record-child", args=[kind, pk, model.__name__.lower()]),
        }
        for title, model, child_form, parent_field in spec.children
    ]
    return render(
        request,
        "batches/record_detail.html",
        {
            "form": form,
            "heading": f"{spec.singular.capitalize()} {obj}",
            "obj": obj,
            "kind": kind,
            "version": obj.version,
            "children": children,
            "writable": writable,
            "cancel_url": reverse("batches:record-list", args=[kind]),
        },
    )


@member_required
def record_child_create(request, kind: str, pk: int, child: str):
    spec = _kind(kind)
    parent = get_scoped_or_404(spec.model.objects.all(), request.user, pk=pk)
    require_write(request.user, parent.lab_id)
    matches = [c for c in spec.children if c[1].__name__.lower() == child]
    if not matches or request.method != "POST":
        raise Http404("Nothing to add here.")
    title, model, child_form, parent_field = matches[0]
    form = child_form(request.POST, user=request.user)
    saved = save_through_service(
        form,
        lambda data: record_create(
            model=model, lab=parent.lab, actor=request.user, data={**data, parent_field: parent}
        ),
    )
    if saved is None:
        for error in [
            *form.non_field_errors(),
            *(f"{n}: {'; '.join(e)}" for n, e in form.errors.items() if n != "__all__"),
        ]:
            messages.error(request, f"{title}: {error}")
    else:
        messages.success(request, f"{title}: {saved} added.")
    return redirect("batches:record-edit", kind, pk)


@member_required
def record_child_edit(request, kind: str, pk: int, child: str, child_pk: int):
    """One row of a record (an agent of a priming condition, a phenotype of a cell line), in full."""
    spec = _kind(kind)
    parent = get_scoped_or_404(spec.model.objects.all(), request.user, pk=pk)
    matches = [c for c in spec.children if c[1].__name__.lower() == child]
    if not matches:
        raise Http404("No such row.")
    title, model, child_form, parent_field = matches[0]
    row = get_scoped_or_404(model.objects.all(), request.user, pk=child_pk, **{parent_field: parent})
    form = child_form(request.POST or None, instance=row, user=request.user)
    return edit_page(
        request,
        form,
        instance=row,
        write=lambda data, version: record_update(instance=row, actor=request.user, data=data, version=version),
        saved=lambda saved: (f"{title}: {saved} saved.", reverse("batches:record-edit", args=[kind, pk])),
        context={
            "heading": f"{spec.singular.capitalize()} {parent}: {title.lower()} {row}",
            "cancel_url": reverse("batches:record-edit", args=[kind, pk]),
        },
    )
