"""Edits loaded checklist inputs in memory so a condition holds or fails, or a requirement's data is gone.

The generated tests use it to walk every item of a checklist file through its satisfied, missing,
not-applicable and invalid paths without knowing the items by name.
"""

from batches import models as m
from batches.checklist.context import Context, column_value
from batches.checklist.definition import Condition, Requirement, RowCondition
from batches.checklist.inputs import Inputs

MODELS = {
    "batch": m.SecretomeBatch,
    "passage": m.Passage,
    "cell_line": m.CellLine,
    "donor": m.Donor,
    "priming": m.PrimingCondition,
    "study": m.Study,
    "administration": m.Administration,
}
OTHER = "__something_else__"


def _set(context: Context, path: str, value) -> None:
    source, column = path.split(".", 1)
    row = context.sources[source]
    key = column if column in row else f"{column}_id"
    row[key] = value


def _other_choice(source: str, column: str, avoid: list) -> object:
    field = MODELS[source]._meta.get_field(column)
    for value, _label in field.choices or ():
        if value not in avoid and value != "":
            return value
    return OTHER


def _satisfying(source: str, column: str, operator: str, argument):
    if operator == "equals":
        return argument
    if operator in ("in", "in_ci"):
        return argument[0]
    if operator in ("not_equals", "not_in"):
        return _other_choice(source, column, argument if isinstance(argument, list) else [argument])
    if operator == "present":
        return "recorded" if argument else ""
    return {"gt": argument + 1, "gte": argument, "lt": argument - 1, "lte": argument}[operator]


def _violating(source: str, column: str, operator: str, argument):
    if operator == "equals":
        return (not argument) if isinstance(argument, bool) else _other_choice(source, column, [argument])
    if operator in ("in", "in_ci"):
        return _other_choice(source, column, list(argument))
    if operator == "not_equals":
        return argument
    if operator == "not_in":
        return argument[0]
    if operator == "present":
        return "" if argument else "recorded"
    return {"gt": argument, "gte": argument - 1, "lt": argument, "lte": argument + 1}[operator]


def make_true(condition: Condition, context: Context) -> bool:
    if context.holds(condition):
        return True
    if condition.op == "field":
        source, column = condition.path.split(".", 1)
        if context.sources.get(source) is None:
            return False
        _set(context, condition.path, _satisfying(source, column, condition.operator, condition.argument))
    elif condition.op == "rows":
        return False  # rows cannot be invented; the fixture holds them
    elif condition.op == "any":
        return any(make_true(child, context) for child in condition.children)
    elif condition.op == "all":
        return all(make_true(child, context) for child in condition.children)
    elif condition.op == "not":
        make_false(condition.children[0], context)
    return context.holds(condition)


def make_false(condition: Condition, context: Context) -> bool:
    if not context.holds(condition):
        return True
    if condition.op == "field":
        source, column = condition.path.split(".", 1)
        _set(context, condition.path, _violating(source, column, condition.operator, condition.argument))
    elif condition.op == "rows":
        remove_rows(context.inputs, condition.collection, condition.where)
    elif condition.op == "any":
        for child in condition.children:
            make_false(child, context)
    elif condition.op == "all":
        make_false(condition.children[0], context)
    elif condition.op == "not":
        make_true(condition.children[0], context)
    return not context.holds(condition)


def remove_rows(inputs: Inputs, collection: str, where: RowCondition | None) -> None:
    from batches.checklist.context import row_matches

    inputs.collections[collection] = [row for row in inputs.collections[collection] if not row_matches(where, row)]


COMPUTED_INPUTS = {
    "population_doublings": lambda inputs: inputs.sources["passage"].update(cells_harvested=None),
    "seeding_density_per_cm2": lambda inputs: inputs.sources["passage"].update(cells_seeded=None),
    "storage_days": lambda inputs: inputs.collections.update(aliquot_uses=[]),
    "particles_per_ug": lambda inputs: remove_rows(
        inputs,
        "qc_results",
        RowCondition(op="column", column="assay", operator="equals", argument="particle_concentration"),
    ),
}


def strip(requirement: Requirement, context: Context) -> None:
    """Take away what the requirement needs."""
    if requirement.kind == "field":
        current = context.resolve(requirement.path)
        _set(context, requirement.path, "" if isinstance(current, str) else None)
    elif requirement.kind == "rows":
        remove_rows(context.inputs, requirement.collection, requirement.where)
    elif requirement.kind == "any_of":
        for alternative in requirement.alternatives:
            strip(alternative[0], context)
    else:
        COMPUTED_INPUTS[requirement.computation](context.inputs)


def violate_rule(requirement: Requirement, context: Context) -> bool:
    """Make a recorded value break its rule (fields) or its rows fail `valid`; False when it has neither."""
    if requirement.kind == "field" and requirement.rule is not None:
        source, column = requirement.path.split(".", 1)
        _set(context, requirement.path, _violating(source, column, *requirement.rule))
        return True
    if requirement.kind == "rows" and requirement.valid is not None:
        from batches.checklist.context import row_matches

        for row in context.inputs.collections[requirement.collection]:
            if row_matches(requirement.where, row):
                _break_row(requirement.valid, row)
        return True
    return False


def _break_row(condition: RowCondition, row: dict) -> None:
    if condition.op == "column":
        current = column_value(row, condition.column)
        if condition.operator in ("gt", "gte", "lt", "lte"):
            row[condition.column] = None
        elif isinstance(current, bool):
            row[condition.column] = not condition.argument
        else:
            row[condition.column] = OTHER
    elif condition.op == "any":
        for child in condition.children:
            _break_row(child, row)
    elif condition.op == "all":
        _break_row(condition.children[0], row)
