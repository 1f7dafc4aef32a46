from django.apps import AppConfig


class BatchesConfig(AppConfig):
    name = "batches"
    verbose_name = "Secretome batches"

    def ready(self) -> None:
        # Registers the batches rules of the one write path and the plausibility rules of its records.
        from batches.checklist import outbox
        from batches.services import plausibility, records  # noqa: F401
        from lims import vocabulary

        from . import labels

        # The API schema names fields as the pages do.
        vocabulary.register(labels.describe_field)

        # Changes to what the checklist reads queue a check once their transaction commits.
        outbox.connect()
        # A rejection, retirement or correction of a shipped batch notifies every receiving lab.
        from batches.shipments import hooks

        hooks.connect()
