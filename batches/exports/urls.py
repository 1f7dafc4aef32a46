"""Export endpoints under /api/v1/ (included in lims/urls.py before the general API routes).

The paths are DESIGN.md's (`batches/{id}/methods`); a trailing slash, as the router's routes have, works too.
"""

from django.urls import re_path

from batches.exports import views

app_name = "exports"
urlpatterns = [
    re_path(r"^batches/(?P<pk>[0-9]+)/methods/?$", views.BatchMethodsView.as_view(), name="batch-methods"),
    re_path(r"^batches/(?P<pk>[0-9]+)/rocrate/?$", views.BatchCrateView.as_view(), name="batch-rocrate"),
    re_path(r"^batches/(?P<pk>[0-9]+)/label/?$", views.BatchLabelView.as_view(), name="batch-label"),
    re_path(r"^exports/methods/?$", views.MethodsExportView.as_view(), name="methods"),
    re_path(r"^exports/studies-table/?$", views.StudiesTableView.as_view(), name="studies-table"),
]
