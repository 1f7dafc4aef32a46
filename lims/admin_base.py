"""Admin behaviour every lab-owned record shares: lab scoping, who made it, the version."""

from django.contrib import admin

from lims.constraints import NEVER_DELETED
from lims.models import Membership

AUDIT_FIELDS = ("created_at", "created_by", "updated_at", "version")


def never_deleted(model) -> bool:
    """The database refuses to delete this model's rows (lab records are voided or retired instead)."""
    return any(getattr(trigger, "name", None) == NEVER_DELETED for trigger in getattr(model._meta, "triggers", []))


def user_lab_ids(user) -> list[int]:
    return list(Membership.objects.filter(user=user).values_list("lab_id", flat=True))


class LabScopedAdmin(admin.ModelAdmin):
    list_per_page = 50
    readonly_fields = AUDIT_FIELDS
    save_on_top = True

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if request.user.is_superuser:
            return queryset
        return queryset.filter(lab_id__in=user_lab_ids(request.user))

    def has_delete_permission(self, request, obj=None):
        # Not even offered: the database would refuse it (a 500), and lab records are retired, not deleted.
        return not never_deleted(self.model) and super().has_delete_permission(request, obj)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        field = super().formfield_for_foreignkey(db_field, request, **kwargs)
        if request.user.is_superuser:
            return field
        related = db_field.related_model
        labs = user_lab_ids(request.user)
        if db_field.name == "lab":
            field.queryset = field.queryset.filter(pk__in=labs)
        elif any(f.name == "lab" for f in related._meta.get_fields()):
            field.queryset = field.queryset.filter(lab_id__in=labs)
        return field

    def save_model(self, request, obj, form, change):
        if not change and obj.created_by_id is None:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

    def save_formset(self, request, form, formset, change):
        instances = formset.save(commit=False)
        for deleted in formset.deleted_objects:
            deleted.delete()
        for instance in instances:
            if instance.pk is None:
                instance.created_by = request.user
                if getattr(instance, "lab_id", None) is None:
                    instance.lab_id = form.instance.lab_id
            instance.save()
        formset.save_m2m()


class LabOwnedInline(admin.TabularInline):
    extra = 0
    exclude = ("lab",)
    show_change_link = True

    def has_delete_permission(self, request, obj=None):
        return not never_deleted(self.model) and super().has_delete_permission(request, obj)
