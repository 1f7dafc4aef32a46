"""The words the pages use for fields, lent to the API schema by the app that owns them.

An app registers, in its AppConfig.ready, a function that gives a serializer field the label and help text its
forms and pages use (batches registers `batches.labels.describe_field`). `lims` names no app.
"""

from collections.abc import Callable

Describe = Callable[[type, str, object], None]
_describers: list[Describe] = []


def register(describe: Describe) -> Describe:
    if describe not in _describers:
        _describers.append(describe)
    return describe


def describe(model: type, source: str, field) -> None:
    """Lets every registered app name `field` (the serializer field of `model.source`) in the lab's words."""
    for describer in _describers:
        describer(model, source, field)
