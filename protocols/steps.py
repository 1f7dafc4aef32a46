"""The step records that follow an SOP: which protocol category each needs, and the values it records.

A protocol parameter's `name` is the record field it governs (`conditioning_time_h`, `mwco_kda`,
`g_force`), one of a few computed quantities (`seeding_density_per_cm2`), or, for priming, an agent's
dose (`ifn_gamma_concentration`, `deferoxamine_exposure_h`).
"""

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache

from django.apps import apps
from django.db import models

from batches import choices
from protocols.models import ProtocolCategory, RecordType

# Bookkeeping and lifecycle columns: facts about the row, not values an SOP prescribes.
NOT_GOVERNED = {"id", "lab", "created_at", "created_by", "updated_at", "version", "protocol_version", "status", "code"}


@dataclass(frozen=True)
class RecordedValue:
    value: object
    unit: str = ""


@dataclass(frozen=True)
class StepKind:
    record_type: str
    category: str
    model_label: str
    describe: Callable[[models.Model], str]
    computed: dict[str, Callable[[models.Model], RecordedValue | None]] = field(default_factory=dict)

    @property
    def model(self) -> type[models.Model]:
        return apps.get_model(self.model_label)


def _attribute(name: str) -> Callable[[models.Model], RecordedValue | None]:
    return lambda record: RecordedValue(getattr(record, name))


def _agent_quantity(agent: str, quantity: str) -> Callable[[models.Model], RecordedValue | None]:
    def read(priming) -> RecordedValue | None:
        for row in priming.agents.all():
            if row.agent == agent:
                if quantity == "concentration":
                    return RecordedValue(row.concentration, row.concentration_unit)
                return RecordedValue(row.exposure_h, "h")
        return None

    return read


def _processing_label(step) -> str:
    return f"Processing step #{step.order} ({step.get_kind_display().lower()})"


def _qc_label(result) -> str:
    label = result.get_assay_display()
    if result.analyte:
        label += f" {result.analyte}"
    return f"QC result {label} ({result.get_sample_display().lower()})"


STEP_KINDS: dict[str, StepKind] = {
    kind.record_type: kind
    for kind in (
        StepKind(
            RecordType.CELL_LINE,
            ProtocolCategory.ISOLATION,
            "batches.CellLine",
            lambda line: f"Cell line {line.code}",
        ),
        StepKind(
            RecordType.PASSAGE,
            ProtocolCategory.EXPANSION,
            "batches.Passage",
            lambda passage: f"Passage {passage.cell_line.code} P{passage.number}",
            {"seeding_density_per_cm2": _attribute("seeding_density_per_cm2")},
        ),
        StepKind(
            RecordType.PRIMING,
            ProtocolCategory.PRIMING,
            "batches.PrimingCondition",
            lambda priming: f"Priming '{priming.name}'",
            {
                **{
                    f"{agent}_concentration": _agent_quantity(agent, "concentration")
                    for agent in choices.PrimingAgentName
                },
                **{f"{agent}_exposure_h": _agent_quantity(agent, "exposure_h") for agent in choices.PrimingAgentName},
            },
        ),
        StepKind(
            RecordType.BATCH,
            ProtocolCategory.CONDITIONING,
            "batches.SecretomeBatch",
            lambda batch: f"Batch {batch.code}",
            {"ml_per_million_cells": _attribute("ml_per_million_cells")},
        ),
        StepKind(RecordType.PROCESSING_STEP, ProtocolCategory.PROCESSING, "batches.ProcessingStep", _processing_label),
        StepKind(
            RecordType.ALIQUOT, ProtocolCategory.STORAGE, "batches.Aliquot", lambda aliquot: f"Aliquot {aliquot.code}"
        ),
        StepKind(RecordType.QC_RESULT, ProtocolCategory.QC, "batches.QCResult", _qc_label),
    )
}

STEP_KIND_BY_CATEGORY: dict[str, StepKind] = {kind.category: kind for kind in STEP_KINDS.values()}


def step_kind_for_model(model: type[models.Model] | models.Model) -> StepKind | None:
    label = model._meta.label
    return next((kind for kind in STEP_KINDS.values() if kind.model_label == label), None)


def governed_fields(kind: StepKind) -> dict[str, models.Field | None]:
    """Every name a parameter of this kind's protocols may govern: concrete fields, then computed ones (None)."""
    return _governed_fields(kind.record_type)


@cache
def _governed_fields(record_type: str) -> dict[str, models.Field | None]:
    kind = STEP_KINDS[record_type]
    names: dict[str, models.Field | None] = {
        f.name: f
        for f in kind.model._meta.concrete_fields
        if not f.is_relation and f.name not in NOT_GOVERNED and not f.name.endswith("_at")
    }
    names.update(dict.fromkeys(kind.computed))
    return names


NUMERIC_FIELDS = (models.FloatField, models.IntegerField, models.DecimalField)


def is_numeric(model_field: models.Field | None) -> bool:
    """Computed quantities (None here) are all numbers."""
    return model_field is None or isinstance(model_field, NUMERIC_FIELDS)


def recorded_value(kind: StepKind, record: models.Model, name: str) -> RecordedValue | None:
    """The value a record holds for a parameter name, or None when it holds nothing."""
    if name in kind.computed:
        found = kind.computed[name](record)
    elif name in governed_fields(kind):
        found = RecordedValue(getattr(record, name))
    else:
        return None
    if found is None or found.value is None or found.value == "":
        return None
    return found
