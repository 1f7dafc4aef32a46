"""Export endpoints under /api/v1/ (included in lims/urls.py before the general API routes)."""

from django.urls import path

from batches.exports import views

app_name = "exports"
urlpatterns = [
    path("batches/<int:pk>/methods", views.BatchMethodsView.as_view(), name="batch-methods"),
    path("batches/<int:pk>/rocrate", views.BatchCrateView.as_view(), name="batch-rocrate"),
    path("batches/<int:pk>/label", views.BatchLabelView.as_view(), name="batch-label"),
    path("exports/methods", views.MethodsExportView.as_view(), name="methods"),
]
