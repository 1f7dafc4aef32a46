"""Every answer under /api/ is JSON, including the ones Django gives before a view runs (no such route,
a method a plain view does not take, a server error): `{"detail": "message"}`, the API's error shape."""

from http import HTTPStatus

from django.http import JsonResponse

API_PREFIX = "/api/"
MESSAGES = {
    404: "Not found.",
    405: "Method not allowed.",
    500: "Server error; the problem has been logged.",
}


def _message(status: int) -> str:
    if status in MESSAGES:
        return MESSAGES[status]
    try:
        return f"{HTTPStatus(status).phrase}."
    except ValueError:
        return "Error."


def _is_json(response) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip().endswith("json")


class ApiErrorsAsJsonMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if not request.path.startswith(API_PREFIX) or response.status_code < 400 or _is_json(response):
            return response
        converted = JsonResponse({"detail": _message(response.status_code)}, status=response.status_code)
        for header in ("Allow", "Retry-After", "WWW-Authenticate"):
            if header in response:
                converted[header] = response[header]
        return converted
