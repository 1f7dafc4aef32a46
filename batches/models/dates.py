"""Dates in order along the chain, as the database keeps them whatever the door.

The chain is: passage seeded ≤ passage harvested ≤ conditioning start ≤ collection ≤ QC performed ≤
administration. The services check all of it, on the field, in the lab's time zone
(batches.services.plausibility). The database refuses what may never be — a batch collected before its
passage was seeded, a QC result performed or a dose given before the batch was collected — with one day of
margin, so a collection time near midnight is never judged in another time zone than the service's.
A missing date is not an error: only dates that are both given are compared.

Each refusal names a constraint, which the services translate into the field's message.
"""

import pgtrigger

# The day of a collection, as the database compares it (one day of margin each way, see above).
_COLLECTED_DAY = "(b.collected_at AT TIME ZONE 'UTC')::date"


def _refuse(constraint: str, message: str) -> str:
    return f"RAISE EXCEPTION '{message}' USING ERRCODE = 'check_violation', CONSTRAINT = '{constraint}';"


BATCH_COLLECTED_AFTER_SEEDING = "secretomebatch_collected_after_passage_seeded"
BATCH_COLLECTED_BEFORE_QC_AND_DOSES = "secretomebatch_collected_before_qc_and_doses"
PASSAGE_SEEDED_BEFORE_COLLECTION = "passage_seeded_before_its_batches_collected"
QC_PERFORMED_AFTER_COLLECTION = "qcresult_performed_after_collection"
ADMINISTERED_AFTER_COLLECTION = "administration_administered_after_collection"


def batch_collected_in_order() -> pgtrigger.Trigger:
    return pgtrigger.Trigger(
        name="dates_in_order",
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.Update,
        condition=pgtrigger.Q(new__collected_at__isnull=False),
        func=(
            "IF EXISTS (SELECT 1 FROM batches_passage p WHERE p.id = NEW.passage_id "
            "AND p.started_on > (NEW.collected_at AT TIME ZONE 'UTC')::date + 1) THEN "
            + _refuse(BATCH_COLLECTED_AFTER_SEEDING, "a batch cannot be collected before its passage was seeded")
            + " END IF; "
            "IF TG_OP = 'UPDATE' AND (EXISTS (SELECT 1 FROM batches_qcresult q WHERE q.batch_id = NEW.id "
            "AND q.performed_on < (NEW.collected_at AT TIME ZONE 'UTC')::date - 1) "
            "OR EXISTS (SELECT 1 FROM batches_administration a WHERE a.batch_id = NEW.id "
            "AND a.administered_on < (NEW.collected_at AT TIME ZONE 'UTC')::date - 1)) THEN "
            + _refuse(
                BATCH_COLLECTED_BEFORE_QC_AND_DOSES,
                "a batch cannot be collected after its QC was performed or it was given",
            )
            + " END IF; RETURN NEW;"
        ),
    )


def passage_seeded_before_collection() -> pgtrigger.Trigger:
    return pgtrigger.Trigger(
        name="seeded_before_collection",
        when=pgtrigger.Before,
        operation=pgtrigger.Update,
        condition=pgtrigger.Q(new__started_on__isnull=False),
        func=(
            "IF EXISTS (SELECT 1 FROM batches_secretomebatch b WHERE b.passage_id = NEW.id "
            f"AND {_COLLECTED_DAY} + 1 < NEW.started_on) THEN "
            + _refuse(PASSAGE_SEEDED_BEFORE_COLLECTION, "a passage cannot be seeded after its batches were collected")
            + " END IF; RETURN NEW;"
        ),
    )


def _after_collection(*, name: str, column: str, constraint: str, message: str) -> pgtrigger.Trigger:
    """The row's `column` (a day) is not before its batch's collection."""
    return pgtrigger.Trigger(
        name=name,
        when=pgtrigger.Before,
        operation=pgtrigger.Insert | pgtrigger.Update,
        condition=pgtrigger.Q(**{f"new__{column}__isnull": False}),
        func=(
            "IF EXISTS (SELECT 1 FROM batches_secretomebatch b WHERE b.id = NEW.batch_id "
            f"AND NEW.{column} < {_COLLECTED_DAY} - 1) THEN " + _refuse(constraint, message) + " END IF; RETURN NEW;"
        ),
    )


def qc_performed_after_collection() -> pgtrigger.Trigger:
    return _after_collection(
        name="performed_after_collection",
        column="performed_on",
        constraint=QC_PERFORMED_AFTER_COLLECTION,
        message="a QC result cannot be performed before its batch was collected",
    )


def administered_after_collection() -> pgtrigger.Trigger:
    return _after_collection(
        name="administered_after_collection",
        column="administered_on",
        constraint=ADMINISTERED_AFTER_COLLECTION,
        message="a dose cannot be given before its batch was collected",
    )
