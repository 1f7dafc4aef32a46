"""The audit trail in the app: every member (auditors above all) reads their lab's trail, filters it, downloads it.

The Django admin is a lab administrator's tool; an auditor reads the trail here. A batch's own trail (the
batch and every row hanging off it) is the same page, reached from the batch page (batches.views.audit).
"""

import datetime as dt

from django import forms
from django.contrib.auth import get_user_model
from django.http import HttpResponse
from django.shortcuts import render

from lims.models import Lab
from lims.selectors.audit_trail import (
    AuditEntry,
    AuditTrailFilters,
    audit_trail_csv,
    audit_trail_for_lab,
    tracked_models,
)
from lims.web import member_required, user_lab_id_list


class PersonChoiceField(forms.ModelChoiceField):
    """A member by their name, with the login beside it ("Priya Iyer (pi)")."""

    def label_from_instance(self, obj):
        name = obj.get_full_name()
        return f"{name} ({obj.username})" if name else obj.username


class AuditFilterForm(forms.Form):
    """Who, what kind of record, and when; every filter may be left empty."""

    user = PersonChoiceField(queryset=get_user_model().objects.none(), required=False, label="Who")
    model = forms.ChoiceField(required=False, label="Kind of record")
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="From")
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}), label="To")
    limit = forms.IntegerField(required=False, min_value=1, max_value=100_000, initial=500, label="At most")

    def __init__(self, *args, lab_ids, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["user"].queryset = (
            get_user_model()
            .objects.filter(memberships__lab_id__in=lab_ids)
            .distinct()
            .order_by("first_name", "last_name", "username")
        )
        labels = {label: model.pgh_tracked_model._meta.verbose_name for label, model in tracked_models().items()}
        self.fields["model"].choices = [
            ("", "every kind"),
            *sorted(((label, str(name).capitalize()) for label, name in labels.items()), key=lambda c: c[1]),
        ]

    def filters(self) -> AuditTrailFilters:
        data = self.cleaned_data if self.is_bound and self.is_valid() else {}
        day = dt.timedelta(days=1)
        return AuditTrailFilters(
            user_id=data["user"].pk if data.get("user") else None,
            models=(data["model"],) if data.get("model") else (),
            since=dt.datetime.combine(data["since"], dt.time.min, dt.UTC) if data.get("since") else None,
            until=dt.datetime.combine(data["until"] + day, dt.time.min, dt.UTC) if data.get("until") else None,
            limit=data.get("limit") or 500,
        )


class LabAuditFilterForm(AuditFilterForm):
    lab = forms.ModelChoiceField(queryset=Lab.objects.none(), required=False, empty_label=None)

    def __init__(self, *args, lab_ids, **kwargs):
        super().__init__(*args, lab_ids=lab_ids, **kwargs)
        self.fields["lab"].queryset = Lab.objects.filter(pk__in=lab_ids)
        self.order_fields(["lab"])

    def chosen_lab(self) -> Lab:
        chosen = self.cleaned_data.get("lab") if self.is_bound and self.is_valid() else None
        return chosen or self.fields["lab"].queryset.first()


def audit_trail_response(request, *, heading: str, form: AuditFilterForm, rows: list[AuditEntry], filename: str):
    """The trail as a page, or as CSV when `?format=csv` (the same rows, every column)."""
    if request.GET.get("format") == "csv":
        response = HttpResponse(audit_trail_csv(rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response
    query = request.GET.copy()
    query["format"] = "csv"
    return render(
        request,
        "lims/audit_trail.html",
        {"heading": heading, "form": form, "rows": rows, "csv_query": query.urlencode()},
    )


@member_required
def lab_audit_trail(request):
    lab_ids = user_lab_id_list(request.user)
    form = LabAuditFilterForm(request.GET or None, lab_ids=lab_ids)
    lab = form.chosen_lab()
    rows = audit_trail_for_lab(lab=lab, filters=form.filters()) if not form.errors else []
    return audit_trail_response(
        request, heading=f"Audit trail of {lab}", form=form, rows=rows, filename=f"audit-trail-{lab.slug}.csv"
    )
