"""The OpenAPI document, completed with what litestar cannot infer from the handlers.

litestar documents a handler's default success status and its own validation error shape. The
service answers otherwise in places, and a client generated from the document (or a tester such
as schemathesis) must be told: every error is `application/problem+json` (RFC 9457) with the
statuses the exception handlers produce; a vote or comment set is 201 when first stored and 200
when changed; a Word document is the file itself (200) or "being built" (202); the CSV and XLSX
exports are files, not JSON.
"""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.openapi.plugins import JsonRenderPlugin

PROBLEM_MEDIA = "application/problem+json"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"

PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "A problem detail (RFC 9457); some carry more members, e.g. `errors` or `field`.",
    "required": ["type", "title", "status", "detail"],
    "properties": {
        "type": {"type": "string"},
        "title": {"type": "string"},
        "status": {"type": "integer", "minimum": 400, "maximum": 599},
        "detail": {"type": "string"},
    },
    "additionalProperties": True,
}

# Statuses the exception handlers may answer any request with (services/http/problems.py).
ERRORS = {
    "400": "The request is malformed: not JSON, wrong types, unknown fields, a value out of range.",
    "401": "No API token, or an unknown or revoked one.",
    "403": "The token's person may not do this.",
    "404": "There is no such resource.",
    "409": "The current state does not allow this (e.g. the ballot is closed), or a concurrent write won.",
    "413": "The request body is larger than this endpoint accepts.",
    "415": "The upload or the content type is not accepted.",
    "422": "A value is well-formed but not valid here.",
    "503": "The database is not reachable; nothing was written. Retry after the time given.",
}

_BUILDING: dict[str, Any] = {
    "description": "The document is being built; retry after the time given.",
    "headers": {"Retry-After": {"schema": {"type": "string"}}},
    "content": {
        "application/json": {
            "schema": {
                "type": "object",
                "required": ["status", "document_id", "detail"],
                "properties": {
                    "status": {"type": "string"},
                    "document_id": {"type": ["integer", "null"]},
                    "detail": {"type": "string"},
                },
            }
        }
    },
}


def _file(media_type: str, what: str) -> dict[str, Any]:
    return {"description": what, "content": {media_type: {"schema": {"type": "string", "format": "binary"}}}}


# operationId -> responses to set (a string value copies another status's response).
EXTRA: dict[str, dict[str, Any]] = {
    "CastVote": {"201": "200"},
    "ReplaceComments": {"201": "200"},
    "UploadComments": {"200": "201"},
    "GetCommentTable": {"200": _file(DOCX, "The compiled comment table (Word)."), "202": _BUILDING},
    "GetBodyTemplate": {"200": _file(DOCX, "The body's comments in the ISO commenting template (Word).")},
    "GetResultsReport": {"200": _file(DOCX, "The results report (Word)."), "202": _BUILDING},
    "GetCommentsCsv": {"200": _file("text/csv", "The comments as CSV (UTF-8 with a byte-order mark).")},
    "GetCommentsXlsx": {"200": _file(XLSX, "The comments as an Excel workbook.")},
}


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """Amend the generated document in place (idempotent) and return it."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    components["Problem"] = PROBLEM_SCHEMA
    problem = {PROBLEM_MEDIA: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method not in ("get", "put", "post", "delete", "patch") or not isinstance(operation, dict):
                continue
            responses = operation.setdefault("responses", {})
            for status, description in ERRORS.items():
                responses[status] = {"description": description, "content": problem}
            for status, response in EXTRA.get(operation.get("operationId", ""), {}).items():
                responses[status] = dict(responses[response]) if isinstance(response, str) else response
    return document


class CompletedJsonRenderPlugin(JsonRenderPlugin):
    """Serves /schema/openapi.json with the completions above."""

    def render(self, request: Request[Any, Any, Any], openapi_schema: dict[str, Any]) -> bytes:
        return super().render(request, complete(openapi_schema))
