"""The audit trail as a reviewer or an inspector reads it: who, what, when, old → new, why, through which door.

Built from the trigger-based row history (one `<Model>History` table per tracked model) and the
pghistory context each change was made in. Per batch it covers the batch and every row that hangs
off it (processing, aliquots and their events, QC results, checklist reports, deviations,
administrations, and the signatures on any of them), including rows deleted since. Per lab it covers
every lab-owned record.
"""

import csv
import datetime as dt
import io
from dataclasses import dataclass, field

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ValidationError
from django.db.models import OuterRef, Q, Subquery
from pghistory.models import Event

# Bookkeeping columns every update changes; the event time already says when.
_QUIET_FIELDS = frozenset({"updated_at", "version"})
_NAME_FIELDS = ("code", "name", "title", "username")
CSV_COLUMNS = (
    "at_utc",
    "user",
    "user_name",
    "action",
    "record_type",
    "record_id",
    "record",
    "field",
    "old_value",
    "new_value",
    "reason",
    "request_id",
    "task_id",
    "source",
    "event",
)


@dataclass(frozen=True)
class AuditTrailFilters:
    user_id: int | None = None
    models: tuple[str, ...] = ()  # tracked model labels, e.g. "batches.qcresult"
    since: dt.datetime | None = None
    until: dt.datetime | None = None
    actions: tuple[str, ...] = ()  # insert, update, delete
    limit: int | None = 1000  # newest first; None for everything


@dataclass(frozen=True)
class FieldChange:
    field: str
    old: object
    new: object


@dataclass
class AuditEntry:
    at: dt.datetime
    action: str
    record_type: str
    record_type_label: str
    record_id: object
    record: str
    user_id: int | None
    username: str
    user_name: str
    reason: str
    request_id: str
    task_id: str
    source: str
    event_table: str
    event_id: int
    context_id: str | None
    changes: list[FieldChange] = field(default_factory=list)


def tracked_models() -> dict[str, type]:
    """Every history model, by the label of the model it tracks."""
    found = {}
    for model in apps.get_models():
        if issubclass(model, Event) and getattr(model, "pgh_tracked_model", None) is not None:
            tracked = model.pgh_tracked_model
            found[f"{tracked._meta.app_label}.{tracked._meta.model_name}"] = model
    return found


def _tracked_fields(event_model) -> list:
    return [f for f in event_model._meta.concrete_fields if not f.name.startswith("pgh_")]


def _fk_to(event_model, target) -> list[str]:
    """Attnames of the history model's columns that point at `target` (the FKs the tracked model has)."""
    tracked = event_model.pgh_tracked_model
    names = [
        f.name
        for f in tracked._meta.concrete_fields
        if f.is_relation and f.related_model is not None and f.related_model._meta.concrete_model is target
    ]
    columns = {f.name: f.attname for f in _tracked_fields(event_model)}
    return [columns[name] for name in names if name in columns]


def _validate(filters: AuditTrailFilters, known: dict[str, type]) -> None:
    unknown = [label for label in filters.models if label not in known]
    if unknown:
        raise ValidationError({"model": [f"Unknown record type {', '.join(unknown)}; choose from {', '.join(known)}."]})
    bad_actions = [a for a in filters.actions if a not in {"insert", "update", "delete"}]
    if bad_actions:
        raise ValidationError({"action": ["Choose insert, update or delete."]})
    if filters.since and filters.until and filters.since > filters.until:
        raise ValidationError({"until": ["The end of the date range is before its start."]})
    if filters.limit is not None and filters.limit < 1:
        raise ValidationError({"limit": ["Ask for at least one entry."]})


def _scoped_query(event_model, scope: Q, filters: AuditTrailFilters):
    queryset = event_model.objects.filter(scope)
    if filters.user_id is not None:
        queryset = queryset.filter(pgh_context__metadata__user=filters.user_id)
    if filters.since is not None:
        queryset = queryset.filter(pgh_created_at__gte=filters.since)
    if filters.until is not None:
        queryset = queryset.filter(pgh_created_at__lte=filters.until)
    if filters.actions:
        queryset = queryset.filter(pgh_label__in=filters.actions)
    previous = event_model.objects.filter(pgh_obj_id=OuterRef("pgh_obj_id"), pgh_id__lt=OuterRef("pgh_id"))
    queryset = queryset.annotate(previous_id=Subquery(previous.order_by("-pgh_id").values("pgh_id")[:1]))
    queryset = queryset.select_related("pgh_context").order_by("-pgh_created_at", "-pgh_id")
    return queryset if filters.limit is None else queryset[: filters.limit]


def _record_name(event, fields) -> str:
    names = {f.name for f in fields}
    for name in _NAME_FIELDS:
        if name in names and getattr(event, name, ""):
            return str(getattr(event, name))
    return f"#{event.pgh_obj_id}"


def _changes(event, previous, fields) -> list[FieldChange]:
    shown = [f for f in fields if f.name not in _QUIET_FIELDS]
    if event.pgh_label == "delete":
        return [FieldChange(f.name, getattr(event, f.attname), None) for f in shown]
    if previous is None:
        return [
            FieldChange(f.name, None, getattr(event, f.attname))
            for f in shown
            if getattr(event, f.attname) not in (None, "", [], {})
        ]
    return [
        FieldChange(f.name, getattr(previous, f.attname), getattr(event, f.attname))
        for f in shown
        if getattr(previous, f.attname) != getattr(event, f.attname)
    ]


def _entries(scopes: list[tuple[str, type, Q]], filters: AuditTrailFilters) -> list[AuditEntry]:
    entries: list[AuditEntry] = []
    for label, event_model, scope in scopes:
        if filters.models and label not in filters.models:
            continue
        events = list(_scoped_query(event_model, scope, filters))
        previous = event_model.objects.in_bulk([e.previous_id for e in events if e.previous_id])
        fields = _tracked_fields(event_model)
        tracked = event_model.pgh_tracked_model
        for event in events:
            metadata = (event.pgh_context.metadata if event.pgh_context_id and event.pgh_context else {}) or {}
            entries.append(
                AuditEntry(
                    at=event.pgh_created_at,
                    action=event.pgh_label,
                    record_type=label,
                    record_type_label=str(tracked._meta.verbose_name),
                    record_id=event.pgh_obj_id,
                    record=_record_name(event, fields),
                    user_id=metadata.get("user"),
                    username="",
                    user_name="",
                    reason=str(metadata.get("reason", "")),
                    request_id=str(metadata.get("request_id", "")),
                    task_id=str(metadata.get("task_id", "")),
                    source=str(metadata.get("url") or metadata.get("command") or metadata.get("task") or ""),
                    event_table=event_model._meta.db_table,
                    event_id=event.pgh_id,
                    context_id=str(event.pgh_context_id) if event.pgh_context_id else None,
                    changes=_changes(event, previous.get(event.previous_id), fields),
                )
            )
    entries.sort(key=lambda e: (e.at, e.event_table, e.event_id), reverse=True)
    if filters.limit is not None:
        entries = entries[: filters.limit]
    users = get_user_model().objects.in_bulk({e.user_id for e in entries if isinstance(e.user_id, int)})
    for entry in entries:
        user = users.get(entry.user_id)
        if user is not None:
            entry.username = user.get_username()
            entry.user_name = user.get_full_name()
    return entries


def _signature_scope(records: dict[type, set]) -> Q:
    scope = Q(pk__in=[])
    for model, ids in records.items():
        if ids:
            content_type = ContentType.objects.get_for_model(model)
            scope |= Q(content_type_id=content_type.pk, object_id__in=sorted(ids))
    return scope


def audit_trail_for_batch(*, batch, filters: AuditTrailFilters | None = None) -> list[AuditEntry]:
    """The batch's own history and that of every row hanging off it, newest first."""
    filters = filters or AuditTrailFilters()
    known = tracked_models()
    _validate(filters, known)
    batch_model = type(batch)._meta.concrete_model
    scopes: list[tuple[str, type, Q]] = []
    related_ids: dict[type, set] = {batch_model: {batch.pk}}
    batch_label = f"{batch_model._meta.app_label}.{batch_model._meta.model_name}"
    scopes.append((batch_label, known[batch_label], Q(pgh_obj_id=batch.pk)))
    first_level = {}
    for label, event_model in known.items():
        tracked = event_model.pgh_tracked_model
        columns = [c for c in _fk_to(event_model, batch_model) if c == "batch_id"]
        if tracked is batch_model or not columns:
            continue
        ids = set(event_model.objects.filter(batch_id=batch.pk).values_list("pgh_obj_id", flat=True).distinct())
        first_level[tracked] = ids
        related_ids[tracked] = ids
        scopes.append((label, event_model, Q(batch_id=batch.pk)))
    for label, event_model in known.items():
        tracked = event_model.pgh_tracked_model
        if tracked in related_ids or label == "lims.signature":
            continue
        scope = Q(pk__in=[])
        for parent, ids in first_level.items():
            for column in _fk_to(event_model, parent):
                if ids:
                    scope |= Q(**{f"{column}__in": sorted(ids)})
        if scope != Q(pk__in=[]):
            related_ids.setdefault(tracked, set()).update(
                event_model.objects.filter(scope).values_list("pgh_obj_id", flat=True).distinct()
            )
            scopes.append((label, event_model, scope))
    if "lims.signature" in known:
        scopes.append(("lims.signature", known["lims.signature"], _signature_scope(related_ids)))
    return _entries(scopes, filters)


def audit_trail_for_lab(*, lab, filters: AuditTrailFilters | None = None) -> list[AuditEntry]:
    """Every change to the lab and to every record it owns, newest first."""
    filters = filters or AuditTrailFilters()
    known = tracked_models()
    _validate(filters, known)
    scopes: list[tuple[str, type, Q]] = []
    for label, event_model in known.items():
        tracked = event_model.pgh_tracked_model
        if tracked is type(lab)._meta.concrete_model:
            scopes.append((label, event_model, Q(pgh_obj_id=lab.pk)))
        elif "lab_id" in {f.attname for f in _tracked_fields(event_model)}:
            scopes.append((label, event_model, Q(lab_id=lab.pk)))
    return _entries(scopes, filters)


def _cell(value) -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        text = value.astimezone(dt.UTC).isoformat()
    elif isinstance(value, dt.date):
        text = value.isoformat()
    else:
        text = str(value)
    # A spreadsheet would run a cell starting with these as a formula (CSV injection); numbers stay numbers.
    if text[:1] in ("=", "+", "-", "@", "\t", "\r"):
        try:
            float(text)
        except ValueError:
            text = "'" + text
    return text


def audit_trail_csv(rows: list[AuditEntry]) -> str:
    """One line per changed field (an event without field changes gets one line), UTC times."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for entry in rows:
        common = [
            _cell(entry.at),
            _cell(entry.username or entry.user_id),
            _cell(entry.user_name),
            entry.action,
            entry.record_type,
            _cell(entry.record_id),
            _cell(entry.record),
        ]
        tail = [
            _cell(entry.reason),
            _cell(entry.request_id),
            _cell(entry.task_id),
            _cell(entry.source),
            f"{entry.event_table}:{entry.event_id}",
        ]
        for change in entry.changes or [None]:
            middle = ["", "", ""] if change is None else [change.field, _cell(change.old), _cell(change.new)]
            writer.writerow(common + middle + tail)
    return out.getvalue()
