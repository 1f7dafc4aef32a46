"""What every section writer shares: the records in scope, the missing-item markers and the citations."""

import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from batches.exports import typography as t

# Sections in publication order; "dose" and "outcomes" appear only for a study.
SECTIONS = (
    ("cell_source", "Cell source and donors"),
    ("isolation", "Isolation and expansion"),
    ("cell_characterisation", "Characterisation of the cells"),
    ("priming", "Priming"),
    ("production", "Secretome production"),
    ("processing", "Processing"),
    ("storage", "Storage"),
    ("quality_control", "Quality control and characterisation of the product"),
    ("dose", "Dose and administration"),
    ("outcomes", "Outcomes and statistics"),
    ("completeness", "Reporting completeness"),
)

# Where a checklist item belongs in the text; items not listed fall back to their category.
ITEM_SECTION = {
    "ie_plastic_adherence": "cell_characterisation",
    "ie_phenotype_positive": "cell_characterisation",
    "ie_phenotype_negative": "cell_characterisation",
    "ie_trilineage": "cell_characterisation",
    "sp_priming_type": "priming",
    "sp_priming_cytokine": "priming",
    "sp_priming_hypoxia": "priming",
    "sp_priming_dfo": "priming",
    "sp_preclearing": "processing",
    "sp_concentration": "processing",
    "sp_ev_separation": "processing",
    "sp_lyophilisation": "processing",
}
PREFIX_SECTION = {
    "cs_": "cell_source",
    "ie_": "isolation",
    "sp_": "production",
    "st_": "storage",
    "qc_": "quality_control",
    "ch_": "quality_control",
    "da_": "dose",
    "oa_": "outcomes",
}
CATEGORY_SECTION = {
    "cell_source": "cell_source",
    "isolation_expansion": "isolation",
    "secretome_production": "production",
    "quality_control": "quality_control",
    "dose_administration": "dose",
    "cell source": "cell_source",
    "isolation & expansion": "isolation",
    "isolation and expansion": "isolation",
    "secretome production": "production",
    "storage": "storage",
    "quality control": "quality_control",
    "characterisation": "quality_control",
    "dose & administration": "dose",
    "dose and administration": "dose",
    "outcomes": "outcomes",
}
STUDY = "study"

REFERENCES = {
    "isct2006": "Dominici M, Le Blanc K, Mueller I, et al. Minimal criteria for defining multipotent mesenchymal "
    "stromal cells. The International Society for Cellular Therapy position statement. Cytotherapy. "
    "2006;8(4):315–317. doi:10.1080/14653240600855905",
    "misev2023": "Welsh JA, Goberdhan DCI, O'Driscoll L, et al. Minimal information for studies of extracellular "
    "vesicles (MISEV2023): from basic to advanced approaches. J Extracell Vesicles. 2024;13(2):e12404. "
    "doi:10.1002/jev2.12404",
    "arrive2020": "Percie du Sert N, Hurst V, Ahluwalia A, et al. The ARRIVE guidelines 2.0: updated guidelines "
    "for reporting animal research. PLoS Biol. 2020;18(7):e3000410. doi:10.1371/journal.pbio.3000410",
}


def section_of(item: dict) -> str:
    if item["item_id"] in ITEM_SECTION:
        return ITEM_SECTION[item["item_id"]]
    for prefix, section in PREFIX_SECTION.items():
        if item["item_id"].startswith(prefix):
            return section
    return CATEGORY_SECTION.get(str(item.get("category", "")).lower(), "completeness")


def codes_text(codes: Iterable[str]) -> str:
    return t.join(sorted(codes))


@dataclass
class _Flag:
    item_id: str
    label: str
    status: str
    section: str
    codes: list[str] = field(default_factory=list)
    placed: set[str] = field(default_factory=set)


class Markers:
    """Every missing or invalid required item, so that each one is printed once, where it belongs."""

    def __init__(self, completeness: dict, scope: Iterable[str], *, gaps=None, quiet: Iterable[str] = ()):
        """`gaps` names the blank fields of a flagged item; `quiet` batches (a study's mock control) get no
        marker in the text: their gaps are listed once, in the completeness section."""
        self.quiet = set(quiet)
        self.scope = sorted(set(scope) - self.quiet)
        self.gaps = gaps
        self.flags: dict[str, _Flag] = {}
        self.quiet_flags: dict[str, _Flag] = {}
        for code, evaluation in sorted((completeness or {}).get("batches", {}).items()):
            for item in evaluation["flagged"]:
                self._add(item, code)
        study = (completeness or {}).get("study")
        for item in (study or {}).get("flagged", []):
            self._add(item, STUDY)

    def _add(self, item: dict, code: str) -> None:
        key = f"{item['item_id']}:{item['status']}"
        flags = self.quiet_flags if code in self.quiet else self.flags
        flag = flags.setdefault(
            key,
            _Flag(item["item_id"], item["label"] or item["item_id"], item["status"], section_of(item)),
        )
        if code not in flag.codes:
            flag.codes.append(code)

    def what(self, flag: _Flag, codes: list[str]) -> str:
        """What is missing: the blank fields when the item names fields, else the item; '' when all recorded."""
        if flag.status != "missing" or self.gaps is None or not flag.item_id:
            return flag.label
        blank = self.gaps.blank(flag.item_id, codes)
        if blank is None:
            return flag.label
        return t.join(blank)

    def _text(self, flag: _Flag, codes: list[str]) -> str:
        word = "not recorded" if flag.status == "missing" else "not valid"
        what = self.what(flag, codes)
        if not what:
            return ""
        batch_codes = [code for code in codes if code != STUDY]
        partial = batch_codes and len(self.scope) > 1 and set(batch_codes) != set(self.scope)
        suffix = f" ({codes_text(batch_codes)})" if partial else ""
        return f"[{word}: {what}{suffix}]"

    def quiet_text(self) -> str:
        """The gaps of the quiet batches (mock controls), as one clause: 'cells at start of conditioning (…)'."""
        parts = []
        for key, flag in sorted(self.quiet_flags.items(), key=lambda kv: (kv[1].item_id, kv[1].status)):
            if key in self.flags:  # a gap the mock shares with a product (its cell line): marked in the text
                continue
            what = self.what(flag, flag.codes)
            if what:
                parts.append(what if flag.status == "missing" else f"{what} (not valid)")
        return "; ".join(parts)

    def take(self, item_id: str, codes: Iterable[str] | None = None) -> str:
        """The marker for this item (for these batches), once; '' when it is recorded or already printed."""
        wanted = None if codes is None else set(codes) | {STUDY}
        texts = []
        for flag in self.flags.values():
            if flag.item_id != item_id:
                continue
            todo = [c for c in flag.codes if c not in flag.placed and (wanted is None or c in wanted)]
            if todo:
                flag.placed.update(todo)
                texts.append(self._text(flag, todo))
        return " ".join(x for x in texts if x)

    def waive(self, item_ids: Iterable[str], codes: Iterable[str]) -> None:
        """Drop flags the records answer otherwise (storage items of a product used fresh): they are neither
        printed nor counted, so no marker contradicts the statement that answers them."""
        item_ids, codes = set(item_ids), set(codes)
        for flags in (self.flags, self.quiet_flags):
            for key in list(flags):
                flag = flags[key]
                if flag.item_id in item_ids:
                    flag.codes = [c for c in flag.codes if c not in codes]
                    if not flag.codes:
                        del flags[key]

    def take_flag(self, item_id: str, codes: Iterable[str]) -> bool:
        """Whether the item is flagged for any of these batches and not yet placed; marks it placed."""
        wanted = set(codes) | {STUDY}
        found = False
        for flag in self.flags.values():
            if flag.item_id != item_id:
                continue
            todo = [c for c in flag.codes if c not in flag.placed and c in wanted]
            if todo:
                flag.placed.update(todo)
                found = True
        return found

    def marker_for(self, item_id: str, codes: list[str], what: str) -> str:
        """A marker naming `what` for an item whose gap the prose worked out itself."""
        flag = next((f for f in self.flags.values() if f.item_id == item_id), None)
        status = flag.status if flag is not None else "missing"
        word = "not recorded" if status == "missing" else "not valid"
        batch_codes = [code for code in codes if code != STUDY]
        partial = batch_codes and len(self.scope) > 1 and set(batch_codes) != set(self.scope)
        suffix = f" ({codes_text(batch_codes)})" if partial else ""
        return f"[{word}: {what}{suffix}]"

    def rest(self, section: str) -> str:
        """Markers of this section's items that the prose did not place inline."""
        texts = []
        for flag in sorted(self.flags.values(), key=lambda f: (f.item_id, f.status)):
            if flag.section != section:
                continue
            todo = [c for c in flag.codes if c not in flag.placed]
            if todo:
                flag.placed.update(todo)
                texts.append(self._text(flag, todo))
        return " ".join(x for x in texts if x)

    def unflagged(self, label: str, codes: list[str]) -> str:
        """A marker for a gap the checklist verdict does not name (so it is not counted as a required item)."""
        flag = _Flag(item_id="", label=label, status="missing", section="")
        return self._text(flag, sorted(codes))

    def remaining(self) -> str:
        """Markers no section placed (e.g. items of a section with nothing else to say)."""
        texts = []
        for flag in sorted(self.flags.values(), key=lambda f: (f.item_id, f.status)):
            todo = [c for c in flag.codes if c not in flag.placed]
            if todo:
                flag.placed.update(todo)
                texts.append(self._text(flag, todo))
        return " ".join(x for x in texts if x)

    def count(self) -> int:
        return len(self.flags)


class References:
    """Numbered citations in order of first use."""

    def __init__(self):
        self.order: list[str] = []

    def cite(self, key: str) -> str:
        if key not in self.order:
            self.order.append(key)
        return f"[{self.order.index(key) + 1}]"

    def entries(self) -> list[str]:
        return [f"{number}. {REFERENCES[key]}" for number, key in enumerate(self.order, start=1)]


@dataclass
class Context:
    snapshot: dict
    completeness: dict
    markers: Markers
    refs: References
    products: list[dict]
    mocks: list[dict]
    lines: dict[str, dict]
    donors: dict[str, dict]
    primings: dict[str, dict]

    @property
    def batches(self) -> list[dict]:
        return self.products + self.mocks

    def lines_of(self, batches: Iterable[dict]) -> list[dict]:
        codes = sorted({batch["cell_line"] for batch in batches})
        return [self.lines[code] for code in codes if code in self.lines]

    def donors_of(self, lines: Iterable[dict]) -> list[dict]:
        codes = sorted({line["donor"] for line in lines})
        return [self.donors[code] for code in codes if code in self.donors]

    def multi(self) -> bool:
        return len(self.batches) > 1

    def which(self, codes: Iterable[str], among: Iterable[dict] | None = None) -> str:
        """' (SB-1 and SB-2)' when the statement holds for some of several batches, else ''.

        `among` is the population the statement is about: the products unless told otherwise.
        """
        population = {batch["code"] for batch in (self.products if among is None else among)}
        codes = sorted(set(codes))
        if len(population) < 2 or set(codes) >= population:
            return ""
        return f" ({codes_text(codes)})"


def by_value(
    rows: Iterable[dict],
    key: str,
    unit: str = "",
    *,
    fmt: Callable[[object], str] | None = None,
    markers: Markers | None = None,
    item: str = "",
    label: str = "",
) -> str:
    """One field across batches, as authors write it: '48 h', '21 % (1 % for SB-2)', '24–72 h'.

    Batches without a value get the item's marker; when the checklist does not flag them (a recommended
    item, another checklist version), a marker with `label` still shows the gap instead of a hole in a sentence.
    """
    show = fmt or (lambda value: t.quantity(value, unit))
    groups: dict[object, list[str]] = {}
    missing: list[str] = []
    for row in rows:
        value = row.get(key)
        if value is None or value == "":
            missing.append(row["code"])
        else:
            groups.setdefault(value, []).append(row["code"])
    parts = []
    if groups:
        counts = Counter({value: len(codes) for value, codes in groups.items()})
        ordered = sorted(groups, key=lambda v: (-counts[v], min(groups[v])))
        main, others = ordered[0], ordered[1:]
        numeric = all(isinstance(v, int | float) and not isinstance(v, bool) for v in ordered)
        if numeric and fmt is None and len(ordered) > 3 and counts[main] == 1:
            parts.append(t.span(ordered, unit))
        elif others and counts[main] == 1:
            parts.append(t.join([f"{show(v)} ({codes_text(groups[v])})" for v in ordered], "or"))
        else:
            text = show(main)
            if others:
                text += " (" + "; ".join(f"{show(v)} for {codes_text(groups[v])}" for v in others) + ")"
            parts.append(text)
    if missing:
        marker = markers.take(item, missing) if markers is not None and item else ""
        if not marker and label:
            marker = markers.unflagged(label, missing) if markers is not None else f"[not recorded: {label}]"
        if marker:
            parts.append(marker)
    return " ".join(parts)


_UNIT_SUFFIXES = ("_min", "_h", "_ml", "_ul", "_percent", "_c", "_um", "_kda", "_mm", "_u_per_ml", "_mg_per_ml")

# Parameters whose name does not read as words once the underscores go.
PARAMETER_WORDS = {
    "ml_per_million_cells": "conditioning volume per 10⁶ cells",
    "g_force": "centrifugal force",
    "k_factor": "k-factor",
    "mwco_kda": "molecular-weight cut-off",
    "pore_size_um": "pore size",
    "volume_ul": "aliquot volume",
    "temperature_c": "temperature",
}


def parameter_words(name: str) -> str:
    """'duration_min' → 'duration', 'conditioning_o2_percent' → 'conditioning O₂'."""
    if name in PARAMETER_WORDS:
        return PARAMETER_WORDS[name]
    for suffix in sorted(_UNIT_SUFFIXES, key=len, reverse=True):
        if name.endswith(suffix):
            name = name[: -len(suffix)]
            break
    return name.replace("_", " ").replace(" o2", " O₂").replace(" co2", " CO₂").strip()


_POWER = re.compile(r"10\^(-?\d+)")
_PER_POWER = re.compile(r"/\s*(10[⁰¹²³⁴⁵⁶⁷⁸⁹⁻]+)")
_NUMBER = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?:[eE][+-]?\d+)?(?![\w.])")
_LABEL_NUMBER = re.compile(r" #(\d+)")


def measured_text(text: str) -> str:
    """A value written by another part of the system ('8.57143 mL/10^6 cells', '2.4e+10') as the text prints
    numbers: '8.57 mL per 10⁶ cells', '2.4 × 10¹⁰'."""
    text = _POWER.sub(lambda match: "10" + t.superscript(int(match.group(1))), text or "")
    text = _PER_POWER.sub(lambda match: f" per {match.group(1)}", text)

    def number(match: re.Match) -> str:
        token = match.group(0)
        if token.startswith("10") and match.end() < len(text) and text[match.end()] in "⁰¹²³⁴⁵⁶⁷⁸⁹⁻":
            return token
        try:
            return t.number(float(token))
        except ValueError:
            return token

    return _NUMBER.sub(number, text)


def record_words(label: str, code: str) -> str:
    """Where a deviation was recorded, without repeating the batch: 'processing step 4 (ultracentrifugation) of
    SB-2', 'batch SB-2' (not 'batch SB-2 of SB-2')."""
    label = _LABEL_NUMBER.sub(r" \1", label or "").strip()
    if not label:
        return f"batch {code}"
    label = label[:1].lower() + label[1:]
    return label if code in label else f"{label} of {code}"


def deviations(ctx: Context, record_types: set[str]) -> str:
    """Open and approved deviations from the SOPs on these kinds of step record, as one sentence."""
    rows = []
    for batch in ctx.batches:
        for deviation in batch["deviations"]:
            if deviation["status"] in {"closed", "rejected"} or deviation.get("record_type") not in record_types:
                continue
            where = record_words(deviation.get("record_label") or "", batch["code"])
            expected = measured_text(deviation["expected"])
            allowed = expected + (f", {deviation['protocol']}" if deviation["protocol"] else "")
            text = (
                f"the {parameter_words(deviation['parameter'])} of {where} was {measured_text(deviation['actual'])} "
                f"(SOP: {allowed})"
            )
            if deviation["status"] == "approved" and deviation["justification"]:
                justification = deviation["justification"].rstrip(".")
                if justification[1:2].islower():
                    justification = justification[:1].lower() + justification[1:]
                text += f", an approved deviation: {justification}"
            else:
                text += ", a deviation not yet approved"
            rows.append(text)
    return t.sentence(f"Deviation{'s' if len(rows) > 1 else ''} from the SOPs: {'; '.join(rows)}") if rows else ""
