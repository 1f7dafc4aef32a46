"""Reads: what a batch followed, where it departed from it, how two versions differ, who used a version."""

import difflib
import math
from dataclasses import dataclass

from django.core.exceptions import ValidationError
from django.db.models import QuerySet

from batches.labels import field_label, mid_sentence
from batches.models import Passage, SecretomeBatch
from protocols.models import (
    Deviation,
    DeviationStatus,
    ParameterType,
    Protocol,
    ProtocolCategory,
    ProtocolParameter,
    ProtocolVersion,
    RecordType,
)
from protocols.steps import STEP_KIND_BY_CATEGORY, STEP_KINDS, RecordedValue, StepKind, recorded_value

CATEGORY_ORDER = {category: index for index, category in enumerate(ProtocolCategory.values)}
PARAMETER_FIELDS = ("value_type", "unit", "default", "min_value", "max_value", "choices")


# --- scoping ---------------------------------------------------------------------------------------
def protocol_list(*, lab_ids) -> QuerySet[Protocol]:
    return Protocol.objects.filter(lab_id__in=lab_ids).order_by("code")


def protocol_version_list(*, lab_ids) -> QuerySet[ProtocolVersion]:
    return (
        ProtocolVersion.objects.filter(lab_id__in=lab_ids)
        .select_related("protocol", "approved_by")
        .prefetch_related("parameters")
        .order_by("protocol__code", "-number")
    )


def deviation_list(*, lab_ids) -> QuerySet[Deviation]:
    return (
        Deviation.objects.filter(lab_id__in=lab_ids)
        .select_related("batch", "protocol_version__protocol", "approved_by")
        .order_by("batch__code", "record_type", "record_id", "parameter", "-created_at")
    )


# --- the records a batch is made of ----------------------------------------------------------------
@dataclass(frozen=True)
class StepRecord:
    kind: StepKind
    record: object

    @property
    def label(self) -> str:
        return self.kind.describe(self.record)


def batch_step_records(*, batch: SecretomeBatch) -> list[StepRecord]:
    """Every record of a batch and of the cells it came from, in the order the batch was made."""
    batch = (
        SecretomeBatch.objects.select_related("passage__cell_line", "priming")
        .prefetch_related("priming__agents", "processing_steps", "aliquots", "qc_results")
        .get(pk=batch.pk)
    )
    line = batch.passage.cell_line
    chain = batch.passage.chain()
    for passage in chain:
        passage.cell_line = line  # a passage's parent is in the same cell line (database trigger)
    records: list[tuple[str, object]] = [(RecordType.CELL_LINE, line)]
    records += [(RecordType.PASSAGE, passage) for passage in chain]
    if batch.priming is not None:
        records.append((RecordType.PRIMING, batch.priming))
    records.append((RecordType.BATCH, batch))
    records += [(RecordType.PROCESSING_STEP, step) for step in batch.processing_steps.all()]
    records += [(RecordType.ALIQUOT, aliquot) for aliquot in batch.aliquots.all()]
    records += [(RecordType.QC_RESULT, result) for result in batch.qc_results.all()]
    return [StepRecord(STEP_KINDS[record_type], record) for record_type, record in records]


def _pinned_versions(steps: list[StepRecord]) -> dict[int, ProtocolVersion]:
    ids = {step.record.protocol_version_id for step in steps if step.record.protocol_version_id}
    versions = ProtocolVersion.objects.filter(pk__in=ids).select_related("protocol").prefetch_related("parameters")
    return {version.pk: version for version in versions}


def protocol_versions_for_batch(*, batch: SecretomeBatch) -> list[ProtocolVersion]:
    """Each protocol version the batch (or its cells) followed, once, in the order the steps happen."""
    versions = _pinned_versions(batch_step_records(batch=batch)).values()
    return sorted(versions, key=lambda v: (CATEGORY_ORDER.get(v.protocol.category, 99), v.protocol.code, v.number))


# --- deviations ------------------------------------------------------------------------------------
def _number(value: float) -> str:
    return f"{value:g}"


def _with_unit(text: str, unit: str) -> str:
    return f"{text} {unit}" if unit else text


def parameter_allowed_text(parameter: ProtocolParameter) -> str:
    """What the SOP allows, in words: '24–48 h', '≤ 0.5 EU/mL', '3 kDa', 'one of: trehalose, sucrose'."""
    if parameter.value_type == ParameterType.CHOICE:
        return "one of: " + ", ".join(str(choice) for choice in parameter.choices)
    if parameter.value_type == ParameterType.TEXT:
        return parameter.default or "as written in the SOP"
    low, high = parameter.min_value, parameter.max_value
    if low is not None and high is not None:
        separator = " to " if low < 0 or high < 0 else "–"
        text = _number(low) if math.isclose(low, high) else f"{_number(low)}{separator}{_number(high)}"
    elif low is not None:
        text = f"≥ {_number(low)}"
    elif high is not None:
        text = f"≤ {_number(high)}"
    else:
        text = f"{parameter.default}" if parameter.default else "any value"
    return _with_unit(text, parameter.unit)


def _normalised(value: object) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return _number(float(value))
    text = str(value).strip()
    try:
        return _number(float(text))
    except ValueError:
        return text.lower()


def _below(value: float, limit: float | None) -> bool:
    return limit is not None and value < limit and not math.isclose(value, limit, rel_tol=1e-9)


def _above(value: float, limit: float | None) -> bool:
    return limit is not None and value > limit and not math.isclose(value, limit, rel_tol=1e-9)


def parameter_violation(parameter: ProtocolParameter, recorded: RecordedValue) -> str | None:
    """The recorded value, in words, when it falls outside what the parameter allows; None when it complies."""
    if parameter.value_type == ParameterType.NUMBER:
        value = float(recorded.value)
        actual = _with_unit(_number(value), recorded.unit or parameter.unit)
        if recorded.unit and parameter.unit and recorded.unit != parameter.unit:
            return actual
        if _below(value, parameter.min_value) or _above(value, parameter.max_value):
            return actual
        return None
    if parameter.value_type == ParameterType.CHOICE:
        allowed = {_normalised(choice) for choice in parameter.choices}
        if _normalised(recorded.value) not in allowed:
            return _with_unit(_normalised(recorded.value), recorded.unit)
    return None


@dataclass(frozen=True)
class Finding:
    """One recorded value outside the range of the protocol version its record pins."""

    record_type: str
    record_id: int
    record_label: str
    protocol_version: ProtocolVersion
    parameter: str
    expected: str
    actual: str

    @property
    def key(self) -> tuple[str, int, int, str]:
        return (self.record_type, self.record_id, self.protocol_version.pk, self.parameter)

    @property
    def sentence(self) -> str:
        version = self.protocol_version
        return (
            f"{self.record_label}: {parameter_words(self.record_type, self.parameter)} is {self.actual}, "
            f"but {version.protocol.code} v{version.number} allows {self.expected}"
        )


def deviation_key(deviation: Deviation) -> tuple[str, int, int, str]:
    return (deviation.record_type, deviation.record_id, deviation.protocol_version_id, deviation.parameter)


def deviation_findings(*, batch: SecretomeBatch) -> list[Finding]:
    """Every recorded value of the batch and its steps outside its pinned protocol version's range."""
    steps = batch_step_records(batch=batch)
    versions = _pinned_versions(steps)
    findings: list[Finding] = []
    for step in steps:
        version = versions.get(step.record.protocol_version_id)
        if version is None:
            continue
        for parameter in version.parameters.all():
            recorded = recorded_value(step.kind, step.record, parameter.name)
            if recorded is None:
                continue
            actual = parameter_violation(parameter, recorded)
            if actual is None:
                continue
            findings.append(
                Finding(
                    record_type=step.kind.record_type,
                    record_id=step.record.pk,
                    record_label=step.label,
                    protocol_version=version,
                    parameter=parameter.name,
                    expected=parameter_allowed_text(parameter),
                    actual=actual,
                )
            )
    return findings


def parameter_words(record_type: str, parameter: str) -> str:
    """An SOP parameter named after a record's field reads as that field's label, mid-sentence."""
    model = {"priming": "primingcondition", "batch": "secretomebatch"}.get(record_type, record_type.replace("_", ""))
    return mid_sentence(field_label(model, parameter))


def deviation_sentence(deviation: Deviation) -> str:
    version = deviation.protocol_version
    return (
        f"{deviation.record_label or deviation.get_record_type_display()}: "
        f"{parameter_words(deviation.record_type, deviation.parameter)} is "
        f"{deviation.actual}, but {version.protocol.code} v{version.number} allows {deviation.expected}"
    )


def deviation_release_blockers(*, batch: SecretomeBatch) -> list[str]:
    """A sentence for every deviation that still stands between this batch and its release."""
    blockers: list[str] = []
    deviations = list(
        Deviation.objects.filter(batch_id=batch.pk)
        .exclude(status=DeviationStatus.CLOSED)
        .select_related("protocol_version__protocol")
        .order_by("record_type", "record_id", "parameter", "created_at")
    )
    for deviation in deviations:
        if deviation.status == DeviationStatus.OPEN and not deviation.justification.strip():
            blockers.append(f"Deviation — {deviation_sentence(deviation)}; it needs a justification and approval.")
        elif deviation.status == DeviationStatus.OPEN:
            blockers.append(f"Deviation — {deviation_sentence(deviation)}; it waits for a reviewer's approval.")
        elif deviation.status == DeviationStatus.REJECTED:
            blockers.append(f"Deviation — {deviation_sentence(deviation)}; a reviewer rejected it.")
    covered = {
        (deviation_key(d), d.actual)
        for d in deviations
        if d.status in {DeviationStatus.OPEN, DeviationStatus.APPROVED, DeviationStatus.REJECTED}
    }
    open_keys = {deviation_key(d) for d in deviations if d.status == DeviationStatus.OPEN}
    for finding in deviation_findings(batch=batch):
        if finding.key in open_keys or (finding.key, finding.actual) in covered:
            continue
        blockers.append(f"Deviation not yet raised — {finding.sentence}; run the deviation check.")
    return blockers


# --- versions --------------------------------------------------------------------------------------
def _parameter_values(parameter: ProtocolParameter) -> dict:
    return {name: getattr(parameter, name) for name in PARAMETER_FIELDS}


def protocol_version_diff(*, version: ProtocolVersion, against: ProtocolVersion) -> dict:
    """What changed from `against` (the older text, usually) to `version`: the body and the parameters."""
    if against.protocol_id != version.protocol_id:
        raise ValidationError({"against": ["Compare two versions of the same protocol."]})
    old_params = {p.name: p for p in against.parameters.all()}
    new_params = {p.name: p for p in version.parameters.all()}
    changed = []
    for name in sorted(old_params.keys() & new_params.keys()):
        before, after = _parameter_values(old_params[name]), _parameter_values(new_params[name])
        differences = {
            field: {"from": before[field], "to": after[field]}
            for field in PARAMETER_FIELDS
            if before[field] != after[field]
        }
        if differences:
            changed.append(
                {
                    "name": name,
                    "changes": differences,
                    "from": parameter_allowed_text(old_params[name]),
                    "to": parameter_allowed_text(new_params[name]),
                }
            )
    code = version.protocol.code
    body_diff = list(
        difflib.unified_diff(
            against.body.splitlines(),
            version.body.splitlines(),
            fromfile=f"{code} v{against.number}",
            tofile=f"{code} v{version.number}",
            lineterm="",
        )
    )
    return {
        "protocol": code,
        "from_version": {"id": against.pk, "number": against.number, "status": against.status},
        "to_version": {"id": version.pk, "number": version.number, "status": version.status},
        "change_summary": version.change_summary,
        "body_changed": against.body != version.body,
        "body_diff": "\n".join(body_diff),
        "parameters": {
            "added": [
                {
                    "name": name,
                    **_parameter_values(new_params[name]),
                    "allowed": parameter_allowed_text(new_params[name]),
                }
                for name in sorted(new_params.keys() - old_params.keys())
            ],
            "removed": [
                {
                    "name": name,
                    **_parameter_values(old_params[name]),
                    "allowed": parameter_allowed_text(old_params[name]),
                }
                for name in sorted(old_params.keys() - new_params.keys())
            ],
            "changed": changed,
        },
    }


def protocol_version_batches(*, version: ProtocolVersion) -> QuerySet[SecretomeBatch]:
    """Every batch that followed this version at some step — directly, or through the cells it was made from."""
    batches = SecretomeBatch.objects.filter(lab_id=version.lab_id)
    kind = STEP_KIND_BY_CATEGORY.get(version.protocol.category)
    if kind is None:
        return batches.none()
    if kind.record_type == RecordType.BATCH:
        batches = batches.filter(protocol_version=version)
    elif kind.record_type == RecordType.CELL_LINE:
        batches = batches.filter(passage__cell_line__protocol_version=version)
    elif kind.record_type == RecordType.PRIMING:
        batches = batches.filter(priming__protocol_version=version)
    elif kind.record_type == RecordType.PASSAGE:
        batches = batches.filter(passage_id__in=_passages_descending_from_pins(version))
    else:
        pinned = kind.model.objects.filter(protocol_version=version).values("batch_id")
        batches = batches.filter(pk__in=pinned)
    return batches.order_by("-created_at", "-pk")


def _passages_descending_from_pins(version: ProtocolVersion) -> set[int]:
    """Passages pinned to the version, and every later passage grown from them (one query per generation)."""
    found = set(Passage.objects.filter(protocol_version=version).values_list("pk", flat=True))
    frontier = set(found)
    while frontier:
        frontier = set(Passage.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)) - found
        found |= frontier
    return found
