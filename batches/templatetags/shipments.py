"""{% shipment_notices %}: the receiving lab's unacknowledged notices from producing labs, for any page (the
dashboard shows them)."""

from django import template

from batches.shipments.selectors import open_notice_list

register = template.Library()


@register.inclusion_tag("shipments/_notices.html", takes_context=True)
def shipment_notices(context) -> dict:
    request = context.get("request")
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"shipment_notices": []}
    return {"shipment_notices": open_notice_list(user=user), "csrf_token": context.get("csrf_token")}
