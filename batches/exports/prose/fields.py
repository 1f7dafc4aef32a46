"""Which recorded fields a flagged checklist item lacks, named in words, so that a marker says exactly what is
missing ("[not recorded: supplement lot]") rather than the whole item ("medium supplement, % and lot").

The checklist's own requirements (its YAML) say which fields an item needs; the snapshot says which are blank.
A marker is printed only for fields that are blank in the exported records: an item the verdict flags although
every field it names is recorded is never printed beside the statement that reports those fields.
"""

from collections.abc import Iterable

from batches.checklist import load_checklist
from batches.checklist.context import compare, is_present

STUDY = "study"

# The words a methods section uses for a field, where the checklist's label is too short out of context
# or carries a unit; other labels are used as the checklist writes them.
PROSE_LABEL = {
    "donor.lot": "lot of the bought cells",
    "donor.catalogue_number": "catalogue number of the bought cells",
    "donor.species": "species of the cells",
    "cell_line.isolation_enzyme": "isolation enzyme",
    "cell_line.plastic_adherent": "plastic adherence",
    "cell_line.isolation_enzyme_mg_per_ml": "enzyme concentration",
    "cell_line.isolation_digestion_min": "digestion time",
    "cell_line.basal_medium_details": "medium product name",
    "cell_line.supplement_percent": "supplement concentration",
    "cell_line.heparin_u_per_ml": "heparin concentration",
    "passage.temperature_c": "incubator temperature",
    "passage.co2_percent": "incubator CO₂",
    "passage.o2_percent": "incubator O₂",
    "batch.confluence_start_percent": "confluence at start of conditioning",
    "batch.serum_free": "whether the medium was serum-free",
    "batch.serum_percent": "serum concentration",
    "batch.conditioning_volume_ml": "conditioning volume",
    "batch.conditioning_time_h": "conditioning time",
    "batch.conditioning_o2_percent": "conditioning O₂",
    "batch.priming": "priming",
    "batch.harvest_viability_percent": "cell viability at harvest",
    "batch.harvest_viable_cells": "viable cell count at harvest",
    "priming.o2_percent": "priming O₂",
    "priming.duration_h": "priming duration",
    "administration.volume_ul": "injected volume",
    "administration.n_doses": "number of doses",
    "administration.day_after_induction": "day of the first dose",
    "study.species": "animal species",
    "study.strain": "animal strain",
    "study.sex": "sex of the animals",
    "study.age_weeks_min": "age of the animals",
    "study.weight_g_min": "body weight of the animals",
    "study.supplier": "animal supplier",
    "study.groups": "groups",
    "study.n_per_group": "animals per group",
}


def prose_label(path: str, label: str) -> str:
    """A field's name in a marker: the prose label, else the checklist label without its unit."""
    if path in PROSE_LABEL:
        return PROSE_LABEL[path]
    text = label.split(" (")[0].replace("CO2", "CO₂").replace("O2", "O₂")
    return text


# Fields a recorded irregular schedule (Administration.schedule_days) makes meaningless.
SCHEDULE_DAYS_SUPERSEDE = {"interval", "interval_unit", "n_doses", "day_after_induction"}


def _superseded(row: dict, source: str, column: str) -> bool:
    return source == "administration" and bool(row.get("schedule_days")) and column in SCHEDULE_DAYS_SUPERSEDE


def _holds(condition, sources: dict) -> bool:
    """A requirement's `when` on the snapshot; conditions on row collections are taken to hold."""
    if condition is None or condition.op in {"true", "rows"}:
        return True
    if condition.op == "field":
        source, column = condition.path.split(".", 1)
        row = sources.get(source)
        return row is not None and compare(condition.operator, row.get(column), condition.argument)
    if condition.op == "all":
        return all(_holds(child, sources) for child in condition.children)
    if condition.op == "any":
        return any(_holds(child, sources) for child in condition.children)
    if condition.op == "not":
        return not _holds(condition.children[0], sources)
    return True


class Gaps:
    """The blank fields of the exported records, per checklist item and batch (or the study)."""

    def __init__(self, snapshot: dict, completeness: dict):
        versions = sorted(
            {snap.get("version") for snap in (completeness or {}).get("batches", {}).values()}
            | {((completeness or {}).get("study") or {}).get("version")} - {None}
        )
        self.items = {}
        for version in versions:
            try:
                checklist = load_checklist(version)
            except Exception:  # an export written under a checklist this installation no longer ships
                continue
            for item in checklist.items:
                self.items.setdefault(item.item_id, item)
        lines = {line["code"]: line for line in snapshot.get("cell_lines", [])}
        donors = {donor["code"]: donor for donor in snapshot.get("donors", [])}
        primings = {priming["name"]: priming for priming in snapshot.get("primings", [])}
        self.sources: dict[str, list[dict]] = {}
        for batch in snapshot.get("batches", []):
            line = lines.get(batch["cell_line"]) or {}
            passage = next((p for p in line.get("passages", []) if p["number"] == batch["passage_number"]), None)
            self.sources[batch["code"]] = [
                {
                    "batch": batch,
                    "cell_line": line,
                    "donor": donors.get(line.get("donor")) or {},
                    "passage": passage or {"number": batch["passage_number"]},
                    "priming": primings.get(batch["priming"]) or {},
                }
            ]
        study = snapshot.get("study")
        if study is not None:
            rows = study.get("administrations") or [{}]
            self.sources[STUDY] = [{"study": study, "administration": row} for row in rows]

    def blank(self, item_id: str, codes: Iterable[str]) -> list[str] | None:
        """Labels of the item's fields that are blank for these batches (or the study), in the checklist's order.

        None when the item is about rows or computed values (its own label then names what is missing);
        an empty list when every field it names is recorded.
        """
        item = self.items.get(item_id)
        if item is None:
            return None
        fields = [r for r in item.requirements if r.kind == "field" and not r.advisory]
        others = [r for r in item.requirements if r.kind != "field" and not r.advisory]
        if not fields:
            return None
        labels: list[str] = []
        for code in codes:
            for sources in self.sources.get(code, []):
                for requirement in fields:
                    if not _holds(requirement.when, sources):
                        continue
                    source, column = requirement.path.split(".", 1)
                    row = sources.get(source)
                    if row is None or column not in row or _superseded(row, source, column):
                        continue
                    if not is_present(row.get(column), requirement.absent):
                        label = prose_label(requirement.path, requirement.label)
                        if label not in labels:
                            labels.append(label)
        if not labels and others:
            # The fields are recorded; the gap is in rows (a control group, the priming agents): name those.
            return [r.label.split(" (")[0] for r in others]
        return labels
