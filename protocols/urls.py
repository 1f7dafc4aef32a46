from django.urls import path

from protocols import views

app_name = "protocols"

urlpatterns = [
    path("", views.protocol_list, name="protocol-list"),
    path("versions/<int:pk>/", views.protocol_version_detail, name="protocol-version"),
]
