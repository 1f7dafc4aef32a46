"""Applying a sheet's rows through the same services as every other write, in one transaction.

Every row is read, matched by its codes and written through the record services (roles, locks, reasons,
field rules and the database constraints all apply). Nothing is kept unless the whole file went through
without a problem and the run is a commit: a dry run, or a run with any problem, is rolled back at the end,
so the preview shows exactly what the commit would do.
"""

import datetime as dt
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings
from django.core.exceptions import NON_FIELD_ERRORS, PermissionDenied, ValidationError
from django.db import DatabaseError, models, transaction

from batches.choices import QCStatus
from batches.imports import values
from batches.imports.bulk import BulkWriter, RedoWithServices, is_unsaved
from batches.imports.files import IGNORED_HEADING, Table, column_letter
from batches.imports.sheets import (
    Column,
    Section,
    Sheet,
    Unresolved,
    agent_rows,
    create,
    heading_names,
    normalise_heading,
    update,
)
from batches.models import Passage, PrimingAgent, ProcessingStep, QCResult
from batches.services.records import Conflict
from lims.audit import audit_context

ACTIONS = ("create", "update", "unchanged")
_DJANGO_REQUIRED = {"This field cannot be null.", "This field cannot be blank.", "This field is required."}


@dataclass
class Problem:
    row: int  # as the spreadsheet numbers it (1 = the heading row)
    column: int | None  # 0-based position in the file, None when the file has no such column
    heading: str
    message: str

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "column": column_letter(self.column) if self.column is not None else "",
            "heading": self.heading,
            "message": self.message,
        }


@dataclass
class Change:
    row: int
    record: str
    label: str
    action: str
    changes: dict[str, list[str]] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "row": self.row,
            "record": self.record,
            "label": self.label,
            "action": self.action,
            "changes": self.changes,
        }


@dataclass
class Outcome:
    rows: int = 0
    problems: list[Problem] = field(default_factory=list)
    changes: list[Change] = field(default_factory=list)
    counts: dict[str, dict[str, int]] = field(default_factory=dict)
    unknown_columns: list[str] = field(default_factory=list)
    committed: bool = False

    def snapshot(self) -> tuple[int, int, dict[str, dict[str, int]]]:
        return len(self.problems), len(self.changes), {record: dict(c) for record, c in self.counts.items()}

    def restore(self, snapshot: tuple[int, int, dict[str, dict[str, int]]]) -> None:
        problems, changes, counts = snapshot
        del self.problems[problems:]
        del self.changes[changes:]
        self.counts = {record: dict(c) for record, c in counts.items()}

    def count(self, change: Change) -> None:
        per_record = self.counts.setdefault(change.record, dict.fromkeys(ACTIONS, 0))
        per_record[change.action] += 1
        if len(self.changes) < settings.IMPORT_PREVIEW_LIMIT and change.action != "unchanged":
            self.changes.append(change)

    @property
    def totals(self) -> dict[str, int]:
        return {action: sum(counts[action] for counts in self.counts.values()) for action in ACTIONS}

    def as_dict(self) -> dict[str, Any]:
        return {
            "rows": self.rows,
            "committed": self.committed,
            "totals": self.totals,
            "counts": self.counts,
            "unknown_columns": self.unknown_columns,
            "errors": [problem.as_dict() for problem in sorted(self.problems, key=_problem_order)],
            "changes": [change.as_dict() for change in self.changes],
        }


def _problem_order(problem: Problem) -> tuple[int, int]:
    return problem.row, -1 if problem.column is None else problem.column


class _RollBack(Exception):
    pass


_FAILED = object()  # a section of the row that could not be written; the sections that need it are skipped


def display(value: Any) -> str:
    if value is None or value is values.NOTHING:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, float):
        return f"{value:g}"
    if isinstance(value, dt.datetime | dt.date):
        return value.isoformat()
    return str(value)


# --- Headings -----------------------------------------------------------------------------------------


def match_columns(sheet: Sheet, headings: list[str]) -> tuple[dict[str, int], list[tuple[int, str]], list[Problem]]:
    """(column key → position in the file, unknown headings, problems) — case, spaces and units do not matter."""
    exact: dict[str, set[str]] = {}
    loose: dict[str, set[str]] = {}
    single = sheet.sections[0] if len(sheet.sections) == 1 else None
    for column in sheet.columns:
        exact_names, loose_names = heading_names(column)
        if single is not None:  # "Donor code" on the donors sheet, as on the lineage sheet
            loose_names = loose_names | {normalise_heading(f"{single.title} {column.label}")}
        for name in exact_names:
            exact.setdefault(name, set()).add(column.key)
        for name in loose_names:
            loose.setdefault(name, set()).add(column.key)
    unique = {name: next(iter(keys)) for name, keys in loose.items() if len(keys) == 1 and name not in exact}
    unique |= {name: next(iter(keys)) for name, keys in exact.items() if len(keys) == 1}
    by_key = {column.key: column for column in sheet.columns}
    found: dict[str, int] = {}
    unknown: list[tuple[int, str]] = []
    problems: list[Problem] = []
    for index, heading in enumerate(headings):
        if not heading or normalise_heading(heading) == normalise_heading(IGNORED_HEADING):
            continue
        name = normalise_heading(heading)
        key = unique.get(name) or unique.get(normalise_heading(heading.split("(")[0]))
        if key is None:
            unknown.append((index, heading))
            continue
        if key in found:
            problems.append(
                Problem(
                    1,
                    index,
                    heading,
                    f"Column {column_letter(index)} repeats column {column_letter(found[key])} "
                    f"({by_key[key].heading}); keep one of them.",
                )
            )
            continue
        found[key] = index
    if not found:
        problems.append(
            Problem(1, None, "", f"None of the headings is a column of the {sheet.title} sheet; download its template.")
        )
    if len(sheet.sections) == 1:
        for column in sheet.columns:
            if column.required and column.key not in found:
                problems.append(
                    Problem(1, None, column.heading, f"The sheet has no '{column.heading}' column; it is required.")
                )
    return found, unknown, problems


# --- Finding records of the lab, remembering those this file made -----------------------------------


class _Unsaved:
    """A record this import has yet to insert, as part of a lookup key (it has no primary key yet)."""

    __slots__ = ("instance",)

    def __init__(self, instance: models.Model):
        self.instance = instance

    def __eq__(self, other: object) -> bool:
        return isinstance(other, _Unsaved) and other.instance is self.instance

    def __hash__(self) -> int:
        return id(self.instance)


def _ref(value: Any) -> Any:
    if isinstance(value, models.Model):
        return value.pk if value.pk is not None else _Unsaved(value)
    return value


class Context:
    def __init__(self, *, lab, actor, reason: str | None = None):
        self.lab = lab
        self.actor = actor
        self.reason = reason
        self._found: dict[tuple, models.Model | None] = {}
        self.first_given: dict[tuple, tuple[int, dict[str, Any]]] = {}
        self.failed: set[tuple] = set()
        self._complete: set[tuple] = set()  # (model, field, parent pk): every such record of the lab is known
        self._unsaved_keys: list[tuple] = []

    def key(self, model, lookup: dict[str, Any]) -> tuple:
        key = model, tuple(sorted((name, _ref(value)) for name, value in lookup.items()))
        if any(isinstance(value, _Unsaved) for _, value in key[1]):
            self._unsaved_keys.append(key)
        return key

    _lookup_key = key

    def find(self, model: type[models.Model], **lookup) -> models.Model | None:
        key = self.key(model, lookup)
        if key not in self._found:
            if any(isinstance(value, _Unsaved) or (model, name, value) in self._complete for name, value in key[1]):
                self._found[key] = None  # under a record not written yet, or all its records were read
                return None
            queryset = model._default_manager.filter(lab=self.lab)
            if model is QCResult:
                queryset = queryset.exclude(status=QCStatus.SUPERSEDED)
            self._found[key] = queryset.filter(**{name: getattr(v, "pk", v) for name, v in lookup.items()}).first()
        return self._found[key]

    def remember(self, model, lookup: dict[str, Any], instance: models.Model) -> None:
        self._found[self.key(model, lookup)] = instance

    # --- Reading a chunk's records in a few queries ---------------------------------------------

    def prefetch(self, model: type[models.Model], field_name: str, wanted: set[Any]) -> list[models.Model]:
        """The lab's records of `model` whose `field_name` is one of `wanted` (one query), remembered."""
        missing = {value for value in wanted if (model, ((field_name, value),)) not in self._found}
        found = []
        if missing:
            found = list(model._default_manager.filter(lab=self.lab, **{f"{field_name}__in": missing}))
            for instance in found:
                self.remember(model, {field_name: getattr(instance, field_name)}, instance)
            for value in missing:
                self._found.setdefault((model, ((field_name, value),)), None)
        return [
            instance for value in wanted if (instance := self._found.get((model, ((field_name, value),)))) is not None
        ]

    def prefetch_children(self, model: type[models.Model], parent_field: str, number_field: str, parents) -> None:
        """Every `model` record of these parents (one query), found later by (parent, number) without a query."""
        parents = {parent.pk: parent for parent in parents if (model, parent_field, parent.pk) not in self._complete}
        if not parents:
            return
        children = list(model._default_manager.filter(lab=self.lab, **{f"{parent_field}_id__in": list(parents)}))
        by_pk = {child.pk: child for child in children}
        for child in children:
            parent = parents[getattr(child, f"{parent_field}_id")]
            setattr(child, parent_field, parent)
            if model is Passage and child.parent_id in by_pk:
                child.parent = by_pk[child.parent_id]
            self.remember(model, {parent_field: parent, number_field: getattr(child, number_field)}, child)
        self._complete |= {(model, parent_field, pk) for pk in parents}

    # --- After records were inserted, and when a chunk is written again -------------------------

    def rekey(self) -> None:
        """Records inserted since the last call now have primary keys: their lookups use them."""
        keys, self._unsaved_keys = self._unsaved_keys, []
        for key in dict.fromkeys(keys):
            model, pairs = key
            if any(isinstance(v, _Unsaved) and v.instance.pk is None for _, v in pairs):
                self._unsaved_keys.append(key)
                continue
            saved = model, tuple((name, v.instance.pk if isinstance(v, _Unsaved) else v) for name, v in pairs)
            for store in (self._found, self.first_given):
                if key in store:
                    store[saved] = store.pop(key)
            if key in self.failed:
                self.failed.discard(key)
                self.failed.add(saved)

    def snapshot(self) -> tuple:
        return dict(self._found), dict(self.first_given), set(self.failed), set(self._complete), [*self._unsaved_keys]

    def restore(self, snapshot: tuple) -> None:
        found, first_given, failed, complete, unsaved_keys = snapshot
        self._found, self.first_given, self.failed = dict(found), dict(first_given), set(failed)
        self._complete, self._unsaved_keys = set(complete), [*unsaved_keys]


# --- Writing rows ----------------------------------------------------------------------------------


class RowWriter:
    def __init__(self, *, sheet: Sheet, positions: dict[str, int], headings: list[str], ctx: Context, outcome: Outcome):
        self.sheet = sheet
        self.positions = positions
        self.headings = headings
        self.ctx = ctx
        self.outcome = outcome
        self.bulk: BulkWriter | None = None  # set while a chunk's new records are written in bulk

    def flush(self) -> None:
        if self.bulk is not None:
            self.bulk.flush()
            self.ctx.rekey()

    def _problem(self, row: int, column: Column | None, message: str) -> None:
        position = self.positions.get(column.key) if column is not None else None
        heading = self.headings[position] if position is not None else (column.heading if column else "")
        problem = Problem(row, position, heading, message)
        if problem not in self.outcome.problems[-5:]:  # e.g. every aliquot of a row refused for the same cell
            self.outcome.problems.append(problem)

    def write_row(self, number: int, cells: list[Any]) -> None:
        given: dict[str, Any] = {}
        bad: set[str] = set()
        for column in self.sheet.columns:
            position = self.positions.get(column.key)
            raw = cells[position] if position is not None and position < len(cells) else None
            if values.is_not_recorded(raw):
                given[column.key] = values.NOTHING
                continue
            if isinstance(raw, str) and raw.lstrip().startswith("="):
                self._problem(number, column, f"'{raw[:40]}' is a formula; write the value itself.")
                bad.add(column.key)
                continue
            try:
                given[column.key] = column.reader(raw)
            except values.CellError as error:
                self._problem(number, column, str(error))
                bad.add(column.key)
        made: dict[str, Any] = {}
        for section in self.sheet.sections:
            made[section.name] = self._write_section(section, number, given, bad, made)

    def _write_section(self, section: Section, row: int, given: dict[str, Any], bad: set[str], made: dict[str, Any]):
        keys = [column.key for column in section.columns]
        present = any(given.get(key, values.NOTHING) is not values.NOTHING for key in keys) or any(
            key in bad for key in keys
        )
        if not present:
            return None
        if any(key in bad for key in keys):
            return _FAILED
        data: dict[str, Any] = {
            column.field: given[column.key]
            for column in section.columns
            if column.field and given[column.key] is not values.NOTHING
        }
        data |= section.fixed
        for link in section.links:
            if link.section:
                parent = made.get(link.section)
                if parent is _FAILED:
                    return _FAILED
                if parent is None:
                    if link.required:
                        other = next(s for s in self.sheet.sections if s.name == link.section)
                        self._problem(
                            row,
                            section.key_column(),
                            f"A {section.title.lower()} needs its {other.title.lower()}: "
                            f"fill '{other.key_column().heading}'.",
                        )
                        return _FAILED
                    continue
                data[link.field] = parent
                continue
            linked = {key: given.get(key, values.NOTHING) for key in link.columns}
            column = next(c for c in section.columns if c.key == link.columns[0])
            if all(value is values.NOTHING for value in linked.values()):
                if link.required:
                    self._problem(row, column, f"Required: the {section.title.lower()} is found by it.")
                    return _FAILED
                continue
            try:
                data[link.field] = link.resolve(self.ctx, linked, data)
            except Unresolved as error:
                self._problem(row, column, str(error))
                return _FAILED
        agents = None
        if section.agents:
            agents, agent_problems = agent_rows(section, given)
            for key, message in agent_problems.items():
                self._problem(row, next(c for c in section.columns if c.key == key), message)
            if agent_problems:
                return _FAILED
        if section.count_column:
            count = given.get(section.count_column)
            batch = data.get("batch")
            if count is values.NOTHING or batch is None:
                return None
            if not 1 <= count <= settings.IMPORT_MAX_ALIQUOTS_PER_ROW:
                column = next(c for c in section.columns if c.key == section.count_column)
                self._problem(row, column, f"Give between 1 and {settings.IMPORT_MAX_ALIQUOTS_PER_ROW} aliquots.")
                return _FAILED
            results = [
                self._write_record(section, row, {**data, "code": f"{batch.code}-{index:02d}"}, None)
                for index in range(1, count + 1)
            ]
            return _FAILED if _FAILED in results else results
        return self._write_record(section, row, data, agents)

    def _write_record(self, section: Section, row: int, data: dict[str, Any], agents):
        missing = [name for name in section.key if data.get(name) in (None, "") and not _blank_allowed(section, name)]
        if missing:
            for name in missing:
                column = next((c for c in section.columns if c.field == name), section.key_column())
                self._problem(row, column, f"Required: the {section.title.lower()} is matched by it.")
            return _FAILED
        lookup = {name: data.get(name, "") for name in section.key}
        label = " ".join(display(value) for value in lookup.values() if value not in ("", None))
        ctx = self.ctx
        identity = ctx._lookup_key(section.model, lookup)
        if identity in ctx.failed:
            return _FAILED  # its first row already says what is wrong with it
        earlier = ctx.first_given.get(identity)
        if earlier is not None:
            first_row, first_data = earlier
            clashes = [
                name
                for name, value in data.items()
                if name in first_data and _comparable(first_data[name]) != _comparable(value)
            ]
            if clashes:
                for name in clashes:
                    column = self._column_of(section, name)
                    self._problem(
                        row,
                        column,
                        f"{section.title} {label} is given as '{display(first_data[name])}' in row {first_row}; "
                        "a record written twice must say the same thing.",
                    )
                return _FAILED
            data = {name: value for name, value in data.items() if name not in first_data}
            ctx.first_given[identity] = (first_row, {**first_data, **data})
            if not data:
                return ctx.find(section.model, **lookup)
        else:
            ctx.first_given[identity] = (row, dict(data))
        written = self._write(section, row, label, lookup, data, agents)
        if written is _FAILED:
            ctx.failed.add(identity)
        return written

    def _write(self, section: Section, row: int, label: str, lookup: dict[str, Any], data: dict[str, Any], agents):
        ctx = self.ctx
        existing = ctx.find(section.model, **lookup)
        if existing is None and self.bulk is not None and self.bulk.accepts(section.model, data, agents):
            instance = self.bulk.add(section=section, row=row, data=data, agents=agents)
            ctx.remember(section.model, lookup, instance)
            self.outcome.count(
                Change(row, section.title, label, "create", {name: ["", display(v)] for name, v in data.items()})
            )
            return instance
        if any(is_unsaved(value) for value in data.values()):
            self.flush()  # the services write only links to records that exist
        try:
            if existing is None:
                instance = create(section)(lab=ctx.lab, actor=ctx.actor, data=data, agents=agents)
                ctx.remember(section.model, lookup, instance)
                self.outcome.count(
                    Change(row, section.title, label, "create", {name: ["", display(v)] for name, v in data.items()})
                )
                return instance
            changes = {
                name: [display(_current(existing, name)), display(value)]
                for name, value in data.items()
                if _comparable(_current(existing, name)) != _comparable(value)
            }
            agents_changed = agents is not None and _agents_differ(existing, agents)
            if agents_changed:
                changes["agents"] = [_agents_text(existing), ", ".join(display(a["agent"]) for a in agents)]
            if not changes:
                self.outcome.count(Change(row, section.title, label, "unchanged"))
                return existing
            changed_data = {name: data[name] for name in changes if name in data}
            instance = update(
                instance=existing,
                actor=ctx.actor,
                data=changed_data,
                version=existing.version,
                agents=agents if agents_changed else None,
                reason=ctx.reason,
            )
            ctx.remember(section.model, lookup, instance)
            self.outcome.count(Change(row, section.title, label, "update", changes))
            return instance
        except ValidationError as error:
            self._explain(section, row, label, error)
        except (PermissionDenied, Conflict) as error:
            self._problem(row, section.key_column(), f"{section.title} {label}: {error}")
        except DatabaseError as error:
            # The service's savepoint was rolled back; the import's transaction goes on to the next row.
            first_line = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
            self._problem(
                row, section.key_column(), f"{section.title} {label}: the database refused it ({first_line})."
            )
        return _FAILED

    def _column_of(self, section: Section, name: str) -> Column:
        for column in section.columns:
            if column.field == name:
                return column
        for link in section.links:
            if link.field == name and link.columns:
                return next(c for c in section.columns if c.key == link.columns[0])
        return section.key_column()

    def _explain(self, section: Section, row: int, label: str, error: ValidationError) -> None:
        messages = error.message_dict if hasattr(error, "error_dict") else {NON_FIELD_ERRORS: error.messages}
        for name, texts in messages.items():
            base = name.split(".")
            if base[0] == "agents" and len(base) == 3:
                prefix = section.columns[0].key.removesuffix("name")
                key = f"{prefix}agent_{int(base[1]) + 1}" + ("" if base[2] == "agent" else f"_{base[2]}")
                column = next((c for c in section.columns if c.key == key), section.key_column())
            else:
                column = self._column_of(section, name)
            for text in texts:
                if text in _DJANGO_REQUIRED:
                    text = "Required for a new record."
                if column.field != name and name != NON_FIELD_ERRORS:
                    text = f"{name.replace('_', ' ')}: {text}"
                if self.positions.get(column.key) is None:
                    text = f"{section.title} {label}: {text} (the sheet has no '{column.heading}' column)"
                self._problem(row, column, text)


def _blank_allowed(section: Section, name: str) -> bool:
    model_field = section.model._meta.get_field(name)
    return getattr(model_field, "blank", False) and not model_field.is_relation


def _current(instance: models.Model, name: str) -> Any:
    model_field = instance._meta.get_field(name)
    if model_field.is_relation:
        return getattr(instance, name) if getattr(instance, f"{name}_id") is not None else None
    return getattr(instance, name)


def _comparable(value: Any) -> Any:
    if isinstance(value, models.Model):
        return (type(value), _ref(value))
    return value


def _agents_differ(priming, agents: list[dict[str, Any]]) -> bool:
    existing = {agent.agent: agent for agent in PrimingAgent.objects.filter(priming=priming)}
    if set(existing) != {row["agent"] for row in agents}:
        return True
    return any(getattr(existing[row["agent"]], name) != value for row in agents for name, value in row.items())


def _agents_text(priming) -> str:
    return ", ".join(agent.agent for agent in PrimingAgent.objects.filter(priming=priming))


# --- One run --------------------------------------------------------------------------------------------


def _chunks(rows: list, size: int) -> Iterable[list]:
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


def _prefetch(sheet: Sheet, positions: dict[str, int], rows: list, ctx: Context) -> None:
    """Read, in one query per kind of record, every record the chunk's codes name (and their passages and steps)."""

    def read(column: Column, cells: list[Any]) -> Any:
        position = positions.get(column.key)
        raw = cells[position] if position is not None and position < len(cells) else None
        if values.is_not_recorded(raw) or (isinstance(raw, str) and raw.lstrip().startswith("=")):
            return values.NOTHING
        try:
            return column.reader(raw)
        except values.CellError:
            return values.NOTHING

    wanted: dict[tuple[type[models.Model], str], set[Any]] = {}

    def want(model, field_name: str, column: Column) -> None:
        found = {read(column, cells) for _, cells in rows} - {values.NOTHING, None, ""}
        wanted.setdefault((model, field_name), set()).update(values.text(value) for value in found)

    by_name = {section.name: section for section in sheet.sections}
    for section in sheet.sections:
        if len(section.key) == 1 and not section.count_column:
            column = next((c for c in section.columns if c.field == section.key[0]), None)
            if column is not None:
                want(section.model, section.key[0], column)
        for link in section.links:
            finds = getattr(link.resolve, "finds", None)
            if finds is not None:
                want(*finds, next(c for c in section.columns if c.key == link.columns[0]))
        if section.count_column:
            batch_link = next(link for link in section.links if link.field == "batch" and link.section)
            code_column = by_name[batch_link.section].key_column()
            count_column = next(c for c in section.columns if c.key == section.count_column)
            codes = wanted.setdefault((section.model, "code"), set())
            for _, cells in rows:
                code, count = read(code_column, cells), read(count_column, cells)
                if code not in (values.NOTHING, None, "") and isinstance(count, int):
                    limit = min(count, settings.IMPORT_MAX_ALIQUOTS_PER_ROW)
                    codes.update(f"{values.text(code)}-{index:02d}" for index in range(1, limit + 1))
    found = {key: ctx.prefetch(model, key[1], codes) for key, codes in wanted.items() for model in [key[0]]}
    models_written = {section.model for section in sheet.sections}
    for model, parent_field, number_field in ((Passage, "cell_line", "number"), (ProcessingStep, "batch", "order")):
        if model in models_written:
            parent_model = model._meta.get_field(parent_field).related_model
            ctx.prefetch_children(model, parent_field, number_field, found.get((parent_model, "code"), []))


def run_sheet(
    *,
    sheet: Sheet,
    table: Table,
    lab,
    actor,
    commit: bool,
    reason: str = "",
    context: dict[str, Any] | None = None,
    progress: Callable[[int], None] | None = None,
) -> Outcome:
    """Check (and, when `commit` and nothing is wrong, keep) every row of the table; all or nothing.

    Rows go a chunk at a time: the chunk's records are read in a few queries and its new records inserted in
    bulk (batches.imports.bulk); a chunk with any problem is rolled back to its start and written again row by
    row through the record services, which say exactly what is wrong where."""
    outcome = Outcome(rows=len(table.rows))
    positions, unknown, problems = match_columns(sheet, table.headings)
    outcome.unknown_columns = [f"{heading} ({column_letter(index)})" for index, heading in unknown]
    outcome.problems.extend(problems)
    if problems:
        return outcome
    ctx = Context(lab=lab, actor=actor, reason=reason or None)
    writer = RowWriter(sheet=sheet, positions=positions, headings=table.headings, ctx=ctx, outcome=outcome)
    done = 0
    try:
        with transaction.atomic(), audit_context(actor=actor, reason=reason or None, **(context or {})):
            for chunk in _chunks(table.rows, settings.IMPORT_CHUNK_ROWS):
                _prefetch(sheet, positions, chunk, ctx)
                before = (ctx.snapshot(), outcome.snapshot())
                bulk = BulkWriter(lab=lab, actor=actor)
                try:
                    with transaction.atomic():
                        writer.bulk = bulk
                        for index, (number, cells) in enumerate(chunk, start=1):
                            writer.write_row(number, cells)
                            if progress is not None and (done + index) % settings.IMPORT_PROGRESS_EVERY == 0:
                                progress(done + index)
                        writer.flush()
                        if len(outcome.problems) > before[1][0]:
                            raise RedoWithServices
                except (RedoWithServices, DatabaseError):
                    bulk.discard()
                    ctx.restore(before[0])
                    outcome.restore(before[1])
                    writer.bulk = None
                    for number, cells in chunk:
                        writer.write_row(number, cells)
                finally:
                    writer.bulk = None
                done += len(chunk)
                if progress is not None:
                    progress(done)
            if outcome.problems or not commit:
                raise _RollBack
            outcome.committed = True
    except _RollBack:
        pass
    if progress is not None:
        progress(len(table.rows))
    return outcome
