"""The dashboard at the site's root, outside the `batches:` namespace (its name is plain "dashboard")."""

from django.urls import path

from batches.views.dashboard import dashboard

urlpatterns = [path("", dashboard, name="dashboard")]
