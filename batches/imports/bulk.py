"""New records of an import, written a chunk at a time under the rules of the one write path.

The record services write one row at a time (a role check, one query per constraint, a savepoint, the
deviation check of every batch the row feeds): right for a form, twenty-odd queries a record for a sheet.
For the records a chunk of rows creates, this module applies the same rules per chunk:

* the actor's writing role in the lab, checked once;
* the field rules and the plausibility rules of `validate_record`, in Python, before anything is written;
* the database constraints (check, unique, foreign keys, same-lab triggers), which are the ones
  `validate_record` evaluates, enforced by PostgreSQL on one INSERT per table and chunk;
* a batch's "created" event, and the deviation check of every new batch whose cells, priming or steps follow
  an SOP version (decided for the whole chunk at once; the check itself is the service's);
* the audit context of the import on every row (the trigger-based history records bulk inserts too).

Only the happy path is taken here: any problem in a chunk (a value refused in Python or by the database)
makes the import redo that chunk through the record services, which name every problem of every row exactly
as a form would. Records whose parent may be locked (a step or aliquot of a batch that already exists), that
pin an SOP version, or that are QC results always go through the services.
"""

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import models

from batches.imports.sheets import Section
from batches.models import (
    Aliquot,
    BatchEvent,
    BatchEventKind,
    CellLine,
    Donor,
    Passage,
    PrimingAgent,
    PrimingCondition,
    ProcessingStep,
    SecretomeBatch,
)
from batches.services import plausibility as _plausibility  # noqa: F401  (registers the batches rules)
from lims.plausibility import plausibility_errors
from lims.roles import WRITE_ROLES, require_role
from protocols.services import deviation_sync

# Parents before children: a chunk's records are inserted in this order.
BULK_MODELS: tuple[type[models.Model], ...] = (
    Donor,
    CellLine,
    Passage,
    PrimingCondition,
    SecretomeBatch,
    ProcessingStep,
    Aliquot,
)


class RedoWithServices(Exception):
    """The chunk holds a problem: it is rolled back and written again through the record services."""


@dataclass(eq=False)
class PendingRecord:
    section: Section
    row: int
    instance: models.Model
    agents: list[dict[str, Any]] | None


def is_unsaved(value: Any) -> bool:
    return isinstance(value, models.Model) and value.pk is None


def python_errors(instance: models.Model) -> dict[str, list[str]]:
    """What `validate_record` finds without asking the database: field rules first, then plausibility."""
    links = [field.name for field in instance._meta.concrete_fields if field.is_relation]
    try:
        instance.clean_fields(exclude=links)  # a link is a record of the lab; the foreign key guards it
    except ValidationError as error:
        return error.message_dict
    return plausibility_errors(instance)


class BulkWriter:
    def __init__(self, *, lab, actor):
        self.lab = lab
        self.actor = actor
        self.pending: list[PendingRecord] = []
        self._role_checked = False
        self._pinned_passages: dict[int, bool] = {}
        self._pinned_cell_lines: dict[int, bool] = {}

    def accepts(self, model: type[models.Model], data: dict[str, Any], agents: list[dict[str, Any]] | None) -> bool:
        if model not in BULK_MODELS or data.get("protocol_version") is not None:
            return False
        if model in (ProcessingStep, Aliquot):
            return is_unsaved(data.get("batch"))  # a new draft batch: nothing about it is locked
        if agents:
            names = [agent["agent"] for agent in agents]
            return len(set(names)) == len(names)
        return True

    def add(self, *, section: Section, row: int, data: dict[str, Any], agents) -> models.Model:
        model = section.model
        values = {"operator": self.actor, **data} if model is SecretomeBatch else data
        instance = model(lab=self.lab, created_by=self.actor, **values)
        self.pending.append(PendingRecord(section, row, instance, agents))
        return instance

    def discard(self) -> None:
        self.pending = []

    def flush(self) -> None:
        """Validate and insert every pending record; raise RedoWithServices at the first problem."""
        if not self.pending:
            return
        pending, self.pending = self.pending, []
        if not self._role_checked:
            try:
                require_role(self.actor, self.lab, WRITE_ROLES, "Importing records")
            except PermissionDenied as error:
                raise RedoWithServices from error
            self._role_checked = True
        by_model: dict[type[models.Model], list[PendingRecord]] = {model: [] for model in BULK_MODELS}
        for record in pending:
            by_model[type(record.instance)].append(record)
        for model, records in by_model.items():
            for generation in _generations(records):
                self._insert(model, generation)
        batches = [record.instance for record in by_model[SecretomeBatch]]
        BatchEvent.objects.bulk_create(
            BatchEvent(lab_id=batch.lab_id, batch=batch, kind=BatchEventKind.CREATED, actor=self.actor)
            for batch in batches
        )
        for batch in batches:
            if self._follows_an_sop(batch):
                deviation_sync(batch=batch, actor=self.actor)

    def _insert(self, model: type[models.Model], records: list[PendingRecord]) -> None:
        instances = []
        for record in records:
            instance = record.instance
            try:
                instance._prepare_related_fields_for_save(operation_name="bulk_create")
            except ValueError as error:  # a parent that could not be written
                raise RedoWithServices from error
            if python_errors(instance):
                raise RedoWithServices
            instances.append(instance)
        model._default_manager.bulk_create(instances)
        if model is PrimingCondition:
            agents = [
                PrimingAgent(lab_id=record.instance.lab_id, created_by=self.actor, priming=record.instance, **values)
                for record in records
                for values in record.agents or ()
            ]
            if any(python_errors(agent) for agent in agents):
                raise RedoWithServices
            PrimingAgent.objects.bulk_create(agents)

    # --- Which new batches follow an SOP somewhere along their lineage --------------------------------

    def _follows_an_sop(self, batch: SecretomeBatch) -> bool:
        if batch.protocol_version_id is not None:
            return True
        if batch.priming is not None and batch.priming.protocol_version_id is not None:
            return True
        return self._passage_pinned(batch.passage)

    def _passage_pinned(self, passage: Passage) -> bool:
        if passage.pk in self._pinned_passages:
            return self._pinned_passages[passage.pk]
        pinned = (
            passage.protocol_version_id is not None
            or self._cell_line_pinned(passage)
            or (passage.parent_id is not None and self._passage_pinned(passage.parent))
        )
        self._pinned_passages[passage.pk] = pinned
        return pinned

    def _cell_line_pinned(self, passage: Passage) -> bool:
        if passage.cell_line_id not in self._pinned_cell_lines:
            self._pinned_cell_lines[passage.cell_line_id] = passage.cell_line.protocol_version_id is not None
        return self._pinned_cell_lines[passage.cell_line_id]


def _generations(records: list[PendingRecord]) -> Iterable[list[PendingRecord]]:
    """Records in insertion rounds: a passage after its new parent passage, a batch after its new mock control."""
    remaining = records
    while remaining:
        waiting = {id(record.instance) for record in remaining}
        ready = [record for record in remaining if not any(id(parent) in waiting for parent in _parents(record))]
        if not ready:
            raise RedoWithServices  # a record waiting for itself; the services explain it
        yield ready
        ready_ids = {id(record) for record in ready}
        remaining = [record for record in remaining if id(record) not in ready_ids]


def _parents(record: PendingRecord) -> list[models.Model]:
    instance = record.instance
    return [
        getattr(instance, field.name)
        for field in instance._meta.concrete_fields
        if field.is_relation and field.is_cached(instance) and is_unsaved(getattr(instance, field.name))
    ]
