from django.contrib import admin
from django.urls import path
from django.views.generic import RedirectView

admin.site.site_header = "Secretome LIMS"
admin.site.site_title = "Secretome LIMS"
admin.site.index_title = "Records"

urlpatterns = [
    path("", RedirectView.as_view(url="/admin/", permanent=False)),
    path("admin/", admin.site.urls),
]
