"""The Django admin follows the roles (DESIGN.md, "Who may do what").

The admin is an administrator's tool: lab administrators (for the labs they administer) and superusers
open it; technicians, reviewers and auditors do not, whatever their `is_staff` flag or Django
permissions say. Lab records are read-only here: changes go through the app and the API, which run the
one write path; admin actions call the services. Every page, filter sidebar, autocomplete answer and
history page shows the rows of the user's administered labs only. A model admin that is not one of
ours (users, groups, schedules, task results, tokens, raw history events) is for superusers only.
"""

from django.contrib import admin
from django.contrib.admin.filters import AllValuesFieldListFilter, RelatedOnlyFieldListFilter
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.admin.utils import get_fields_from_path
from django.contrib.contenttypes import views as contenttype_views
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db import models
from django.http import Http404
from django.urls import path

from lims.constraints import NEVER_DELETED
from lims.models import Membership, Role

AUDIT_FIELDS = ("created_at", "created_by", "updated_at", "version")


def never_deleted(model) -> bool:
    """The database refuses to delete this model's rows (lab records are voided or retired instead)."""
    return any(getattr(trigger, "name", None) == NEVER_DELETED for trigger in getattr(model._meta, "triggers", []))


def user_lab_ids(user) -> list[int]:
    """Every lab the user belongs to, in any role."""
    return list(Membership.objects.filter(user=user).values_list("lab_id", flat=True))


def administered_lab_ids(user) -> list[int]:
    """The labs whose admin pages the user may open: those where they are lab administrator."""
    if user is None or not user.is_authenticated or not user.is_active:
        return []
    return list(Membership.objects.filter(user=user, role=Role.LAB_ADMIN).values_list("lab_id", flat=True))


def may_use_admin(user) -> bool:
    if user is None or not user.is_authenticated or not user.is_active:
        return False
    return user.is_superuser or bool(administered_lab_ids(user))


class ScopedValuesFilter(AllValuesFieldListFilter):
    """The distinct values of a plain field, read from the admin's own (lab-scoped) rows only.

    Django's own filter reads a related model's values from every row of the installation.
    """

    def __init__(self, field, request, params, model, model_admin, field_path):
        super().__init__(field, request, params, model, model_admin, field_path)
        queryset = model_admin.get_queryset(request)
        self.lookup_choices = (
            queryset.exclude(**{f"{field_path}__isnull": True})
            .order_by(field_path)
            .values_list(field_path, flat=True)
            .distinct()
        )


def scoped_list_filter(model, entry):
    """A filter sidebar entry that cannot list another lab's rows or values."""
    if not isinstance(entry, str):
        return entry
    field = get_fields_from_path(model, entry)[-1]
    if field.is_relation:
        return (entry, RelatedOnlyFieldListFilter)
    if field.choices or isinstance(field, models.BooleanField):
        return entry
    return (entry, ScopedValuesFilter)


class LimsAdmin(admin.ModelAdmin):
    """Base of every admin page of this project: role-gated, lab-scoped, read-only unless it says otherwise."""

    list_per_page = 50
    lab_field = "lab"

    # --- who may see what ----------------------------------------------------------------------
    def admin_lab_ids(self, request) -> list[int]:
        cached = getattr(request, "_lims_admin_labs", None)
        if cached is None:
            cached = administered_lab_ids(request.user)
            request._lims_admin_labs = cached
        return cached

    def scope(self, request, queryset):
        """The rows of the labs the user administers (a model without a lab: none, but for superusers)."""
        if request.user.is_superuser:
            return queryset
        if self.lab_field is None:
            return queryset.none()
        return queryset.filter(**{f"{self.lab_field}__in": self.admin_lab_ids(request)})

    def get_queryset(self, request):
        return self.scope(request, super().get_queryset(request))

    def has_module_permission(self, request):
        return may_use_admin(request.user)

    def has_view_permission(self, request, obj=None):
        if not may_use_admin(request.user):
            return False
        if obj is None or request.user.is_superuser:
            return True
        return self.scope(request, type(obj)._default_manager.filter(pk=obj.pk)).exists()

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    # --- what the pages offer ------------------------------------------------------------------
    def get_list_filter(self, request):
        return [scoped_list_filter(self.model, entry) for entry in super().get_list_filter(request)]

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if field is None or request.user.is_superuser:
            return field
        related = db_field.related_model
        labs = self.admin_lab_ids(request)
        if db_field.name == "lab":
            field.queryset = field.queryset.filter(pk__in=labs)
        elif any(f.name == "lab" for f in related._meta.get_fields()):
            field.queryset = field.queryset.filter(lab_id__in=labs)
        return field


class LabScopedAdmin(LimsAdmin):
    """A lab record: shown read-only to its lab's administrators; changed through the app."""

    readonly_fields = AUDIT_FIELDS
    save_on_top = True


class LabOwnedInline(admin.TabularInline):
    extra = 0
    exclude = ("lab",)
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_view_permission(self, request, obj=None):
        return may_use_admin(request.user)


class SuperuserOnlyAdmin:
    """Mixed into the admins of other apps (users, schedules, task results, tokens, history events)."""

    def get_queryset(self, request):
        # Django reads the object before it checks the permission: for anyone else there is no row at all.
        queryset = super().get_queryset(request)
        return queryset if request.user.is_active and request.user.is_superuser else queryset.none()

    def has_module_permission(self, request):
        return request.user.is_active and request.user.is_superuser

    def has_view_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser

    def has_add_permission(self, request, *args):
        return request.user.is_active and request.user.is_superuser and super().has_add_permission(request, *args)

    def has_change_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser and super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        return request.user.is_active and request.user.is_superuser and super().has_delete_permission(request, obj)


def lock_down_foreign_admins(site) -> None:
    """Every registered admin that is not a LimsAdmin becomes superuser-only (idempotent)."""
    for model, model_admin in list(site._registry.items()):
        if isinstance(model_admin, LimsAdmin | SuperuserOnlyAdmin):
            continue
        locked = type(f"SuperuserOnly{type(model_admin).__name__}", (SuperuserOnlyAdmin, type(model_admin)), {})
        site.unregister(model)
        site.register(model, locked)


class LabAdminAuthenticationForm(AdminAuthenticationForm):
    """The admin's sign-in page admits lab administrators and superusers, not by the `is_staff` flag."""

    def confirm_login_allowed(self, user):
        if not may_use_admin(user):
            raise ValidationError(
                "The admin is for lab administrators. Sign in to the app at / instead.", code="invalid_login"
            )


def install(site) -> None:
    """Gate the site by role and lock down the admins of other apps once every app has registered."""
    site.has_permission = lambda request: may_use_admin(request.user)
    site.login_form = LabAdminAuthenticationForm
    original_get_urls = site.get_urls

    def guarded_view_on_site(request, content_type_id, object_id):
        """The admin's "view on site" redirect, only for a row the user may see in this admin."""
        content_type = ContentType.objects.filter(pk=content_type_id).first()
        model = content_type.model_class() if content_type is not None else None
        model_admin = site._registry.get(model)
        if model_admin is None or not model_admin.has_view_permission(request):
            raise Http404("No such object here.")
        try:
            visible = model_admin.get_queryset(request).filter(pk=object_id).exists()
        except (ValueError, ValidationError):
            visible = False
        if not visible:
            raise Http404("No such object here.")
        return contenttype_views.shortcut(request, content_type_id, object_id)

    def get_urls():
        lock_down_foreign_admins(site)
        urls = original_get_urls()
        for index, pattern in enumerate(urls):
            if getattr(pattern, "name", None) == "view_on_site":
                urls[index] = path(
                    "r/<int:content_type_id>/<path:object_id>/",
                    site.admin_view(guarded_view_on_site),
                    name="view_on_site",
                )
        return urls

    site.get_urls = get_urls
