"""Database triggers that put every batch (and study) whose checklist inputs change into the outbox.

Statement-level triggers with transition tables: a QuerySet.update() or bulk_create() of 50 rows is one
trigger call and, thanks to the unique (txid, subject) key, one outbox row per affected batch. Raw SQL
and psql sessions are caught too. The mapping from a changed row to the batches that read it lives
here, next to the schema it depends on; batches.checklist.outbox lists the same tables.
"""

from django.db import migrations

ROWS = "{rows}"

# table -> SELECT (subject_kind, subject_id) for the rows in {rows}
MAPPINGS = {
    "batches_secretomebatch": f"""
        SELECT 'batch', r.id FROM {ROWS} r
        UNION SELECT 'batch', b.id FROM batches_secretomebatch b JOIN {ROWS} r ON b.mock_control_id = r.id
        UNION SELECT 'study', a.study_id FROM batches_administration a JOIN {ROWS} r ON a.batch_id = r.id
    """,
    "batches_passage": f"""
        SELECT 'batch', b.id FROM batches_secretomebatch b JOIN (
            WITH RECURSIVE descendants(id) AS (
                SELECT r.id FROM {ROWS} r
                UNION SELECT p.id FROM batches_passage p JOIN descendants d ON p.parent_id = d.id
            ) SELECT id FROM descendants
        ) chain ON b.passage_id = chain.id
    """,
    "batches_cellline": f"""
        SELECT 'batch', b.id FROM batches_secretomebatch b
        JOIN batches_passage p ON b.passage_id = p.id JOIN {ROWS} r ON p.cell_line_id = r.id
    """,
    "batches_donor": f"""
        SELECT 'batch', b.id FROM batches_secretomebatch b
        JOIN batches_passage p ON b.passage_id = p.id
        JOIN batches_cellline cl ON p.cell_line_id = cl.id JOIN {ROWS} r ON cl.donor_id = r.id
    """,
    "batches_immunophenotype": f"""
        SELECT 'batch', b.id FROM batches_secretomebatch b
        JOIN batches_passage p ON b.passage_id = p.id JOIN {ROWS} r ON p.cell_line_id = r.cell_line_id
    """,
    "batches_differentiation": f"""
        SELECT 'batch', b.id FROM batches_secretomebatch b
        JOIN batches_passage p ON b.passage_id = p.id JOIN {ROWS} r ON p.cell_line_id = r.cell_line_id
    """,
    "batches_primingcondition": f"""
        SELECT 'batch', b.id FROM batches_secretomebatch b JOIN {ROWS} r ON b.priming_id = r.id
    """,
    "batches_primingagent": f"""
        SELECT 'batch', b.id FROM batches_secretomebatch b JOIN {ROWS} r ON b.priming_id = r.priming_id
    """,
    "batches_processingstep": f"SELECT 'batch', r.batch_id FROM {ROWS} r",
    "batches_qcresult": f"SELECT 'batch', r.batch_id FROM {ROWS} r",
    "batches_qcspecification": f"""
        SELECT 'batch', q.batch_id FROM batches_qcresult q JOIN {ROWS} r ON q.specification_id = r.id
    """,
    "batches_aliquot": f"SELECT 'batch', r.batch_id FROM {ROWS} r",
    "batches_aliquotevent": f"""
        SELECT 'batch', al.batch_id FROM batches_aliquot al JOIN {ROWS} r ON al.id = r.aliquot_id
    """,
    "batches_administration": f"""
        SELECT 'batch', r.batch_id FROM {ROWS} r UNION SELECT 'study', r.study_id FROM {ROWS} r
    """,
    "batches_study": f"SELECT 'study', r.id FROM {ROWS} r",
    "batches_outcomemeasure": f"SELECT 'study', r.study_id FROM {ROWS} r",
}


def _insert(mapping: str, rows: str) -> str:
    return f"""
        INSERT INTO batches_checklistoutbox (txid, backend_pid, subject_kind, subject_id, created_at)
        SELECT DISTINCT txid_current(), pg_backend_pid(), s.kind, s.id, now()
        FROM ({mapping.replace(ROWS, rows)}) AS s(kind, id)
        WHERE s.id IS NOT NULL
        ON CONFLICT DO NOTHING;
    """


def _forward(table: str, mapping: str) -> str:
    function = f"checklist_outbox_{table}"
    return f"""
        CREATE OR REPLACE FUNCTION {function}() RETURNS trigger LANGUAGE plpgsql AS $body$
        BEGIN
            IF TG_OP IN ('INSERT', 'UPDATE') THEN {_insert(mapping, "new_rows")} END IF;
            IF TG_OP IN ('UPDATE', 'DELETE') THEN {_insert(mapping, "old_rows")} END IF;
            RETURN NULL;
        END
        $body$;
        CREATE TRIGGER checklist_outbox_insert AFTER INSERT ON {table}
            REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
        CREATE TRIGGER checklist_outbox_update AFTER UPDATE ON {table}
            REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
        CREATE TRIGGER checklist_outbox_delete AFTER DELETE ON {table}
            REFERENCING OLD TABLE AS old_rows FOR EACH STATEMENT EXECUTE FUNCTION {function}();
    """


def _reverse(table: str) -> str:
    return f"""
        DROP TRIGGER IF EXISTS checklist_outbox_insert ON {table};
        DROP TRIGGER IF EXISTS checklist_outbox_update ON {table};
        DROP TRIGGER IF EXISTS checklist_outbox_delete ON {table};
        DROP FUNCTION IF EXISTS checklist_outbox_{table}();
    """


class Migration(migrations.Migration):
    dependencies = [
        ("batches", "0004_checklist_activation_outbox_current_report"),
    ]

    operations = [
        migrations.RunSQL(sql=_forward(table, mapping), reverse_sql=_reverse(table))
        for table, mapping in MAPPINGS.items()
    ]
