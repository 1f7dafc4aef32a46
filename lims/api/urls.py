"""/api/v1/: every app's resources on one router, plus token authentication."""

from django.urls import include, path
from rest_framework.routers import DefaultRouter

from batches.api.urls import router as batches_router
from lims.api import auth
from lims.api.memberships import InvitationViewSet, MembershipViewSet
from protocols.api.urls import router as protocols_router

router = DefaultRouter()
router.registry.extend(batches_router.registry)
router.registry.extend(protocols_router.registry)
router.register("memberships", MembershipViewSet, basename="membership")
router.register("invitations", InvitationViewSet, basename="invitation")

app_name = "api"
urlpatterns = [
    path("auth/token/", auth.TokenObtainView.as_view(), name="token"),
    path("auth/token/revoke/", auth.TokenRevokeView.as_view(), name="token-revoke"),
    path("auth/token/revoke-all/", auth.TokenRevokeAllView.as_view(), name="token-revoke-all"),
    path("auth/me/", auth.MeView.as_view(), name="me"),
    path("", include(router.urls)),
]
