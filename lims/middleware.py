"""Input PostgreSQL cannot store never reaches a view: a NUL byte in a query or form value answers 400."""

from django.http import HttpResponseBadRequest, JsonResponse


class RejectNulBytesMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        for source, values in (("query string", request.GET), ("form", _form_values(request))):
            for key, items in values.lists():
                if "\x00" in key or any("\x00" in item for item in items if isinstance(item, str)):
                    message = f"The {source} field {key!r} contains a NUL byte."
                    if request.path.startswith("/api/"):
                        # The API's error shape (lims.api.exceptions): JSON, never an HTML page.
                        return JsonResponse({"non_field_errors": [message]}, status=400)
                    return HttpResponseBadRequest(message)
        return self.get_response(request)


def _form_values(request):
    content_type = request.content_type or ""
    if request.method in ("POST", "PUT", "PATCH") and content_type in (
        "application/x-www-form-urlencoded",
        "multipart/form-data",
    ):
        return request.POST
    return request.GET.__class__()


class ContentSecurityPolicyMiddleware:
    """Every response carries settings.CONTENT_SECURITY_POLICY (no inline script or style anywhere: the
    templates load theirs from static files), unless a view set its own."""

    def __init__(self, get_response):
        from django.conf import settings

        self.get_response = get_response
        self.policy = "; ".join(f"{name} {' '.join(sources)}" for name, sources in settings.CONTENT_SECURITY_POLICY)

    def __call__(self, request):
        response = self.get_response(request)
        if self.policy:
            response.headers.setdefault("Content-Security-Policy", self.policy)
        return response
