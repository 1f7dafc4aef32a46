"""Template filters that put a page's words through the one source of field labels (batches.labels)."""

from django import template

from batches.labels import in_words

register = template.Library()

LEVELS = {"R": "Required", "C": "Required in this case", "Rec": "Recommended"}


@register.filter
def lab_words(text) -> str:
    """A stored sentence with any column name in it replaced by the field's label."""
    return in_words(str(text)) if text else ""


@register.filter
def level_name(level: str) -> str:
    return LEVELS.get(level, level)
