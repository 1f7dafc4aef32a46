"""Read-only admin pages for the quality unit: audit trail, signatures, sign-in attempts, chain seals.

The admin is a lab administrator's tool (lims.admin_base): lab administrators read the audit trail
and the signatures of the labs they administer, and see (and can lift) sign-in lockouts of those labs'
members; superusers see everything. Nothing here can be added, changed or deleted.
"""

from django import forms
from django.apps import apps
from django.contrib import admin, messages
from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse
from django.template.response import TemplateResponse
from django.utils import timezone

from lims.admin_base import LimsAdmin
from lims.audit_chain import AuditSeal, AuditTrail
from lims.audit_views import AuditFilterForm
from lims.models import Lab, Membership, Role
from lims.selectors.audit_trail import (
    audit_trail_csv,
    audit_trail_for_batch,
    audit_trail_for_lab,
)
from lims.services.sign_in import sign_in_locked_until, sign_in_unlock
from lims.sign_in import SignInAttempt
from lims.signatures import Signature

AUDIT_ROLES = {Role.LAB_ADMIN}


def _labs_with_role(user, roles) -> list[int]:
    if not user.is_active:
        return []
    return list(Membership.objects.filter(user=user, role__in=roles).values_list("lab_id", flat=True))


class ReadOnlyAdmin(LimsAdmin):
    roles: set[str] = AUDIT_ROLES


@admin.register(Signature)
class SignatureAdmin(ReadOnlyAdmin):
    list_display = ("signed_at", "printed_name", "username", "meaning", "content_type", "object_id", "lab")
    list_filter = ("meaning", "content_type", "lab")
    search_fields = ("username", "printed_name", "record_hash")
    date_hierarchy = "signed_at"

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("content_type", "lab")


@admin.register(SignInAttempt)
class SignInAttemptAdmin(ReadOnlyAdmin):
    roles = {Role.LAB_ADMIN}
    list_display = ("at", "username", "outcome", "channel", "ip_address", "locked_now")
    list_filter = ("outcome", "channel")
    search_fields = ("username", "ip_address")
    date_hierarchy = "at"
    actions = ["unlock_accounts"]

    def scope(self, request, queryset):
        if request.user.is_superuser:
            return queryset
        members = Membership.objects.filter(lab_id__in=self.admin_lab_ids(request)).values("user_id")
        return queryset.filter(user_id__in=members)

    @admin.display(description="locked now")
    def locked_now(self, attempt) -> str:
        if attempt.user_id is None:
            return ""
        until = sign_in_locked_until(user=get_user_model()(pk=attempt.user_id))
        return f"until {timezone.localtime(until):%H:%M}" if until else ""

    def get_actions(self, request):
        # Django offers actions only to users with change permission; unlocking is a lab admin's own right.
        actions = super().get_actions(request)
        if self.has_view_permission(request):
            actions["unlock_accounts"] = self.get_action("unlock_accounts")
        return actions

    @admin.action(description="Unlock the accounts of the selected attempts")
    def unlock_accounts(self, request, queryset):
        users = get_user_model().objects.filter(pk__in=queryset.values("user_id"))
        unlocked = 0
        for user in users:
            if sign_in_locked_until(user=user) is None:
                continue
            sign_in_unlock(user=user, actor=request.user)
            unlocked += 1
        self.message_user(request, f"Unlocked {unlocked} account(s).", messages.SUCCESS)


@admin.register(AuditSeal)
class AuditSealAdmin(ReadOnlyAdmin):
    """The chain itself: hashes, no lab data. Superusers only; auditors use the trail and verify_audit."""

    lab_field = None
    list_display = ("seq", "table_name", "row_key", "event_at", "chain_hash")
    list_filter = ("table_name",)
    search_fields = ("row_key", "chain_hash")

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser


class AuditTrailForm(AuditFilterForm):
    """The app's trail filters, plus the lab and a batch code (the admin reads any lab it administers)."""

    lab = forms.ModelChoiceField(queryset=Lab.objects.none())
    batch = forms.CharField(required=False, help_text="Batch code: the batch and every row hanging off it.")

    def __init__(self, *args, labs, **kwargs):
        super().__init__(*args, lab_ids=labs, **kwargs)
        self.fields["lab"].queryset = Lab.objects.filter(pk__in=labs)
        self.order_fields(["lab", "batch"])

    def clean(self):
        data = super().clean()
        code = data.get("batch")
        if code and data.get("lab"):
            batches = apps.get_model("batches", "SecretomeBatch")  # by name: lims imports no app

            data["batch_obj"] = batches.objects.filter(lab=data["lab"], code=code).first()
            if data["batch_obj"] is None:
                self.add_error("batch", f"No batch {code} in {data['lab']}.")
        return data


@admin.register(AuditTrail)
class AuditTrailAdmin(ReadOnlyAdmin):
    lab_field = None  # the page below reads the trail per lab; no seal row opens on its own

    def changelist_view(self, request, extra_context=None):
        if not self.has_view_permission(request):
            raise PermissionDenied
        labs = (
            list(Lab.objects.values_list("pk", flat=True))
            if request.user.is_superuser
            else _labs_with_role(request.user, self.roles)
        )
        form = AuditTrailForm(request.GET or None, labs=labs)
        rows = []
        if form.is_bound and form.is_valid():
            data = form.cleaned_data
            if data.get("batch_obj") is not None:
                rows = audit_trail_for_batch(batch=data["batch_obj"], filters=form.filters())
            else:
                rows = audit_trail_for_lab(lab=data["lab"], filters=form.filters())
            if request.GET.get("format") == "csv":
                response = HttpResponse(audit_trail_csv(rows), content_type="text/csv; charset=utf-8")
                response["Content-Disposition"] = 'attachment; filename="audit-trail.csv"'
                return response
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "Audit trail",
            "form": form,
            "rows": rows,
            "csv_query": request.GET.urlencode(),
            **(extra_context or {}),
        }
        return TemplateResponse(request, "admin/lims/audit_trail.html", context)
