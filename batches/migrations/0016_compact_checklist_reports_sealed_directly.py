"""Compact, insert-only checklist reports sealed into the audit chain directly.

Existing reports keep their ids and fingerprints: their items and gates move into shared explanations
(one row per distinct item text) plus a status letter and a value per item. The history table that
copied every report goes; lims' post_migrate hook then puts the sealing trigger on the report and
explanation tables and seals the rows already there.
"""

import json

import django.contrib.postgres.fields
import django.utils.timezone
import pgtrigger.compiler
import pgtrigger.migrations
from django.db import migrations, models


CHUNK = 500


def compact_existing_reports(apps, schema_editor):
    from batches.migrations import _reports_0016 as storage

    with schema_editor.connection.cursor() as cursor:
        last = 0
        while True:
            cursor.execute(
                "SELECT r.id, r.items::text, r.gates::text, COALESCE(b.code, s.title) FROM batches_checklistreport r "
                "LEFT JOIN batches_secretomebatch b ON b.id = r.batch_id "
                "LEFT JOIN batches_study s ON s.id = r.study_id "
                "WHERE r.id > %s ORDER BY r.id LIMIT %s",
                [last, CHUNK],
            )
            rows = [(pk, json.loads(items), json.loads(gates), code) for pk, items, gates, code in cursor.fetchall()]
            if not rows:
                return
            packs = storage.pack_many([(items, gates, code) for _, items, gates, code in rows])
            cursor.execute(
                "UPDATE batches_checklistreport r SET statuses = t.statuses, explanations = t.explanations::integer[], "
                '"values" = t.vals::jsonb, details = t.details::jsonb '
                "FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::text[], %s::text[]) "
                "AS t(id, statuses, explanations, vals, details) WHERE r.id = t.id",
                [
                    [row[0] for row in rows],
                    [statuses for statuses, _, _, _ in packs],
                    ["{" + ",".join(map(str, explanations)) + "}" for _, explanations, _, _ in packs],
                    [json.dumps(values, default=str) for _, _, values, _ in packs],
                    [json.dumps(details) for _, _, _, details in packs],
                ],
            )
            last = rows[-1][0]


def expand_reports_again(apps, schema_editor):
    from batches.migrations import _reports_0016 as storage

    with schema_editor.connection.cursor() as cursor:
        cursor.execute('SELECT id, statuses, explanations, "values"::text, details::text FROM batches_checklistreport')
        rows = cursor.fetchall()
        bodies = storage.load_bodies(pk for row in rows for pk in row[2])
        for pk, statuses, explanations, values, details in rows:
            items, gates = storage.unpack(statuses, explanations, json.loads(values), bodies, json.loads(details))
            cursor.execute(
                "UPDATE batches_checklistreport SET items = %s::jsonb, gates = %s::jsonb WHERE id = %s",
                [json.dumps(items), json.dumps(gates), pk],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("batches", "0015_same_lab_on_provenance_snapshots_and_import_runs"),
    ]

    operations = [
        migrations.CreateModel(
            name="ChecklistExplanation",
            fields=[
                ("id", models.AutoField(primary_key=True, serialize=False)),
                (
                    "digest",
                    models.CharField(help_text="MD5 of the canonical JSON body (the key, not a seal).", max_length=32),
                ),
                ("body", models.JSONField(help_text="The item (or gate) as a report shows it, without its value.")),
                ("created_at", models.DateTimeField(default=django.utils.timezone.now)),
            ],
        ),
        migrations.RemoveField(
            model_name="checklistreporthistory",
            name="batch",
        ),
        migrations.RemoveField(
            model_name="checklistreporthistory",
            name="lab",
        ),
        migrations.RemoveField(
            model_name="checklistreporthistory",
            name="pgh_context",
        ),
        migrations.RemoveField(
            model_name="checklistreporthistory",
            name="pgh_obj",
        ),
        migrations.RemoveField(
            model_name="checklistreporthistory",
            name="study",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="checklistreport",
            name="insert_insert",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="checklistreport",
            name="update_update",
        ),
        pgtrigger.migrations.RemoveTrigger(
            model_name="checklistreport",
            name="delete_delete",
        ),
        migrations.AddField(
            model_name="checklistreport",
            name="explanations",
            field=django.contrib.postgres.fields.ArrayField(
                base_field=models.IntegerField(),
                blank=True,
                default=list,
                help_text="ChecklistExplanation ids: items, then gates.",
                size=None,
            ),
        ),
        migrations.AddField(
            model_name="checklistreport",
            name="statuses",
            field=models.TextField(blank=True, default="", help_text="One letter per item: s, m, i or n."),
        ),
        migrations.AddField(
            model_name="checklistreport",
            name="details",
            field=models.JSONField(
                blank=True, default=dict, help_text="This subject's row ids and code cut out of an explanation, by position."
            ),
        ),
        migrations.AddField(
            model_name="checklistreport",
            name="values",
            field=models.JSONField(blank=True, default=list, help_text="Recorded values: items, then gates."),
        ),
        migrations.AddConstraint(
            model_name="checklistexplanation",
            constraint=models.UniqueConstraint(fields=("digest",), name="checklistexplanation_digest_unique"),
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="checklistexplanation",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update or delete rows from % table', TG_TABLE_NAME;",
                    hash="c6a6af520d55e6c42463dad99ca9b6ad23f9c728",
                    operation="UPDATE OR DELETE",
                    pgid="pgtrigger_append_only_a3b18",
                    table="batches_checklistexplanation",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.RunPython(compact_existing_reports, expand_reports_again, elidable=False),
        migrations.RemoveField(
            model_name="checklistreport",
            name="gates",
        ),
        migrations.RemoveField(
            model_name="checklistreport",
            name="items",
        ),
        pgtrigger.migrations.AddTrigger(
            model_name="checklistreport",
            trigger=pgtrigger.compiler.Trigger(
                name="append_only",
                sql=pgtrigger.compiler.UpsertTriggerSql(
                    func="RAISE EXCEPTION 'pgtrigger: Cannot update rows from % table', TG_TABLE_NAME;",
                    hash="c36350dea5f76f909c2d05cd191a1756ba820c57",
                    operation="UPDATE",
                    pgid="pgtrigger_append_only_1c100",
                    table="batches_checklistreport",
                    when="BEFORE",
                ),
            ),
        ),
        migrations.DeleteModel(
            name="ChecklistReportHistory",
        ),
    ]
