"""/api/v1/: every app's resources on one router, plus token authentication.

Each installed app that has an `api.urls` module with a `router` lends its routes to this one (found the way the
admin finds `admin` modules), so `lims` names no app.
"""

from importlib import import_module

from django.apps import apps
from django.urls import include, path
from django.utils.module_loading import module_has_submodule
from rest_framework.routers import DefaultRouter

from lims.api import auth
from lims.api.memberships import InvitationViewSet, MembershipViewSet


def _app_routers():
    for config in apps.get_app_configs():
        if config.name == "lims" or not module_has_submodule(config.module, "api"):
            continue
        api = import_module(f"{config.name}.api")
        if module_has_submodule(api, "urls"):
            app_router = getattr(import_module(f"{config.name}.api.urls"), "router", None)
            if app_router is not None:
                yield app_router


router = DefaultRouter()
for app_router in _app_routers():
    router.registry.extend(app_router.registry)
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
