"""Deviations raised before they named their step record belonged to the batch record itself."""

import pgtrigger
from django.db import migrations
from django.db.models import F


def point_old_deviations_at_their_batch(apps, schema_editor):
    Deviation = apps.get_model("protocols", "Deviation")
    with pgtrigger.ignore("protocols.Deviation:decided_is_immutable"):
        for deviation in Deviation.objects.filter(record_id=0).select_related("batch"):
            Deviation.objects.filter(pk=deviation.pk).update(
                record_type="batch", record_id=F("batch_id"), record_label=deviation.batch.code
            )


class Migration(migrations.Migration):
    dependencies = [("protocols", "0002_deviation_record_and_frozen_content")]

    operations = [migrations.RunPython(point_old_deviations_at_their_batch, migrations.RunPython.noop)]
