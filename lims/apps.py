from django.apps import AppConfig
from django.db.models.signals import post_migrate


def _install_audit_chain(using: str = "default", **_) -> None:
    """Put every event table (including ones added by later migrations) under the audit hash chain."""
    from django.db import connections

    from lims import audit_chain

    with connections[using].cursor() as cursor:
        audit_chain.install(cursor)


class LimsConfig(AppConfig):
    name = "lims"
    verbose_name = "Labs and members"

    def ready(self) -> None:
        post_migrate.connect(_install_audit_chain, sender=self, dispatch_uid="lims_install_audit_chain")
