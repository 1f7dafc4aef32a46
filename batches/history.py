"""The audit trail as a PI reads it: what changed in lab words, old → new with units, who, when and why."""

import datetime as dt
from collections import defaultdict
from dataclasses import dataclass, field

from django.apps import apps
from django.core.exceptions import FieldDoesNotExist
from django.db import models

from batches.labels import in_words, label_with_unit, words_for
from lims.selectors.audit_trail import AuditEntry
from lims.templatetags.lims_format import num

# Bookkeeping a reader does not need: ids, locks, stamps, ownership and hashes stay in the folded detail.
QUIET = {"id", "lab", "version", "created_at", "updated_at", "created_by", "content_type", "object_id", "record_id"}
QUIET_PARTS = ("hash", "fingerprint", "digest", "token", "secret")
ACTIONS = {"insert": "added", "update": "changed", "delete": "removed", "snapshot": "recorded"}
EMPTY = "—"


@dataclass
class ReadableChange:
    label: str
    old: str
    new: str


@dataclass
class ReadableEntry:
    at: dt.datetime
    who: str
    what: str
    reason: str
    changes: list[ReadableChange] = field(default_factory=list)
    raw: AuditEntry | None = None


def _model(record_type: str) -> type[models.Model] | None:
    try:
        return apps.get_model(record_type)
    except (LookupError, ValueError):
        return None


def _field(model, name: str) -> models.Field | None:
    if model is None:
        return None
    try:
        return model._meta.get_field(name)
    except FieldDoesNotExist:
        return None


def _shown(name: str) -> bool:
    return name not in QUIET and not any(part in name for part in QUIET_PARTS)


def _related_names(entries: list[AuditEntry]) -> dict[type, dict]:
    """The names of every row a change links to, fetched once per related model."""
    wanted: dict[type, set] = defaultdict(set)
    for entry in entries:
        model = _model(entry.record_type)
        for change in entry.changes:
            model_field = _field(model, change.field)
            if isinstance(model_field, models.ForeignKey) and _shown(change.field):
                wanted[model_field.related_model].update(v for v in (change.old, change.new) if isinstance(v, int))
    return {related: related._default_manager.in_bulk(ids) for related, ids in wanted.items() if ids}


def _value(model, name: str, value, names: dict[type, dict]) -> str:
    if value is None or value == "" or value == [] or value == {}:
        return EMPTY
    model_field = _field(model, name)
    if isinstance(model_field, models.ForeignKey):
        row = names.get(model_field.related_model, {}).get(value)
        if row is None:
            return "a record no longer shown"
        full_name = getattr(row, "get_full_name", None)  # a person by their name, as the "Who" column
        return (full_name() if full_name else "") or str(row)
    if model_field is not None and model_field.choices:
        return str(dict(model_field.flatchoices).get(value, value))
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, dt.datetime):
        return value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, int | float):
        unit = words_for(model, name).unit
        return f"{num(value)} {unit}".strip()
    if isinstance(value, dict) or (isinstance(value, list) and any(isinstance(v, list | dict) for v in value)):
        return "recorded (see the database record)"
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return in_words(str(value), model)


# The fields that name a row that has no name of its own, when it is added ("QC result Endotoxin added").
NAMING_FIELDS = {
    "qcresult": ("assay", "analyte"),
    "processingstep": ("order", "kind"),
    "administration": ("group",),
    "aliquotevent": ("kind",),
    "batchevent": ("kind",),
    "outcomemeasure": ("test",),
}


def _what(entry: AuditEntry, model=None, names=None) -> str:
    kind = entry.record_type_label[:1].upper() + entry.record_type_label[1:]
    record = entry.record if not entry.record.startswith("#") else ""
    if not record and model is not None and entry.action == "insert":
        values = {change.field: change.new for change in entry.changes}
        parts = []
        for name in NAMING_FIELDS.get(model._meta.model_name, ()):
            if values.get(name) not in (None, ""):
                shown = _value(model, name, values[name], names or {})
                parts.append(f"#{shown}" if name == "order" else shown)
        record = " ".join(parts)
    return f"{kind} {record} {ACTIONS.get(entry.action, entry.action)}".replace("  ", " ")


def readable_history(entries: list[AuditEntry]) -> list[ReadableEntry]:
    names = _related_names(entries)
    readable = []
    for entry in entries:
        model = _model(entry.record_type)
        changes = [
            ReadableChange(
                label=label_with_unit(model, change.field),
                old=_value(model, change.field, change.old, names),
                new=_value(model, change.field, change.new, names),
            )
            for change in entry.changes
            if _shown(change.field)
        ]
        readable.append(
            ReadableEntry(
                at=entry.at,
                who=entry.user_name or entry.username or "the system",
                what=_what(entry, model, names),
                reason=entry.reason,
                changes=changes,
                raw=entry,
            )
        )
    return readable
