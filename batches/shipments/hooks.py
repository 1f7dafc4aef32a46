"""Where the producer's record reaches shipments: a lifecycle event of a batch, a corrected QC result."""

from django.db.models.signals import post_save


def _batch_event_saved(sender, instance, created: bool, raw: bool = False, **kwargs) -> None:
    if created and not raw:
        from batches.shipments.services import batch_event_recorded

        batch_event_recorded(event=instance)


def _qc_result_saved(sender, instance, created: bool, raw: bool = False, update_fields=None, **kwargs) -> None:
    # A verified result is corrected by a new version, then marked superseded: that save ends the correction.
    if not raw and update_fields and "status" in update_fields and instance.status == "superseded":
        from batches.shipments.services import qc_result_corrected

        qc_result_corrected(result=instance)


def connect() -> None:
    from batches.models import BatchEvent, QCResult

    post_save.connect(_batch_event_saved, sender=BatchEvent, dispatch_uid="shipments_batch_event")
    post_save.connect(_qc_result_saved, sender=QCResult, dispatch_uid="shipments_qc_result")
