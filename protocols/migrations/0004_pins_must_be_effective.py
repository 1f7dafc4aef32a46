"""Only an effective protocol version of the right lab and category may be pinned by a step record.

The check runs when a row is inserted or its pin changes, so records that pinned a version while it
was effective keep it after the version retires. The triggers live on the batches tables but belong
to the protocols app; their names do not start with "pgtrigger_" so django-pgtrigger leaves them alone.
"""

from django.db import migrations

PINNING_TABLES = {
    "batches_cellline": "isolation",
    "batches_passage": "expansion",
    "batches_primingcondition": "priming",
    "batches_secretomebatch": "conditioning",
    "batches_processingstep": "processing",
    "batches_aliquot": "storage",
    "batches_qcresult": "qc",
}

FUNCTION = """
CREATE OR REPLACE FUNCTION protocols_pin_must_be_effective() RETURNS trigger AS $$
DECLARE
    pinned_status text;
    pinned_lab bigint;
    pinned_category text;
    pinned_label text;
BEGIN
    IF NEW.protocol_version_id IS NULL THEN
        RETURN NEW;
    END IF;
    IF TG_OP = 'UPDATE' AND OLD.protocol_version_id IS NOT DISTINCT FROM NEW.protocol_version_id THEN
        RETURN NEW;
    END IF;
    -- FOR SHARE: a concurrent publish cannot retire the version until this pin commits.
    SELECT v.status, v.lab_id, p.category, p.code || ' v' || v.number
      INTO pinned_status, pinned_lab, pinned_category, pinned_label
      FROM protocols_protocolversion v JOIN protocols_protocol p ON p.id = v.protocol_id
     WHERE v.id = NEW.protocol_version_id
       FOR SHARE OF v;
    IF NOT FOUND THEN
        RETURN NEW;  -- the foreign key reports a missing version
    END IF;
    IF pinned_status <> 'effective' THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'protocol_version_pin_effective',
            MESSAGE = format('%s is %s: only an effective protocol version can be pinned', pinned_label, pinned_status);
    END IF;
    IF pinned_lab <> NEW.lab_id THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'protocol_version_pin_same_lab',
            MESSAGE = format('%s belongs to another lab', pinned_label);
    END IF;
    IF pinned_category <> TG_ARGV[0] THEN
        RAISE EXCEPTION USING
            ERRCODE = 'check_violation',
            CONSTRAINT = 'protocol_version_pin_category',
            MESSAGE = format('%s is a %s protocol; this record needs a %s protocol',
                             pinned_label, pinned_category, TG_ARGV[0]);
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;
"""

TRIGGER = """
CREATE TRIGGER protocols_pin_must_be_effective
BEFORE INSERT OR UPDATE OF protocol_version_id ON {table}
FOR EACH ROW EXECUTE FUNCTION protocols_pin_must_be_effective('{category}');
"""


def _install() -> str:
    triggers = "".join(TRIGGER.format(table=table, category=category) for table, category in PINNING_TABLES.items())
    return FUNCTION + triggers


def _uninstall() -> str:
    drops = "".join(f"DROP TRIGGER IF EXISTS protocols_pin_must_be_effective ON {table};\n" for table in PINNING_TABLES)
    return drops + "DROP FUNCTION IF EXISTS protocols_pin_must_be_effective();\n"


class Migration(migrations.Migration):
    dependencies = [
        ("protocols", "0003_deviation_record_backfill"),
        ("batches", "0003_initial"),
    ]

    operations = [migrations.RunSQL(_install(), _uninstall())]
