"""The per-model rules of the one write path, registered by the apps that own the models.

`lims.services.records` is the write path every door calls (API, web forms, admin actions, imports,
commands). It knows nothing of batches or SOPs: each app registers, in its AppConfig.ready, what its
models need beyond the generic checks:

* `locked(Model)`: why a row may no longer change (a released batch, an effective SOP version), or None;
* `reason_needed(Model)`: when a change needs a reason (a submitted batch), the message asking for one;
* `check(Model)`: cross-record checks before a create or an update (raise ValidationError on the field);
* `defaults(Model)`: values a new row gets unless the caller gave them (a batch's operator);
* `after_create(Model)` / `after_write(Model)`: what the same transaction writes next (a batch's lifecycle
  event, the deviations of every batch the record feeds);
* `constraint_messages`: the words for a named constraint or trigger, on the field it guards.

A rule registered for `models.Model` applies to every record. Rules are looked up along the model's MRO.
"""

import re
from collections import defaultdict
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from django.core.exceptions import NON_FIELD_ERRORS
from django.db import models
from django.db.models import Q

Locked = Callable[[models.Model], str | None]
ReasonNeeded = Callable[[models.Model, dict[str, Any]], str | None]
Check = Callable[[type[models.Model], int, dict[str, Any], models.Model | None], None]
Defaults = Callable[[dict[str, Any], Any], dict[str, Any]]
AfterWrite = Callable[[models.Model, Any], None]

_rules: dict[str, dict[type[models.Model], list[Callable]]] = defaultdict(lambda: defaultdict(list))
_messages: dict[str, tuple[str, str]] = {}


def _registrar(kind: str):
    def register(model: type[models.Model] = models.Model):
        def add(rule: Callable) -> Callable:
            _rules[kind][model].append(rule)
            return rule

        return add

    return register


locked = _registrar("locked")
reason_needed = _registrar("reason_needed")
check = _registrar("check")
defaults = _registrar("defaults")
after_create = _registrar("after_create")
after_write = _registrar("after_write")


def rules_for(kind: str, model: type[models.Model]) -> Iterator[Callable]:
    """The rules of `kind` for `model`, its own first, then its bases' (ending with every record's)."""
    registered = _rules[kind]
    for cls in model.__mro__:
        yield from registered.get(cls, ())


def constraint_messages(messages: dict[str, tuple[str, str]]) -> None:
    """Name the field and the words for constraints and triggers: {name: (field, message)}."""
    _messages.update(messages)


# --- Explaining constraints in the words of the field they guard ---------------------------------

_RULE_SUFFIXES: list[tuple[str, Callable[[Q], str]]] = [
    ("_0_100", lambda condition: "Must be between 0 and 100."),
    ("_non_negative", lambda condition: "Must be zero or more."),
    ("_positive", lambda condition: "Must be greater than zero."),
    ("_valid", lambda condition: "Not one of the allowed values."),
    ("_range", lambda condition: _range_message(condition)),
]


def _range_message(condition: Q) -> str:
    bounds = dict(_leaf_lookups(condition))
    low = next((value for key, value in bounds.items() if key.endswith("__gte")), None)
    high = next((value for key, value in bounds.items() if key.endswith("__lte")), None)
    return f"Must be between {low:g} and {high:g}." if low is not None and high is not None else "Out of range."


def _leaf_lookups(condition: Q) -> Iterable[tuple[str, Any]]:
    for child in condition.children:
        if isinstance(child, Q):
            yield from _leaf_lookups(child)
        else:
            yield child


def explain_constraint(model: type[models.Model], constraint_name: str) -> tuple[str, str] | None:
    """(field, message) for a constraint or trigger of `model`, in words a technician can act on."""
    if constraint_name in _messages:
        return _messages[constraint_name]
    constraint = next((c for c in model._meta.constraints if c.name == constraint_name), None)
    if constraint is None:
        return None
    if isinstance(constraint, models.UniqueConstraint) and constraint.fields:
        fields = [name for name in constraint.fields if name != "lab"]
        target = fields[-1] if fields else constraint.fields[-1]
        scope = " in the lab" if "lab" in constraint.fields else ""
        return target, f"This {target.replace('_', ' ')} is already used{scope}."
    if isinstance(constraint, models.CheckConstraint):
        names = {f.name for f in model._meta.concrete_fields}
        body = constraint_name.removeprefix(f"{model._meta.model_name}_")
        match = re.fullmatch(r"(?P<field>.+)_not_before_(?P<earlier>.+)", body)
        if match and match["field"] in names:
            earlier = match["earlier"].replace("_", " ")
            return match["field"], f"Must not be less than {earlier}."
        for suffix, message in _RULE_SUFFIXES:
            if body.endswith(suffix) and body.removesuffix(suffix) in names:
                return body.removesuffix(suffix), message(constraint.condition)
        referenced = [key.split("__")[0] for key, _ in _leaf_lookups(constraint.condition)]
        target = next((name for name in referenced if name in names), NON_FIELD_ERRORS)
        return target, f"Breaks the rule '{body.replace('_', ' ')}'."
    return None


constraint_messages(
    {
        "membership_one_role_per_lab": ("user", "This user is already a member of the lab."),
        "invitation_one_pending_per_person": ("invitee", "This person already has a pending invitation to the lab."),
    }
)
