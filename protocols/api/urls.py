from rest_framework.routers import SimpleRouter

from protocols.api import views

router = SimpleRouter()
router.register("protocols", views.ProtocolViewSet, basename="protocol")
router.register("protocol-versions", views.ProtocolVersionViewSet, basename="protocol-version")
router.register("deviations", views.DeviationViewSet, basename="deviation")
