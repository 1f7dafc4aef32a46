"""The box map beside the aliquot form: the batch's lab's boxes, free and taken positions."""

from django import template

from batches.selectors.storage import box_occupancy

register = template.Library()


@register.inclusion_tag("batches/_box_map.html")
def box_map(batch) -> dict:
    return {"boxes": box_occupancy(lab_id=batch.lab_id)}
