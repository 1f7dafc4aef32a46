"""OpenAPI: the error shapes every operation can answer, and `version` required on every update."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema

VALIDATION_ERROR = {
    "type": "object",
    "description": "Every problem, keyed by field (nested fields as dotted paths); `non_field_errors` for the rest.",
    "additionalProperties": {"type": "array", "items": {"type": "string"}},
}
ERROR = {
    "type": "object",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
CONFLICT = {
    "type": "object",
    "description": "The record changed since the version you sent, or may no longer change.",
    "properties": {
        "detail": {"type": "string"},
        "current_version": {"type": "integer", "nullable": True, "description": "The record's version now."},
    },
    "required": ["detail"],
}
_WRITES = {"post", "put", "patch", "delete"}


def _response(component: str, description: str) -> dict:
    return {
        "description": description,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{component}"}}},
    }


class LabAutoSchema(AutoSchema):
    """An update answers with the record as a read returns it, not with the update's input shape."""

    def get_response_serializers(self):
        if getattr(self.view, "action", None) in {"update", "partial_update"} and hasattr(
            self.view, "serializer_class"
        ):
            return self.view.serializer_class
        return super().get_response_serializers()


def add_error_responses(result: dict, generator, request, public) -> dict:
    """Postprocessing hook: document 400/401/403/404/406/409/415 wherever they can happen."""
    schemas = result.setdefault("components", {}).setdefault("schemas", {})
    schemas.setdefault("ValidationError", VALIDATION_ERROR)
    schemas.setdefault("Error", ERROR)
    schemas.setdefault("Conflict", CONFLICT)
    for path, operations in result.get("paths", {}).items():
        for method, operation in operations.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            responses = operation.setdefault("responses", {})
            has_params = bool(operation.get("parameters"))
            if method in _WRITES or has_params:
                responses.setdefault("400", _response("ValidationError", "Invalid input; every problem by field."))
            if "security" in operation:
                responses.setdefault("401", _response("Error", "Not authenticated."))
                responses.setdefault("403", _response("Error", "Your role in the lab does not allow this."))
            if "{" in path or (method == "get" and has_params):
                responses.setdefault("404", _response("Error", "Not found in your labs (or no such page)."))
            responses.setdefault("406", _response("Error", "The Accept header asks for a format the API cannot give."))
            if method in _WRITES:
                responses.setdefault("409", _response("Conflict", "Stale version, or the record may no longer change."))
            if "requestBody" in operation:
                responses.setdefault("415", _response("Error", "Send JSON."))
            for code, response in responses.items():
                if code.startswith("4") and "content" not in response:
                    component = {"400": "ValidationError", "409": "Conflict"}.get(code, "Error")
                    response["content"] = _response(component, "")["content"]
    for name, schema in schemas.items():
        if name.startswith("Patched") and name.endswith("UpdateRequest") and "version" in schema.get("properties", {}):
            schema["required"] = sorted({*schema.get("required", []), "version"})
    return result


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "lims.api.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "`Token <token>`, the token from POST /api/v1/auth/token/.",
        }
