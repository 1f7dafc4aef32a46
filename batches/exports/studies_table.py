"""The studies summary table, as reviews of the field tabulate preclinical studies: one row per study and group.

Columns: pain model (species), secretome source (species, tissue), product type, processing and storage,
treatment time after model induction and schedule, dose, route and volume, outcome tests. A value that was not
recorded reads "N/A". Rows are built from the same record snapshot as the methods text (records.snapshot), so
the table and the text never disagree.
"""

import csv
import io
import json
from collections.abc import Iterable

from django.core.exceptions import ValidationError
from docx import Document
from docx.enum.section import WD_ORIENT

from batches.exports import received, records
from batches.exports import typography as t
from batches.exports import vocabulary as v
from batches.exports.prose.product import step_phrase
from batches.exports.prose.study import (
    days_text,
    dose_amount,
    frequency,
    outcome_test_words,
    pain_model_words,
    route_words,
)

NA = "N/A"
FORMATS = ("md", "csv", "docx", "json")
CONTENT_TYPES = {
    "md": "text/markdown; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "docx": "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
    "json": "application/json",
}
COLUMNS = (
    ("study", "Study"),
    ("group", "Group"),
    ("pain_model", "Pain model (species)"),
    ("source", "Secretome source (species, tissue)"),
    ("product", "Product type"),
    ("processing_storage", "Processing and storage"),
    ("timing", "Treatment time after induction and schedule"),
    ("dose", "Dose"),
    ("route_volume", "Route and volume"),
    ("outcomes", "Outcome tests"),
)
ROUTE_SHORT = {
    "intravenous": "intravenous",
    "intraperitoneal": "intraperitoneal",
    "intrathecal": "intrathecal",
    "intra_articular": "intra-articular",
    "intraplantar": "intraplantar",
    "perineural": "perineural",
    "intranasal": "intranasal",
    "subcutaneous": "subcutaneous",
    "intramuscular": "intramuscular",
    "intravesical": "intravesical",
    "biomaterial_implant": "biomaterial implant",
}
STATE_WORDS = {"fresh": "kept fresh", "frozen": "frozen", "lyophilised": "lyophilised"}


def _or_na(text: str | None) -> str:
    text = (text or "").strip()
    return text or NA


def _distinct(values: Iterable[str]) -> list[str]:
    seen: list[str] = []
    for value in values:
        if value and value not in seen:
            seen.append(value)
    return seen


def _pain_model(study: dict) -> str:
    model = pain_model_words(study)
    species = v.SPECIES.get(study.get("species") or "", study.get("species") or "")
    if model and species:
        return f"{model} ({species})"
    return model or (f"not recorded ({species})" if species else "")


def _source(batch: dict, lines: dict, donors: dict) -> str:
    line = lines.get(batch["cell_line"]) or {}
    donor = donors.get(line.get("donor")) or {}
    species = v.SPECIES.get(donor.get("species") or "", donor.get("species") or "")
    tissue = donor.get("tissue_source")
    if tissue == "other" or (not tissue and donor.get("tissue_source_details")):
        tissue_words = (donor.get("tissue_source_details") or "").rstrip(".")
    else:
        tissue_words = v.TISSUE.get(tissue, (tissue or "", ""))[0]
    source = ", ".join(x for x in (species, tissue_words) if x)
    if batch.get("produced_by"):
        return f"{source or NA}; produced by {batch['produced_by']}"
    return source


def _processing_storage(batch: dict) -> str:
    parts = [step_phrase(step) for step in batch["processing"]]
    if batch.get("used_fresh") is True:
        parts.append("used fresh")
    storage = []
    for aliquot in batch["aliquots"]:
        state = STATE_WORDS.get(aliquot["state"] or "", aliquot["state"] or "")
        temperature = t.temperature(aliquot["temperature_c"]) if t.finite(aliquot["temperature_c"]) is not None else ""
        text = " at ".join(x for x in (state, temperature) if x)
        if text:
            storage.append(f"stored {text}" if state != "kept fresh" else text)
    parts.extend(_distinct(storage))
    return "; ".join(parts)


def _timing(row: dict) -> str:
    days = sorted(row.get("schedule_days") or [])
    parts = []
    if days:
        parts.append(days_text(days)[3:])  # 'days −1, 7 and 11'
    elif row.get("day_after_induction") is not None:
        parts.append(f"day {t.number(row['day_after_induction'])}")
    n_doses = row.get("n_doses") or (len(days) if days else None)
    if n_doses == 1:
        parts.append("single dose")
    elif n_doses:
        parts.append(t.counted(n_doses, "dose"))
    every = frequency(row.get("interval"), row.get("interval_unit")) if n_doses != 1 and not days else ""
    if every:
        parts.append(every)
    return ", ".join(parts)


def _route_volume(row: dict) -> str:
    route = row.get("route")
    if route == "other" or (not route and row.get("route_details")):
        route_text = route_words(row).removeprefix("by ")
    else:
        route_text = ROUTE_SHORT.get(route or "", route or "")
    if route_text and row.get("site"):
        route_text += f" ({row['site']})"
    volume = t.quantity(row["volume_ul"], "µL") if t.finite(row.get("volume_ul")) is not None else ""
    return ", ".join(x for x in (route_text, volume) if x)


def study_rows(snapshot: dict) -> list[dict]:
    """One row per group of the study in the snapshot: the groups that were administered a batch, in the order
    of the records, then the study's other groups (vehicle, sham) with what they received as far as recorded."""
    study = snapshot["study"]
    batches = {b["code"]: b for b in snapshot["batches"]}
    lines = {line["code"]: line for line in snapshot["cell_lines"]}
    donors = {donor["code"]: donor for donor in snapshot["donors"]}
    outcomes = _distinct(outcome_test_words(row) for row in study["outcomes"])
    by_group: dict[str, list[dict]] = {}
    for row in study["administrations"]:
        by_group.setdefault(row["group"], []).append(row)
    mocks = {b["mock_control"] for b in snapshot["batches"] if b["mock_control"]}
    rows = []
    for group, administered in by_group.items():
        used = [batches[row["batch"]] for row in administered if row["batch"] in batches]

        def joined(values: Iterable[str]) -> str:
            return "; ".join(_distinct(values))

        rows.append(
            {
                "study": study["title"],
                "group": group,
                "pain_model": _or_na(_pain_model(study)),
                "source": _or_na(joined(_source(b, lines, donors) for b in used)),
                "product": _or_na(
                    joined(
                        "mock-control medium"
                        if b["code"] in mocks
                        else v.PRODUCT.get(b["product_type"], (b["product_type"] or "", ""))[0]
                        for b in used
                    )
                ),
                "processing_storage": _or_na(joined(_processing_storage(b) for b in used)),
                "timing": _or_na(joined(_timing(row) for row in administered)),
                "dose": _or_na(joined(dose_amount(row) for row in administered)),
                "route_volume": _or_na(joined(_route_volume(row) for row in administered)),
                "outcomes": _or_na(", ".join(outcomes)),
            }
        )
    for group in study.get("groups") or []:
        name = (group or {}).get("name")
        if not name or name in by_group:
            continue
        role = v.GROUP_ROLE.get(group.get("role") or "", group.get("role") or "")
        control = {key: NA for key, _heading in COLUMNS}
        control.update(
            study=study["title"],
            group=name,
            pain_model=_or_na(_pain_model(study)),
            product=f"none ({role})" if role else NA,
            outcomes=_or_na(", ".join(outcomes)),
        )
        rows.append(control)
    if not rows:
        empty = {key: NA for key, _heading in COLUMNS}
        empty.update(study=study["title"], pain_model=_or_na(_pain_model(study)), outcomes=_or_na(", ".join(outcomes)))
        rows.append(empty)
    return rows


def table_rows(*, study_ids: Iterable[int], scope) -> list[dict]:
    """Rows for these studies. `scope` is the queryset of studies the caller may read; an id outside it is
    refused, naming the field, exactly as an id that does not exist."""
    wanted = list(dict.fromkeys(study_ids))
    if not wanted:
        raise ValidationError({"studies": ["Give at least one study id."]})
    found = {study.pk: study for study in records.study_queryset().filter(pk__in=scope.filter(pk__in=wanted))}
    missing = [pk for pk in wanted if pk not in found]
    if missing:
        raise ValidationError({"studies": [f"No study with id {', '.join(map(str, missing))} in your labs."]})
    rows = []
    for pk in wanted:
        study = found[pk]
        rows.extend(study_rows(received.study_records(study)))
    return rows


def _escape_cell(text: str) -> str:
    return text.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ")


def to_markdown(rows: list[dict]) -> str:
    header = "| " + " | ".join(heading for _key, heading in COLUMNS) + " |"
    rule = "|" + "|".join("---" for _ in COLUMNS) + "|"
    body = ["| " + " | ".join(_escape_cell(row[key]) for key, _h in COLUMNS) + " |" for row in rows]
    return "\n".join([header, rule, *body]) + "\n"


def to_csv(rows: list[dict]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([heading for _key, heading in COLUMNS])
    for row in rows:
        writer.writerow([row[key] for key, _h in COLUMNS])
    return buffer.getvalue()


def to_json(rows: list[dict]) -> str:
    payload = {"columns": [{"key": key, "heading": heading} for key, heading in COLUMNS], "rows": rows}
    return json.dumps(payload, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def to_docx(rows: list[dict], *, author: str = "") -> bytes:
    from batches.exports.renderers import apply_page_size, typeset_runs

    doc = Document()
    section = doc.sections[0]
    apply_page_size(section)
    section.orientation = WD_ORIENT.LANDSCAPE
    section.page_width, section.page_height = section.page_height, section.page_width
    doc.core_properties.title = "Studies summary"
    doc.core_properties.author = author
    doc.core_properties.last_modified_by = author
    doc.add_heading("Studies summary", level=1)
    table = doc.add_table(rows=1, cols=len(COLUMNS))
    table.style = "Table Grid"
    for cell, (_key, heading) in zip(table.rows[0].cells, COLUMNS, strict=True):
        cell.text = ""
        typeset_runs(cell.paragraphs[0], heading, bold=True)
    for row in rows:
        cells = table.add_row().cells
        for cell, (key, _heading) in zip(cells, COLUMNS, strict=True):
            cell.text = ""
            typeset_runs(cell.paragraphs[0], row[key])
    buffer = io.BytesIO()
    doc.save(buffer)
    return buffer.getvalue()


def render(rows: list[dict], fmt: str, *, author: str = "") -> tuple[bytes, str, str]:
    """(content, content type, file name) of the table in one format."""
    from batches.exports.renderers import typeset

    if fmt not in FORMATS:
        raise ValidationError({"format": [f"Choose one of: {', '.join(FORMATS)}."]})
    if fmt == "md":
        content = typeset(to_markdown(rows)).encode()
    elif fmt == "csv":
        content = to_csv(rows).encode()
    elif fmt == "json":
        content = to_json(rows).encode()
    else:
        content = to_docx(rows, author=author)
    studies = {row["study"] for row in rows}
    stem = "studies-summary" if len(studies) != 1 else "study-summary"
    return content, CONTENT_TYPES[fmt], f"{stem}.{fmt}"


def studies_table(*, study_ids: Iterable[int], scope, fmt: str, author: str = "") -> tuple[bytes, str, str]:
    if fmt not in FORMATS:
        raise ValidationError({"format": [f"Choose one of: {', '.join(FORMATS)}."]})
    return render(table_rows(study_ids=study_ids, scope=scope), fmt, author=author)
