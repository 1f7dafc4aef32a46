"""The one place the batch lifecycle reaches shipments: a lifecycle event of a shipped batch."""

from django.db.models.signals import post_save


def _batch_event_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        from batches.shipments.services import batch_event_recorded

        batch_event_recorded(event=instance)


def connect() -> None:
    from batches.models import BatchEvent

    post_save.connect(_batch_event_saved, sender=BatchEvent, dispatch_uid="shipments_batch_event")
