from django.apps import AppConfig


class ProtocolsConfig(AppConfig):
    name = "protocols"
    verbose_name = "Protocols (SOPs)"

    def ready(self) -> None:
        # Registers the SOP rules of the one write path: pins, deviations, the lock on published versions.
        from protocols import services  # noqa: F401
