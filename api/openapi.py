"""The published schema (`/api/v1/openapi.json`) also describes the error answers.

Errors come from the exception handlers (`api.errors`), not from the endpoints' `response=`
declarations, so ninja would document only the success. API.md gives every error one shape; each
operation gets it for 4XX and 5XX, so a client generated from the schema can read them.
"""

from __future__ import annotations

from typing import Any

from ninja import NinjaAPI
from ninja.openapi.schema import OpenAPISchema

ERROR_SCHEMA: dict[str, Any] = {
    "title": "Error",
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["code", "message"],
            "properties": {
                "code": {"type": "string", "example": "invalid"},
                "message": {"type": "string"},
                "fields": {
                    "type": "object",
                    "additionalProperties": {"type": "array", "items": {"type": "string"}},
                    "description": "messages per field (422)",
                },
                "allowed_actions": {
                    "type": "array",
                    "items": {"type": "string"},
                    "description": "409 on a case action: what the caller may do now",
                },
            },
            "additionalProperties": True,
        }
    },
}

_ERROR_RESPONSES: dict[str, str] = {
    "4XX": "400 malformed, 401, 403, 404 (also a case the caller may not see), 405, 409, 413, "
    "415, 422 invalid values (`fields`), 429 rate limited (`Retry-After`)",
    "5XX": "503 a dependency is down (safe to retry); 500 a fault of the service",
}


def document_errors(schema: OpenAPISchema) -> OpenAPISchema:
    schema.setdefault("components", {}).setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    error = {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}
    for operations in schema.get("paths", {}).values():
        for operation in operations.values():
            responses = operation.setdefault("responses", {})
            for status, description in _ERROR_RESPONSES.items():
                responses.setdefault(status, {"description": description, "content": error})
    return schema


class DocumentedApi(NinjaAPI):
    def get_openapi_schema(self, **kwargs: Any) -> OpenAPISchema:
        return document_errors(super().get_openapi_schema(**kwargs))
