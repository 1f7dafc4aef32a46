from django.urls import path

from batches.shipments import views

app_name = "shipments"

urlpatterns = [
    path("", views.shipment_list, name="list"),
    path("new/", views.shipment_create_view, name="create"),
    path("<int:pk>/", views.shipment_detail, name="detail"),
    path("<int:pk>/dispatch/", views.shipment_dispatch_view, name="dispatch"),
    path("<int:pk>/receive/", views.shipment_receive_view, name="receive"),
    path("snapshots/<int:pk>/", views.snapshot_detail, name="snapshot"),
    path("partners/", views.partner_list, name="partners"),
    path("impact/<int:batch_pk>/", views.impact_report, name="impact"),
    path("notices/<int:pk>/acknowledge/", views.notice_acknowledge, name="notice-acknowledge"),
]
