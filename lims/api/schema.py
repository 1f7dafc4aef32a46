"""OpenAPI: the error shapes every operation can answer, and `version` required on every update."""

from drf_spectacular.contrib.django_filters import DjangoFilterExtension
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
    """An update answers with the record as a read returns it, not with the update's input shape; number
    fields carry the exclusive bounds (`> 0`) lims.api.bounds gives them."""

    def _insert_field_validators(self, field, schema):
        super()._insert_field_validators(field, schema)
        if getattr(field, "exclusive_minimum", False) and "minimum" in schema:
            schema["exclusiveMinimum"] = True
        if getattr(field, "exclusive_maximum", False) and "maximum" in schema:
            schema["exclusiveMaximum"] = True

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
    for name, schema in schemas.items():
        if name.endswith("Request"):
            _state_storable_text(schema)
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            for parameter in operation.get("parameters", []) if isinstance(operation, dict) else []:
                if parameter.get("in") == "query":
                    _state_storable_text(parameter.get("schema", {}))
    # A body with required properties cannot be left out: the request body itself is then required.
    for operations in result.get("paths", {}).values():
        for operation in operations.values():
            body = operation.get("requestBody") if isinstance(operation, dict) else None
            if body and any(_requires_properties(media["schema"], schemas) for media in body["content"].values()):
                body["required"] = True
    return result


# Text the API stores: PostgreSQL refuses NUL characters, and a required text is not only whitespace (it is
# trimmed before it is checked).
STORABLE_TEXT = r"^[^\x00]*$"
NON_BLANK_TEXT = r"^[^\x00]*[^\s\x00][^\x00]*$"


def _state_storable_text(schema: dict) -> None:
    if not isinstance(schema, dict):
        return
    if schema.get("type") == "string" and not ({"enum", "format", "pattern"} & schema.keys()):
        schema["pattern"] = NON_BLANK_TEXT if schema.get("minLength", 0) >= 1 else STORABLE_TEXT
    for key in ("items", "additionalProperties"):
        _state_storable_text(schema.get(key))
    for value in schema.get("properties", {}).values():
        _state_storable_text(value)
    for key in ("allOf", "anyOf", "oneOf"):
        for value in schema.get(key, []):
            _state_storable_text(value)


def _requires_properties(schema: dict, schemas: dict) -> bool:
    if "$ref" in schema:
        schema = schemas.get(schema["$ref"].rsplit("/", 1)[-1], {})
    return bool(schema.get("required"))


class BoundedFilterExtension(DjangoFilterExtension):
    """Query parameters of number filters state the range the filter accepts (ids from 1, and so on)."""

    priority = 1

    def resolve_filter_field(self, auto_schema, model, filterset_class, field_name, filter_field):
        parameters = super().resolve_filter_field(auto_schema, model, filterset_class, field_name, filter_field)
        bounds = {"minimum": filter_field.extra.get("min_value"), "maximum": filter_field.extra.get("max_value")}
        for parameter in parameters:
            schema = parameter["schema"]
            target = schema.get("items", schema) if schema.get("type") == "array" else schema
            if target.get("type") in {"integer", "number"}:
                target.update({key: value for key, value in bounds.items() if value is not None})
        return parameters


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
