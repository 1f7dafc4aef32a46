from django.db import migrations


class Migration(migrations.Migration):
    """Joins three changes made side by side: compact checklist reports, dates in order along the chain, and
    batches returned for changes."""

    dependencies = [
        ("batches", "0016_compact_checklist_reports_sealed_directly"),
        ("batches", "0016_dates_in_order_along_the_chain"),
        ("batches", "0016_batch_events_returned_for_changes"),
    ]

    operations = []
