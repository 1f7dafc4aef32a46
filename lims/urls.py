from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from lims.audit_views import lab_audit_trail
from lims.invitation_views import invitation_answer, invitation_list
from lims.member_views import member_list

admin.site.site_header = "Secretome LIMS"
admin.site.site_title = "Secretome LIMS"
admin.site.index_title = "Records"

urlpatterns = [
    path("", include("batches.dashboard_urls")),
    path("accounts/login/", auth_views.LoginView.as_view(redirect_authenticated_user=True), name="login"),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("invitations/", invitation_list, name="invitations"),
    path("members/", member_list, name="members"),
    path("audit/", lab_audit_trail, name="audit-trail"),
    path("invitations/<int:pk>/<slug:answer>/", invitation_answer, name="invitation-answer"),
    path("", include("batches.urls")),
    path("protocols/", include("protocols.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include("batches.exports.urls")),
    path("api/v1/", include("lims.api.urls")),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
]
