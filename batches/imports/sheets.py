"""What each import sheet holds: its columns (heading, unit, allowed values, help) and the records they make.

A sheet is a list of sections; each section makes or finds one record per row (a per-record sheet has one
section, the lineage sheet one per record in the chain donor → cell line → passage → priming → batch →
processing steps → aliquots). Records are matched by their codes (a passage by its cell line and number, a
processing step by its batch and order), so importing the same file twice changes nothing.
"""

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.db import models

from batches import fields as recorded
from batches.forms import unit_for as form_unit_for
from batches.imports import values
from batches.models import (
    Aliquot,
    CellLine,
    Donor,
    Passage,
    PrimingAgent,
    PrimingCondition,
    ProcessingStep,
    QCResult,
    SecretomeBatch,
    StorageLocation,
)
from batches.services import qc as qc_services
from batches.services import records as record_services

AGENT_SLOTS = 2  # priming agents per row (more: one priming sheet row per condition, listed again)
LINEAGE_STEPS = 3  # processing steps per lineage row (more: the processing-steps sheet)


class Unresolved(LookupError):
    """A code in the sheet names no record of the lab."""


@dataclass(frozen=True)
class Column:
    key: str
    label: str
    unit: str = ""
    help: str = ""
    field: str | None = None
    reader: Callable[[Any], Any] = values.text
    choices: tuple[tuple[str, str], ...] = ()
    required: bool = False
    example: str = ""

    @property
    def heading(self) -> str:
        return f"{self.label} ({self.unit})" if self.unit else self.label


@dataclass(frozen=True)
class Link:
    """A foreign key: the record another section of the same row made, or one found by the codes in columns."""

    field: str
    section: str | None = None
    columns: tuple[str, ...] = ()
    resolve: Callable[..., models.Model] | None = None
    required: bool = True


@dataclass
class Section:
    name: str
    title: str
    model: type[models.Model]
    columns: list[Column]
    key: tuple[str, ...]
    links: list[Link] = field(default_factory=list)
    fixed: dict[str, Any] = field(default_factory=dict)
    agents: bool = False
    count_column: str | None = None  # lineage aliquots: how many to make, coded <batch>-01, -02, …

    def key_column(self) -> Column:
        for name in self.key:
            for column in self.columns:
                if column.field == name:
                    return column
        for link in self.links:
            for column in self.columns:
                if column.key in link.columns:
                    return column
        return self.columns[0]


@dataclass
class Sheet:
    kind: str
    title: str
    sections: list[Section]

    @property
    def columns(self) -> list[Column]:
        return [column for section in self.sections for column in section.columns]


# --- Columns from model fields ---------------------------------------------------------------------

_LABEL_FIXES = {"o2": "O2", "co2": "CO2", "ev": "EV", "qc": "QC", "mwco": "MWCO", "g": "g", "id": "ID", "ids": "IDs"}
_UNIT_SUFFIX = re.compile(
    r"(_mg_per_ml|_u_per_ml|_percent|_ml|_ul|_c|_h|_min|_um|_kda|_cm2|_years|_u_per_ml|_mg_per_ml|_mm|_g)$|^percent_"
)


_LABELS = {
    "n_donors": "Number of donors",
    "three_d_system": "3D system",
    "ethics_approval_ref": "Ethics approval reference",
    "k_factor": "k-factor",
    "g_force": "g-force",
    "isolation_enzyme_mg_per_ml": "Isolation enzyme concentration",
    "heparin_u_per_ml": "Heparin",
    "ev_track_id": "EV-TRACK ID",
}


def unit_for(name: str) -> str:
    for suffix, unit in (("_mg_per_ml", "mg/mL"), ("_u_per_ml", "U/mL")):
        if name.endswith(suffix):
            return unit
    return form_unit_for(name)


def label_for(name: str) -> str:
    """'supplement_percent' → 'Supplement', 'o2_percent' → 'O2', 'area_cm2' → 'Area'."""
    if name in _LABELS:
        return _LABELS[name]
    stem = _UNIT_SUFFIX.sub("", name) or name
    words = [_LABEL_FIXES.get(word, word) for word in stem.split("_")]
    text = " ".join(words)
    return text[0].upper() + text[1:]


def _lower_first(label: str) -> str:
    """'Supplement' → 'supplement', but 'O2', 'EV-TRACK ID' and 'MWCO' keep their capitals."""
    return label if len(label) > 1 and not label[1].islower() else label[0].lower() + label[1:]


def _reader(model_field: models.Field) -> Callable[[Any], Any]:
    if model_field.choices:
        options = tuple((str(value), str(label)) for value, label in model_field.flatchoices)
        return lambda raw: values.choice(raw, options)
    if isinstance(model_field, models.BooleanField):
        if model_field.null:
            return values.boolean

        def strict_boolean(raw):
            answer = values.boolean(raw)
            if answer is None:
                raise values.CellError("Write yes or no.")
            return answer

        return strict_boolean
    if isinstance(model_field, models.FloatField | models.DecimalField):
        return values.number
    if isinstance(model_field, models.IntegerField):
        return values.whole_number
    if isinstance(model_field, models.DateTimeField):
        return values.date_time
    if isinstance(model_field, models.DateField):
        return values.date
    return values.text


def _required(model_field: models.Field) -> bool:
    return not model_field.null and not model_field.blank and not model_field.has_default()


def field_column(model: type[models.Model], name: str, *, prefix: str = "", title: str = "") -> Column:
    model_field = model._meta.get_field(name)
    label = label_for(name)
    return Column(
        key=f"{prefix}{name}",
        label=f"{title} {_lower_first(label)}" if title else label,
        unit=unit_for(name),
        help=str(model_field.help_text or model_field.verbose_name).strip(),
        field=name,
        reader=_reader(model_field),
        choices=tuple((str(value), str(label)) for value, label in model_field.flatchoices)
        if model_field.choices
        else (),
        required=_required(model_field),
    )


def _field_columns(model, names, *, skip=(), prefix="", title="") -> list[Column]:
    return [field_column(model, name, prefix=prefix, title=title) for name in names if name not in skip]


def code_column(key: str, label: str, help_text: str, *, required: bool = True) -> Column:
    return Column(key=key, label=label, help=help_text, required=required)


def number_column(key: str, label: str, help_text: str, *, required: bool = True) -> Column:
    return Column(key=key, label=label, help=help_text, reader=values.whole_number, required=required)


# --- Finding the records that codes name ------------------------------------------------------------


def _by(model: type[models.Model], noun: str, lookup: str = "code"):
    def resolve(ctx, given: dict[str, Any], data: dict[str, Any]) -> models.Model:
        (code,) = given.values()
        found = ctx.find(model, **{lookup: values.text(code)})
        if found is None:
            raise Unresolved(f"No {noun} '{values.text(code)}' in the lab; add it first (or use the lineage sheet).")
        return found

    resolve.finds = (model, lookup)  # lets an import read every code of a chunk in one query
    return resolve


def _passage_of_cell_line(ctx, given: dict[str, Any], data: dict[str, Any]) -> Passage:
    code, number = given.values()
    if code is values.NOTHING or number is values.NOTHING:
        raise Unresolved("Give both the cell line code and the passage number of the producing cells.")
    cell_line = ctx.find(CellLine, code=values.text(code))
    if cell_line is None:
        raise Unresolved(f"No cell line '{values.text(code)}' in the lab.")
    passage = ctx.find(Passage, cell_line=cell_line, number=number)
    if passage is None:
        raise Unresolved(f"Cell line {cell_line.code} has no passage {number}.")
    return passage


def _parent_passage(ctx, given: dict[str, Any], data: dict[str, Any]) -> Passage:
    (number,) = given.values()
    cell_line = data.get("cell_line")
    if cell_line is None:
        raise Unresolved("The parent passage is looked up in the cell line: give the cell line too.")
    parent = ctx.find(Passage, cell_line=cell_line, number=number)
    if parent is None:
        raise Unresolved(f"Cell line {cell_line.code} has no passage {number} (list parent passages in earlier rows).")
    return parent


def storage_location(ctx, given: dict[str, Any], data: dict[str, Any]) -> StorageLocation:
    """'Freezer A / Rack 2 / Box 3' (also with → or >) names a box by its path from the freezer."""
    (path,) = given.values()
    names = [part.strip() for part in re.split(r"\s*(?:/|→|>)\s*", values.text(path)) if part.strip()]
    node = None
    for name in names:
        node = ctx.find(StorageLocation, name=name, parent=node.pk if node else None)
        if node is None:
            raise Unresolved(
                f"No storage location '{name}' in '{values.text(path)}'; write the path as Freezer / Rack / Box."
            )
    return node


# --- The services each section writes through -------------------------------------------------------


def _create(model):
    def create(*, lab, actor, data, agents=None):
        if model is SecretomeBatch:
            return record_services.batch_create(lab=lab, actor=actor, data=data)
        if model is ProcessingStep:
            return record_services.processing_step_create(lab=lab, actor=actor, data=data)
        if model is Aliquot:
            return record_services.aliquot_create(lab=lab, actor=actor, data=data)
        if model is QCResult:
            return qc_services.qc_result_record(lab=lab, actor=actor, data=data)
        if model is PrimingCondition:
            return record_services.priming_create(lab=lab, actor=actor, data=data, agents=agents)
        return record_services.record_create(model=model, lab=lab, actor=actor, data=data)

    return create


def update(*, instance, actor, data, version, agents=None, reason=None):
    if isinstance(instance, SecretomeBatch):
        return record_services.batch_update(batch=instance, actor=actor, data=data, version=version, reason=reason)
    if isinstance(instance, ProcessingStep):
        return record_services.processing_step_update(
            step=instance, actor=actor, data=data, version=version, reason=reason
        )
    if isinstance(instance, QCResult):
        return qc_services.qc_result_update(result=instance, actor=actor, data=data, version=version, reason=reason)
    if isinstance(instance, PrimingCondition):
        return record_services.priming_update(
            priming=instance, actor=actor, data=data, version=version, agents=agents, reason=reason
        )
    return record_services.record_update(instance=instance, actor=actor, data=data, version=version, reason=reason)


def create(section: Section):
    return _create(section.model)


def agent_columns(*, prefix: str = "", title: str = "") -> list[Column]:
    columns = []
    for slot in range(1, AGENT_SLOTS + 1):
        for name in recorded.AGENT_FIELDS:
            if name == "supplier":
                continue
            column = field_column(PrimingAgent, name, prefix=f"{prefix}agent_{slot}_")
            label = f"{title} agent {slot}" if name == "agent" else f"{title} agent {slot} {column.label.lower()}"
            columns.append(
                Column(
                    key=f"{prefix}agent_{slot}_{name}" if name != "agent" else f"{prefix}agent_{slot}",
                    label=label.strip()[0].upper() + label.strip()[1:],
                    unit=column.unit,
                    help=column.help,
                    field=None,
                    reader=column.reader,
                    choices=column.choices,
                )
            )
    return columns


def agent_rows(section: Section, given: dict[str, Any]) -> tuple[list[dict[str, Any]] | None, dict[str, str]]:
    """The agents written in a row (None when the row names none), and problems by column key."""
    prefix = section.columns[0].key.removesuffix("name")
    rows, problems = [], {}
    for slot in range(1, AGENT_SLOTS + 1):
        agent = given.get(f"{prefix}agent_{slot}", values.NOTHING)
        parts = {
            name: given.get(f"{prefix}agent_{slot}_{name}", values.NOTHING)
            for name in ("concentration", "concentration_unit", "exposure", "exposure_unit")
        }
        if agent is values.NOTHING:
            if any(value is not values.NOTHING for value in parts.values()):
                problems[f"{prefix}agent_{slot}"] = "Name the agent these amounts belong to."
            continue
        row = {"agent": agent}
        row |= {name: value for name, value in parts.items() if value is not values.NOTHING}
        rows.append(row)
    return (rows or None), problems


# --- The sheets ----------------------------------------------------------------------------------------


def _donor_section(prefix="", title="") -> Section:
    return Section(
        name="donor",
        title="Donor",
        model=Donor,
        columns=_field_columns(Donor, recorded.DONOR_FIELDS, prefix=prefix, title=title),
        key=("code",),
    )


def _cell_line_section(prefix="", title="", *, lineage=False) -> Section:
    names = [name for name in recorded.CELL_LINE_FIELDS if name not in ("donor", "protocol_version")]
    columns = _field_columns(CellLine, names, prefix=prefix, title=title)
    if lineage:
        links = [Link(field="donor", section="donor")]
    else:
        columns.insert(1, code_column("donor", "Donor code", "Code of the donor the cells come from."))
        links = [Link(field="donor", columns=("donor",), resolve=_by(Donor, "donor"))]
    return Section(name="cell_line", title="Cell line", model=CellLine, columns=columns, key=("code",), links=links)


def _passage_section(prefix="", title="", *, lineage=False) -> Section:
    names = [name for name in recorded.PASSAGE_FIELDS if name not in ("cell_line", "parent", "protocol_version")]
    columns = _field_columns(Passage, names, prefix=prefix, title=title)
    parent = number_column(
        f"{prefix}parent_number",
        f"{title} parent number".strip().capitalize() if title else "Parent passage number",
        "Number of the passage these cells came from (same cell line); leave empty for the first one.",
        required=False,
    )
    columns.insert(1, parent)
    links = []
    if lineage:
        links.append(Link(field="cell_line", section="cell_line"))
    else:
        columns.insert(0, code_column("cell_line", "Cell line code", "Code of the cell line."))
        links.append(Link(field="cell_line", columns=("cell_line",), resolve=_by(CellLine, "cell line")))
    links.append(Link(field="parent", columns=(parent.key,), resolve=_parent_passage, required=False))
    return Section(
        name="passage", title="Passage", model=Passage, columns=columns, key=("cell_line", "number"), links=links
    )


def _priming_section(prefix="", title="") -> Section:
    names = [name for name in recorded.PRIMING_FIELDS if name != "protocol_version"]
    columns = _field_columns(PrimingCondition, names, prefix=prefix, title=title)
    columns += agent_columns(prefix=prefix, title=title)
    return Section(name="priming", title="Priming", model=PrimingCondition, columns=columns, key=("name",), agents=True)


def _batch_section(prefix="", title="", *, lineage=False) -> Section:
    names = [
        name
        for name in [*recorded.BATCH_START_FIELDS, *recorded.BATCH_PRODUCTION_FIELDS]
        if name not in ("passage", "priming", "protocol_version", "mock_control")
    ]
    columns = _field_columns(SecretomeBatch, names, prefix=prefix, title=title)
    mock = code_column(
        f"{prefix}mock_control",
        f"{title} mock control code".strip().capitalize() if title else "Mock control code",
        "Code of the unconditioned-medium batch processed the same way.",
        required=False,
    )
    columns.append(mock)
    links = [Link(field="mock_control", columns=(mock.key,), resolve=_by(SecretomeBatch, "batch"), required=False)]
    if lineage:
        links += [Link(field="passage", section="passage"), Link(field="priming", section="priming", required=False)]
    else:
        columns[1:1] = [
            code_column("cell_line", "Cell line code", "Cell line of the producing passage."),
            number_column("passage", "Passage number", "Number of the producing passage of that cell line."),
            code_column(
                "priming", "Priming name", "Name of the priming condition (e.g. 'No priming').", required=False
            ),
        ]
        links += [
            Link(field="passage", columns=("cell_line", "passage"), resolve=_passage_of_cell_line),
            Link(
                field="priming",
                columns=("priming",),
                resolve=_by(PrimingCondition, "priming condition", "name"),
                required=False,
            ),
        ]
    return Section(name="batch", title="Batch", model=SecretomeBatch, columns=columns, key=("code",), links=links)


_LINEAGE_STEP_FIELDS = [
    "kind",
    "g_force",
    "duration_min",
    "temperature_c",
    "rotor",
    "k_factor",
    "pore_size_um",
    "mwco_kda",
    "concentration_factor",
    "final_volume_ml",
    "details",
]


def _processing_section(*, step: int | None = None) -> Section:
    if step is None:
        names = [name for name in recorded.PROCESSING_FIELDS if name != "protocol_version"]
        columns = [code_column("batch", "Batch code", "Code of the batch processed.")]
        columns += _field_columns(ProcessingStep, names)
        links = [Link(field="batch", columns=("batch",), resolve=_by(SecretomeBatch, "batch"))]
        return Section(
            name="processing_step",
            title="Processing step",
            model=ProcessingStep,
            columns=columns,
            key=("batch", "order"),
            links=links,
        )
    columns = _field_columns(ProcessingStep, _LINEAGE_STEP_FIELDS, prefix=f"step_{step}_", title=f"Step {step}")
    return Section(
        name=f"step_{step}",
        title=f"Processing step {step}",
        model=ProcessingStep,
        columns=columns,
        key=("batch", "order"),
        links=[Link(field="batch", section="batch")],
        fixed={"order": step},
    )


def _aliquot_section(*, lineage=False) -> Section:
    if lineage:
        names = ["volume_ul", "container", "buffer", "state", "temperature_c", "location"]
        columns = [
            number_column(
                "aliquot_count",
                "Aliquots",
                "How many aliquots the batch was split into; they are coded <batch code>-01, -02, …",
            )
        ]
    else:
        names = [name for name in recorded.ALIQUOT_FIELDS if name != "protocol_version"]
        columns = [code_column("batch", "Batch code", "Code of the batch the aliquot holds.")]
    prefix, title = ("aliquot_", "Aliquot") if lineage else ("", "")
    field_names = [name for name in names if name != "location"]
    columns += _field_columns(Aliquot, field_names, prefix=prefix, title=title)
    location = code_column(
        f"{prefix}location",
        f"{title} storage box".strip().capitalize() if title else "Storage box",
        "Path of the box: Freezer / Rack / Box, as in Storage.",
        required=False,
    )
    columns.append(location)
    links = [Link(field="location", columns=(location.key,), resolve=storage_location, required=False)]
    if lineage:
        links.insert(0, Link(field="batch", section="batch"))
    else:
        links.insert(0, Link(field="batch", columns=("batch",), resolve=_by(SecretomeBatch, "batch")))
    return Section(
        name="aliquot",
        title="Aliquot",
        model=Aliquot,
        columns=columns,
        key=("code",),
        links=links,
        count_column="aliquot_count" if lineage else None,
    )


def _qc_section() -> Section:
    names = [name for name in recorded.QC_FIELDS if name not in ("reference_batch", "protocol_version")]
    columns = [code_column("batch", "Batch code", "Code of the batch tested.")]
    columns += _field_columns(QCResult, names)
    reference = code_column(
        "reference_batch", "Reference batch code", "Reference batch (potency assays).", required=False
    )
    columns.append(reference)
    links = [
        Link(field="batch", columns=("batch",), resolve=_by(SecretomeBatch, "batch")),
        Link(
            field="reference_batch", columns=("reference_batch",), resolve=_by(SecretomeBatch, "batch"), required=False
        ),
    ]
    return Section(
        name="qc_result",
        title="QC result",
        model=QCResult,
        columns=columns,
        key=("batch", "assay", "analyte", "sample", "performed_on"),
        links=links,
    )


def lineage_sheet() -> Sheet:
    sections = [
        _donor_section("donor_", "Donor"),
        _cell_line_section("cell_line_", "Cell line", lineage=True),
        _passage_section("passage_", "Passage", lineage=True),
        _priming_section("priming_", "Priming"),
        _batch_section("batch_", "Batch", lineage=True),
        *[_processing_section(step=step) for step in range(1, LINEAGE_STEPS + 1)],
        _aliquot_section(lineage=True),
    ]
    return Sheet(kind="lineage", title="Lineage (one row per batch)", sections=sections)


SHEETS: dict[str, Callable[[], Sheet]] = {
    "donors": lambda: Sheet("donors", "Donors", [_donor_section()]),
    "cell-lines": lambda: Sheet("cell-lines", "Cell lines", [_cell_line_section()]),
    "passages": lambda: Sheet("passages", "Passages", [_passage_section()]),
    "primings": lambda: Sheet("primings", "Priming conditions", [_priming_section()]),
    "batches": lambda: Sheet("batches", "Secretome batches", [_batch_section()]),
    "processing-steps": lambda: Sheet("processing-steps", "Processing steps", [_processing_section()]),
    "aliquots": lambda: Sheet("aliquots", "Aliquots", [_aliquot_section()]),
    "qc-results": lambda: Sheet("qc-results", "QC results", [_qc_section()]),
    "lineage": lineage_sheet,
}
KINDS = list(SHEETS)


def sheet_for(kind: str) -> Sheet:
    if kind not in SHEETS:
        raise KeyError(f"'{kind}' is not an import kind; choose one of: {', '.join(KINDS)}.")
    return SHEETS[kind]()


def normalise_heading(heading: str) -> str:
    return re.sub(r"[\s_\-.:]+", "", heading.replace("µ", "u").casefold())


def heading_names(column: Column) -> tuple[set[str], set[str]]:
    """The ways a person may write the column's heading: first its heading or field key exactly (case and
    spaces aside), then its label without the unit (used only where no other column has the same label)."""
    exact = {normalise_heading(column.key), normalise_heading(column.heading)}
    loose = {normalise_heading(column.label)} - exact
    return exact, loose
