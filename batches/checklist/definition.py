"""Reading a checklist file into objects the engine evaluates (the grammar is described in the file itself)."""

import hashlib
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import yaml

CHECKLIST_DIR = Path(__file__).resolve().parent.parent / "checklists"
LEVELS = ("R", "Rec", "C")
STATUSES = ("satisfied", "missing", "invalid", "not_applicable")
OPERATORS = ("equals", "not_equals", "in", "not_in", "in_ci", "present", "gt", "gte", "lt", "lte")

BATCH_SOURCES = ("batch", "passage", "cell_line", "donor", "priming")
BATCH_COLLECTIONS = (
    "passages",
    "immunophenotypes",
    "differentiations",
    "priming_agents",
    "processing_steps",
    "qc_results",
    "aliquots",
    "aliquot_uses",
    "administrations",
)
STUDY_SOURCES = ("study", "administration")
STUDY_COLLECTIONS = ("administrations", "outcome_measures", "study_groups")
SCOPES = {"batch": (BATCH_SOURCES, BATCH_COLLECTIONS), "study": (STUDY_SOURCES, STUDY_COLLECTIONS)}
COMPUTATIONS = ("population_doublings", "seeding_density_per_cm2", "storage_days", "particles_per_ug")
GATE_KINDS = ("isct_phenotype", "no_rows", "endotoxin_limit")


class ChecklistFileError(ValueError):
    """The checklist file breaks its grammar; the message names the place."""


# --- Conditions --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Condition:
    """A test on one subject's inputs: on a field, on the existence of rows, or a combination."""

    op: str  # field | rows | any | all | not | true
    path: str = ""
    operator: str = ""
    argument: Any = None
    collection: str = ""
    where: "RowCondition | None" = None
    children: tuple["Condition", ...] = ()


@dataclass(frozen=True)
class RowCondition:
    """A test on one row: column operators combined with all/any/not."""

    op: str  # column | any | all | not
    column: str = ""
    operator: str = ""
    argument: Any = None
    children: tuple["RowCondition", ...] = ()


ALWAYS = Condition(op="true")


# --- Requirements ------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class RowField:
    name: str
    label: str
    when: RowCondition | None = None


@dataclass(frozen=True)
class Requirement:
    kind: str  # field | rows | any_of | compute
    label: str
    when: Condition = ALWAYS
    advisory: bool = False
    # field
    path: str = ""
    rule: tuple[str, Any] | None = None
    absent: tuple[Any, ...] = ()
    # rows
    collection: str = ""
    where: RowCondition | None = None
    fields: tuple[RowField, ...] = ()
    each: bool = False
    key: str = ""
    groups: tuple[tuple[str, ...], ...] = ()
    valid: RowCondition | None = None
    none: bool = False
    # any_of
    alternatives: tuple[tuple["Requirement", ...], ...] = ()
    # compute
    computation: str = ""


@dataclass(frozen=True)
class Item:
    item_id: str
    category: str
    level: str
    label: str
    message: str
    source: str
    requirements: tuple[Requirement, ...]
    when: Condition = ALWAYS
    otherwise: str | None = None
    when_text: str = ""
    per: str = ""  # "" or "administration"

    @property
    def has_trigger(self) -> bool:
        return self.when is not ALWAYS


@dataclass(frozen=True)
class Gate:
    gate_id: str
    number: int
    label: str
    kind: str
    message: str
    when: Condition = ALWAYS
    params: dict = field(default_factory=dict)
    rows: tuple[Requirement, ...] = ()


@dataclass(frozen=True)
class Category:
    category_id: str
    label: str
    scope: str


@dataclass(frozen=True)
class Checklist:
    name: str
    version: str
    title: str
    digest: str
    weights: dict[str, int]
    categories: tuple[Category, ...]
    items: tuple[Item, ...]
    gates: tuple[Gate, ...]
    gate_blocking_when: Condition
    gate_blocking_text: str

    def items_for(self, scope: str) -> tuple[Item, ...]:
        scoped = {c.category_id for c in self.categories if c.scope == scope}
        return tuple(item for item in self.items if item.category in scoped)

    def categories_for(self, scope: str) -> tuple[Category, ...]:
        return tuple(c for c in self.categories if c.scope == scope)

    def item(self, item_id: str) -> Item:
        return next(item for item in self.items if item.item_id == item_id)


# --- Loading -----------------------------------------------------------------------------------------------


def available_versions() -> list[str]:
    """Every checklist version shipped with the code, oldest first (file order)."""
    return [_read(path)["version"] for path in sorted(CHECKLIST_DIR.glob("*.yaml"))]


def checklist_path(version: str) -> Path:
    for path in sorted(CHECKLIST_DIR.glob("*.yaml")):
        if _read(path).get("version") == version:
            return path
    known = ", ".join(available_versions()) or "none"
    raise ChecklistFileError(f"version: no checklist file holds version {version!r} (known: {known})")


@cache
def _read(path: Path) -> dict:
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        raise ChecklistFileError(f"{path.name}: not valid YAML: {exc}") from None
    if not isinstance(data, dict) or "version" not in data:
        raise ChecklistFileError(f"{path.name}: expected a mapping with a 'version'")
    return data


@cache
def load_checklist(version: str) -> Checklist:
    path = checklist_path(version)
    raw_text = path.read_bytes()
    return parse_checklist(_read(path), digest=hashlib.sha256(raw_text).hexdigest(), where=path.name)


def parse_checklist(data: dict, *, digest: str = "", where: str = "checklist") -> Checklist:
    parser = _Parser(data, where)
    return parser.checklist(digest)


class _Parser:
    def __init__(self, data: dict, where: str):
        self.data = data
        self.where = where
        self.named_conditions: dict[str, Any] = data.get("conditions") or {}
        self.scope = "batch"

    def fail(self, place: str, message: str):
        raise ChecklistFileError(f"{self.where}: {place}: {message}")

    def checklist(self, digest: str) -> Checklist:
        data = self.data
        for key in ("checklist", "version", "categories", "items"):
            if key not in data:
                self.fail(key, "is required")
        weights = data.get("weights") or {"R": 2, "C": 2, "Rec": 1}
        if set(weights) != set(LEVELS):
            self.fail("weights", f"give a weight for each of {', '.join(LEVELS)}")
        categories = tuple(self.category(i, raw) for i, raw in enumerate(data["categories"]))
        scope_of = {c.category_id: c.scope for c in categories}
        items = []
        seen: set[str] = set()
        for index, raw in enumerate(data["items"]):
            item = self.item(index, raw, scope_of)
            if item.item_id in seen:
                self.fail(f"items[{index}]", f"item id {item.item_id!r} is used twice")
            seen.add(item.item_id)
            items.append(item)
        self.scope = "batch"
        gates_raw = data.get("gates") or {}
        gates = tuple(self.gate(i, raw) for i, raw in enumerate(gates_raw.get("list") or []))
        blocking = self.condition("gates.blocking_when", gates_raw.get("blocking_when"))
        return Checklist(
            name=str(data["checklist"]),
            version=str(data["version"]),
            title=str(data.get("title", data["version"])),
            digest=digest,
            weights={level: int(weight) for level, weight in weights.items()},
            categories=categories,
            items=tuple(items),
            gates=gates,
            gate_blocking_when=blocking,
            gate_blocking_text=str(gates_raw.get("blocking_text", "")),
        )

    def category(self, index: int, raw: dict) -> Category:
        place = f"categories[{index}]"
        if not isinstance(raw, dict) or not raw.get("id") or raw.get("scope") not in SCOPES:
            self.fail(place, f"needs an id, a label and a scope ({' or '.join(SCOPES)})")
        return Category(category_id=raw["id"], label=str(raw.get("label", raw["id"])), scope=raw["scope"])

    def item(self, index: int, raw: dict, scope_of: dict[str, str]) -> Item:
        place = f"items[{index}]"
        if not isinstance(raw, dict) or not raw.get("id"):
            self.fail(place, "needs an id")
        place = f"item {raw['id']}"
        if raw.get("category") not in scope_of:
            self.fail(place, f"category {raw.get('category')!r} is not one of the categories")
        self.scope = scope_of[raw["category"]]
        level = raw.get("level")
        if level not in LEVELS:
            self.fail(place, f"level must be one of {', '.join(LEVELS)}")
        otherwise = raw.get("otherwise")
        if otherwise is not None and otherwise not in LEVELS:
            self.fail(place, f"otherwise must be one of {', '.join(LEVELS)}")
        if level == "C" and "when" not in raw:
            self.fail(place, "a conditional (C) item needs its trigger in 'when'")
        if not raw.get("message"):
            self.fail(place, "needs the message shown when it fails")
        per = raw.get("per", "")
        if per not in ("", "administration") or (per and self.scope != "study"):
            self.fail(place, "per: only 'administration', and only on study items")
        requirements = tuple(
            self.requirement(f"{place} require[{i}]", r) for i, r in enumerate(raw.get("require") or [])
        )
        if not any(not r.advisory and r.when is ALWAYS for r in requirements):
            self.fail(place, "needs at least one requirement that always applies and is not advisory")
        return Item(
            item_id=raw["id"],
            category=raw["category"],
            level=level,
            label=str(raw.get("label", raw["id"])),
            message=str(raw["message"]).strip(),
            source=str(raw.get("source", "")),
            requirements=requirements,
            when=self.condition(f"{place} when", raw["when"]) if "when" in raw else ALWAYS,
            otherwise=otherwise,
            when_text=str(raw.get("when_text", "")),
            per=per,
        )

    # --- requirements ---
    def requirement(self, place: str, raw: dict) -> Requirement:
        if not isinstance(raw, dict):
            self.fail(place, "expected a mapping")
        common = {
            "when": self.condition(f"{place} when", raw["when"]) if "when" in raw else ALWAYS,
            "advisory": bool(raw.get("advisory", False)),
        }
        kinds = [k for k in ("field", "rows", "any_of", "compute") if k in raw]
        if len(kinds) != 1:
            self.fail(place, "give exactly one of field, rows, any_of, compute")
        kind = kinds[0]
        if kind == "field":
            path = self.path(place, raw["field"])
            rule = self.operator(place, raw["rule"]) if "rule" in raw else None
            return Requirement(
                kind="field",
                label=str(raw.get("label", path)),
                path=path,
                rule=rule,
                absent=tuple(raw.get("absent") or ()),
                **common,
            )
        if kind == "rows":
            collection = self.collection(place, raw["rows"])
            groups = tuple(tuple(str(v) for v in group) for group in raw.get("groups") or ())
            if groups and not raw.get("key"):
                self.fail(place, "groups need the key column they are matched on")
            return Requirement(
                kind="rows",
                label=str(raw.get("label", collection)),
                collection=collection,
                where=self.row_condition(f"{place} where", raw["where"]) if "where" in raw else None,
                fields=tuple(self.row_field(f"{place} fields", f) for f in raw.get("fields") or ()),
                each=bool(raw.get("each", False)),
                key=str(raw.get("key", "")),
                groups=groups,
                valid=self.row_condition(f"{place} valid", raw["valid"]) if "valid" in raw else None,
                none=bool(raw.get("none", False)),
                **common,
            )
        if kind == "any_of":
            alternatives = raw["any_of"]
            if not isinstance(alternatives, list) or len(alternatives) < 2:
                self.fail(place, "any_of needs at least two alternatives (lists of requirements)")
            parsed = tuple(
                tuple(self.requirement(f"{place} any_of[{i}][{j}]", r) for j, r in enumerate(alt))
                for i, alt in enumerate(alternatives)
            )
            return Requirement(
                kind="any_of", label=str(raw.get("label", "one of the alternatives")), alternatives=parsed, **common
            )
        name = raw["compute"]
        if name not in COMPUTATIONS:
            self.fail(place, f"compute {name!r} is not one of {', '.join(COMPUTATIONS)}")
        if self.scope != "batch":
            self.fail(place, "computations are available on batch items only")
        return Requirement(kind="compute", label=str(raw.get("label", name)), computation=name, **common)

    def row_field(self, place: str, raw) -> RowField:
        if isinstance(raw, str):
            return RowField(name=raw, label=raw.replace("_", " "))
        if not isinstance(raw, dict) or "name" not in raw:
            self.fail(place, "a row field is a column name or {name, label, when}")
        return RowField(
            name=raw["name"],
            label=str(raw.get("label", raw["name"].replace("_", " "))),
            when=self.row_condition(f"{place} when", raw["when"]) if "when" in raw else None,
        )

    def path(self, place: str, path) -> str:
        sources = SCOPES[self.scope][0]
        if not isinstance(path, str) or "." not in path or path.split(".", 1)[0] not in sources:
            self.fail(place, f"field {path!r} must be <source>.<column> with a source among {', '.join(sources)}")
        return path

    def collection(self, place: str, name) -> str:
        collections = SCOPES[self.scope][1]
        if name not in collections:
            self.fail(place, f"rows {name!r} is not one of {', '.join(collections)}")
        return name

    def operator(self, place: str, raw) -> tuple[str, Any]:
        if not isinstance(raw, dict) or len(raw) != 1 or next(iter(raw)) not in OPERATORS:
            self.fail(place, f"a rule is one operator among {', '.join(OPERATORS)}")
        ((operator, argument),) = raw.items()
        if operator in ("in", "not_in", "in_ci") and not isinstance(argument, list):
            self.fail(place, f"{operator} needs a list")
        return operator, argument

    # --- conditions ---
    def condition(self, place: str, raw) -> Condition:
        if raw is None:
            return ALWAYS
        if not isinstance(raw, dict):
            self.fail(place, "a condition is a mapping")
        if "use" in raw:
            name = raw["use"]
            if name not in self.named_conditions:
                self.fail(place, f"no named condition {name!r}")
            return self.condition(f"{place} ({name})", self.named_conditions[name])
        for combinator in ("any", "all"):
            if combinator in raw:
                return Condition(
                    op=combinator,
                    children=tuple(
                        self.condition(f"{place} {combinator}[{i}]", c) for i, c in enumerate(raw[combinator])
                    ),
                )
        if "not" in raw:
            return Condition(op="not", children=(self.condition(f"{place} not", raw["not"]),))
        if "rows" in raw:
            return Condition(
                op="rows",
                collection=self.collection(place, raw["rows"]),
                where=self.row_condition(f"{place} where", raw["where"]) if "where" in raw else None,
            )
        if "field" in raw:
            rest = {k: v for k, v in raw.items() if k != "field"}
            operator, argument = self.operator(place, rest)
            return Condition(op="field", path=self.path(place, raw["field"]), operator=operator, argument=argument)
        self.fail(place, "a condition is field, rows, any, all, not or use")

    def row_condition(self, place: str, raw) -> RowCondition:
        if not isinstance(raw, dict) or not raw:
            self.fail(place, "a row condition is a non-empty mapping")
        parts = []
        for column, test in raw.items():
            if column in ("any", "all"):
                parts.append(
                    RowCondition(
                        op=column,
                        children=tuple(self.row_condition(f"{place} {column}[{i}]", c) for i, c in enumerate(test)),
                    )
                )
            elif column == "not":
                parts.append(RowCondition(op="not", children=(self.row_condition(f"{place} not", test),)))
            elif isinstance(test, dict):
                operator, argument = self.operator(f"{place} {column}", test)
                parts.append(RowCondition(op="column", column=column, operator=operator, argument=argument))
            else:
                parts.append(RowCondition(op="column", column=column, operator="equals", argument=test))
        return parts[0] if len(parts) == 1 else RowCondition(op="all", children=tuple(parts))

    # --- gates ---
    def gate(self, index: int, raw: dict) -> Gate:
        place = f"gates.list[{index}]"
        if not isinstance(raw, dict) or not raw.get("id") or raw.get("kind") not in GATE_KINDS:
            self.fail(place, f"a gate needs an id and a kind among {', '.join(GATE_KINDS)}")
        rows = tuple(
            self.requirement(f"{place} rows[{i}]", {"rows": r["rows"], **{k: v for k, v in r.items() if k != "rows"}})
            for i, r in enumerate(raw.get("rows") or ())
        )
        if raw["kind"] == "no_rows" and not rows:
            self.fail(place, "a no_rows gate lists the rows that must not exist")
        params = {k: v for k, v in raw.items() if k not in ("id", "number", "label", "kind", "message", "when", "rows")}
        return Gate(
            gate_id=raw["id"],
            number=int(raw.get("number", index + 1)),
            label=str(raw.get("label", raw["id"])),
            kind=raw["kind"],
            message=str(raw.get("message", "")).strip(),
            when=self.condition(f"{place} when", raw["when"]) if "when" in raw else ALWAYS,
            params=params,
            rows=rows,
        )
