"""Reading one subject's inputs: field paths, operators, row and subject conditions."""

from typing import Any

from batches.checklist.definition import Condition, RowCondition
from batches.checklist.inputs import Inputs

# Where each source and collection sits relative to its subject, and what to call it in a message.
SOURCE_PATHS = {
    "batch": ("", "batch"),
    "passage": ("passage.", "producing passage"),
    "cell_line": ("passage.cell_line.", "cell line"),
    "donor": ("passage.cell_line.donor.", "donor"),
    "priming": ("priming.", "priming condition"),
    "study": ("", "study"),
    "administration": ("", "administration"),
}
COLLECTION_PATHS = {
    "passages": "passage",
    "immunophenotypes": "passage.cell_line.immunophenotypes",
    "differentiations": "passage.cell_line.differentiations",
    "priming_agents": "priming.agents",
    "processing_steps": "processing_steps",
    "qc_results": "qc_results",
    "aliquots": "aliquots",
    "aliquot_uses": "aliquots.events",
    "administrations": "administrations",
    "outcome_measures": "outcome_measures",
    "study_groups": "groups",
}
SHOWN_ROWS = 12


def is_present(value: Any, absent: tuple = ()) -> bool:
    if value is None or value == "" or value in absent:
        return False
    return not (isinstance(value, list | dict | tuple) and not value)


def compare(operator: str, value: Any, argument: Any) -> bool:
    if operator == "present":
        return is_present(value) is bool(argument)
    if operator == "equals":
        return value == argument
    if operator == "not_equals":
        return value != argument
    if operator == "in":
        return value in argument
    if operator == "not_in":
        return value not in argument
    if operator == "in_ci":
        return isinstance(value, str) and value.casefold() in {str(a).casefold() for a in argument}
    if value is None or isinstance(value, str):
        return False
    try:
        if operator == "gt":
            return value > argument
        if operator == "gte":
            return value >= argument
        if operator == "lt":
            return value < argument
        if operator == "lte":
            return value <= argument
    except TypeError:
        return False
    raise ValueError(f"unknown operator {operator}")


RULE_WORDS = {
    "equals": "be {}",
    "not_equals": "not be {}",
    "in": "be one of {}",
    "not_in": "not be one of {}",
    "in_ci": "be one of {}",
    "present": "be recorded",
    "gt": "be greater than {}",
    "gte": "be at least {}",
    "lt": "be below {}",
    "lte": "be at most {}",
}


def rule_text(operator: str, argument: Any) -> str:
    text = ", ".join(map(shown, argument)) if isinstance(argument, list) else shown(argument)
    return RULE_WORDS[operator].format(text)


def shown(value: Any) -> str:
    if value is True:
        return "yes"
    if value is False:
        return "no"
    if value is None or value == "":
        return "empty"
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def row_matches(condition: RowCondition | None, row: dict) -> bool:
    if condition is None:
        return True
    if condition.op == "column":
        return compare(condition.operator, column_value(row, condition.column), condition.argument)
    if condition.op == "all":
        return all(row_matches(c, row) for c in condition.children)
    if condition.op == "any":
        return any(row_matches(c, row) for c in condition.children)
    return not row_matches(condition.children[0], row)


class Context:
    """One subject's inputs, with `administration` bound for per-administration study items."""

    def __init__(self, inputs: Inputs, administration: dict | None = None):
        self.inputs = inputs
        self.sources = dict(inputs.sources)
        if administration is not None:
            self.sources["administration"] = administration

    def resolve(self, path: str) -> Any:
        source, column = path.split(".", 1)
        row = self.sources.get(source)
        return None if row is None else column_value(row, column)

    def rows(self, collection: str) -> list[dict]:
        return self.inputs.collections.get(collection, [])

    def holds(self, condition: Condition) -> bool:
        if condition.op == "true":
            return True
        if condition.op == "field":
            return compare(condition.operator, self.resolve(condition.path), condition.argument)
        if condition.op == "rows":
            return any(row_matches(condition.where, row) for row in self.rows(condition.collection))
        if condition.op == "all":
            return all(self.holds(c) for c in condition.children)
        if condition.op == "any":
            return any(self.holds(c) for c in condition.children)
        return not self.holds(condition.children[0])


def describe(context: Context, path: str) -> str:
    """Which record a field path reads, for a message: "on the donor D-01", "no priming condition is linked"."""
    source = path.split(".", 1)[0]
    row = context.sources.get(source)
    noun = SOURCE_PATHS[source][1]
    if row is None:
        return f"no {noun} is linked"
    name = row.get("code") or row.get("name") or row.get("title") or row.get("group")
    if source == "passage":
        name = f"P{row.get('number')}"
    return f"on the {noun} {name}" if name else f"on the {noun}"


def column_value(row: dict, column: str) -> Any:
    """A row's value for a field name; foreign keys are loaded under their column (priming -> priming_id)."""
    if column in row:
        return row[column]
    return row.get(f"{column}_id")


def field_path(path: str) -> str:
    """A checklist path (donor.species) as the model field path from the subject (passage.cell_line.donor.species)."""
    source, column = path.split(".", 1)
    return SOURCE_PATHS[source][0] + column
