from django.contrib import admin

from lims.models import Lab, Membership


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user"]


@admin.register(Lab)
class LabAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "institution", "url", "created_at")
    search_fields = ("name", "slug", "institution")
    prepopulated_fields = {"slug": ("name",)}
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ("user", "lab", "role", "created_at")
    list_filter = ("role", "lab")
    search_fields = ("user__username", "user__first_name", "user__last_name", "lab__name")
    autocomplete_fields = ["user", "lab"]


# Read-only pages for the quality unit: audit trail, signatures, sign-in attempts, chain seals.
from lims import admin_audit  # noqa: E402, F401
