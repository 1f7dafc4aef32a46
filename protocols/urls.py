from django.urls import path

from protocols import views

app_name = "protocols"

urlpatterns = [
    path("", views.protocol_list, name="protocol-list"),
    path("new/", views.protocol_new, name="protocol-new"),
    path("<int:pk>/draft/", views.protocol_draft, name="protocol-draft"),
    path("versions/<int:pk>/", views.protocol_version_detail, name="protocol-version"),
    path("versions/<int:pk>/publish/", views.protocol_version_publish_view, name="protocol-version-publish"),
]
