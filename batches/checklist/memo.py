"""Evaluating a chunk of batches without judging the same thing twice.

Batches of one chunk share most of what the checklist reads: the donor, cell line, passage chain,
phenotype and priming of a batch are the same rows (the same dict objects, as the loader builds them)
for every batch made from them, and many batch fields hold the same values. An item's result depends
only on what the item reads, so `ChunkMemo` keys each item (and gate) by exactly that:

- a field it reads: the value (its type and repr, so 1, 1.0 and True stay apart); when the value is absent
  the item's text names the record that lacks it ("on the batch SB-001"), so that name joins the key;
- a collection it reads: the identity of each row (rows are shared between batches, never copied);
- a computed value: the fields and collections the computation reads (COMPUTE_READS).

What an item reads is found once per checklist from its definition (conditions, requirements and their
alternatives). A memo lives for one chunk, while the inputs it keyed by identity are alive, and its
results are shared between evaluations: they are for storing, not for changing.
"""

from dataclasses import dataclass, field
from typing import Any

from batches.checklist.context import Context, describe, is_present
from batches.checklist.definition import Checklist, Condition, Gate, Item, Requirement

# What each computation reads (batches.checklist.computed): fields, collections, whole source rows.
COMPUTE_READS: dict[str, tuple[tuple[str, ...], tuple[str, ...], tuple[str, ...]]] = {
    "population_doublings": ((), ("passages",), ()),
    "seeding_density_per_cm2": ((), (), ("passage",)),
    "storage_days": (("batch.collected_at",), ("aliquot_uses",), ()),
    "particles_per_ug": ((), ("qc_results",), ()),
}
# What each kind of gate reads besides its own condition and the blocking condition.
GATE_READS = {
    "isct_phenotype": lambda gate: ("immunophenotypes",),
    "no_rows": lambda gate: tuple(spec.collection for spec in gate.rows),
    "endotoxin_limit": lambda gate: ("qc_results", "administrations"),
}
_PLAIN = (str, int, bool, type(None))


@dataclass
class Reads:
    """The fields (with the values that count as absent), collections and source rows an item reads."""

    paths: dict[str, set] = field(default_factory=dict)
    collections: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    conditions: bool = True  # False: only what the requirements themselves read (what makes their value)

    def condition(self, condition: Condition | None) -> None:
        if condition is None or condition.op == "true" or not self.conditions:
            return
        if condition.op == "field":
            self.paths.setdefault(condition.path, set())
        elif condition.op == "rows":
            self.collections.add(condition.collection)
        for child in condition.children:
            self.condition(child)

    def requirement(self, requirement: Requirement) -> None:
        self.condition(requirement.when)
        if requirement.kind == "field":
            self.paths.setdefault(requirement.path, set()).update(requirement.absent)
        elif requirement.kind == "rows":
            self.collections.add(requirement.collection)
        elif requirement.kind == "compute":
            paths, collections, sources = COMPUTE_READS[requirement.computation]
            for path in paths:
                self.paths.setdefault(path, set())
            self.collections.update(collections)
            self.sources.update(sources)
        for alternative in requirement.alternatives:
            for nested in alternative:
                self.requirement(nested)

    def frozen(self) -> tuple:
        return (
            tuple(sorted((path, tuple(absent)) for path, absent in self.paths.items())),
            tuple(sorted(self.collections)),
            tuple(sorted(self.sources)),
        )


def item_reads(item: Item) -> tuple:
    reads = Reads()
    reads.condition(item.when)
    for requirement in item.requirements:
        reads.requirement(requirement)
    return reads.frozen()


def gate_reads(checklist: Checklist, gate: Gate) -> tuple:
    reads = Reads()
    reads.condition(checklist.gate_blocking_when)
    reads.condition(gate.when)
    reads.collections.update(GATE_READS[gate.kind](gate))
    return reads.frozen()


# Records many batches share (every batch made from a cell line, or with a priming condition).
SHARED_SOURCES = frozenset({"donor", "cell_line", "passage", "priming"})
SHARED_COLLECTIONS = frozenset({"passages", "immunophenotypes", "differentiations", "priming_agents"})


def values_shared(checklist: Checklist) -> frozenset[str]:
    """The items and gates whose value is read from shared records only: such a value is the same in the
    reports of many batches, so a report stores it with the item's explanation (stored once), not itself."""
    shared = set()
    for item in checklist.items:
        reads = Reads(conditions=False)
        for requirement in item.requirements:
            reads.requirement(requirement)
        sources = {path.split(".", 1)[0] for path in reads.paths} | reads.sources
        if sources <= SHARED_SOURCES and reads.collections <= SHARED_COLLECTIONS:
            shared.add(item.item_id)
    shared.update(gate.gate_id for gate in checklist.gates if set(GATE_READS[gate.kind](gate)) <= SHARED_COLLECTIONS)
    return frozenset(shared)


def _value_key(value: Any) -> tuple:
    cls = value.__class__
    return (cls, value) if cls in _PLAIN else (cls, repr(value))


def _compiled(reads: tuple) -> tuple:
    """What read_key walks, split once: (source, column, path, absent) per field, then collections, sources."""
    paths, collections, sources = reads
    fields = tuple((*path.split(".", 1), path, absent) for path, absent in paths)
    return fields, collections, sources


def read_key(compiled: tuple, context: Context) -> tuple:
    """The values, row identities and (for absent values) record names that one item's result depends on."""
    fields, collections, sources = compiled
    key: list = []
    rows = context.sources
    for source, column, path, absent in fields:
        row = rows.get(source)
        value = None if row is None else row[column] if column in row else row.get(f"{column}_id")
        key.append(_value_key(value))
        if not is_present(value, absent):
            key.append(describe(context, path))
    for collection in collections:
        key.append(tuple(map(id, context.rows(collection))))
    for source in sources:
        key.append(id(rows.get(source)))
    return tuple(key)


class ChunkMemo:
    """Item and gate results of one chunk, by what they read; `hits` counts the evaluations saved."""

    def __init__(self, checklist: Checklist):
        self.checklist = checklist
        self._item_reads = {item.item_id: _compiled(item_reads(item)) for item in checklist.items}
        self._gate_reads = {gate.gate_id: _compiled(gate_reads(checklist, gate)) for gate in checklist.gates}
        self._results: dict[tuple, Any] = {}
        self.hits = 0

    def _get(self, kind: str, name: str, reads: tuple, context: Context, evaluate):
        key = (kind, name, read_key(reads, context))
        result = self._results.get(key)
        if result is None:
            result = self._results[key] = evaluate()
        else:
            self.hits += 1
        return result

    def item(self, item: Item, context: Context, evaluate):
        return self._get("item", item.item_id, self._item_reads[item.item_id], context, evaluate)

    def gate(self, gate: Gate, context: Context, evaluate):
        return self._get("gate", gate.gate_id, self._gate_reads[gate.gate_id], context, evaluate)

    def scores(self, results: list, compute):
        """The score of a list of item results, by what it depends on: each item's category, level and status."""
        key = ("scores", tuple((r.category, r.level, r.status) for r in results))
        scores = self._results.get(key)
        if scores is None:
            scores = self._results[key] = compute()
        return scores
