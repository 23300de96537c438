"""The OpenAPI document, completed with what litestar cannot infer from the handlers.

litestar documents a handler's default success status and its own validation error shape. The
service answers otherwise in places, and a client generated from the document (or a tester such
as schemathesis) must be told: every error is `application/problem+json` (RFC 9457) with the
statuses the exception handlers produce; a vote or comment set is 201 when first stored and 200
when changed; a Word document is the file itself (200) or "being built" (202); the CSV and XLSX
exports are files, not JSON. Request bodies refuse unknown fields (`additionalProperties: false`,
as msgspec does with `forbid_unknown_fields`), and ids are the database's integers, 1 to 2^31-1.

The Swagger page loads Swagger UI from this server (the files the swagger-ui-py package ships),
never from a CDN: nothing another site serves runs beside a user's token.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import msgspec
import swagger_ui  # type: ignore[import-untyped]
from litestar import Request, Response, get
from litestar.exceptions import NotFoundException
from litestar.openapi.plugins import JsonRenderPlugin, SwaggerRenderPlugin

from schemas import api

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
    "413": "The request body is larger than this endpoint accepts, or an upload would inflate beyond a limit.",
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


# The id columns are PostgreSQL integers; a larger id names nothing.
ID_RANGE = {"minimum": 1, "maximum": 2_147_483_647}


def _request_names() -> set[str]:
    """The components of request bodies: every `schemas.api.Request`, which refuses unknown fields."""
    return {
        name
        for name, value in vars(api).items()
        if isinstance(value, type)
        and issubclass(value, msgspec.Struct)
        and value.__struct_config__.forbid_unknown_fields
        and value is not api.Request
    }


def _bound_id(schema: dict[str, Any]) -> None:
    for option in schema.get("oneOf", [schema]):
        if option.get("type") == "integer":
            option.update(ID_RANGE)


def complete(document: dict[str, Any]) -> dict[str, Any]:
    """Amend the generated document in place (idempotent) and return it."""
    components = document.setdefault("components", {}).setdefault("schemas", {})
    for name in _request_names() & set(components):
        components[name]["additionalProperties"] = False
    components["Problem"] = PROBLEM_SCHEMA
    problem = {PROBLEM_MEDIA: {"schema": {"$ref": "#/components/schemas/Problem"}}}
    for item in document.get("paths", {}).values():
        for method, operation in item.items():
            if method not in ("get", "put", "post", "delete", "patch") or not isinstance(operation, dict):
                continue
            for parameter in operation.get("parameters", []):
                if parameter.get("in") in ("path", "query") and parameter.get("name", "").endswith("_id"):
                    _bound_id(parameter.setdefault("schema", {}))
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


SWAGGER_ASSETS = Path(swagger_ui.__file__).parent / "static"
SWAGGER_PATH = "/schema/swagger-ui"
# The only files the page needs; nothing else of the package's directory is served.
_ASSET_TYPES = {
    "swagger-ui-bundle.js": "text/javascript",
    "swagger-ui-standalone-preset.js": "text/javascript",
    "swagger-ui.css": "text/css",
    "favicon-32x32.png": "image/png",
}


@get(f"{SWAGGER_PATH}/{{name:str}}", include_in_schema=False, sync_to_thread=True)
def swagger_asset(name: str) -> Response[bytes]:
    media_type = _ASSET_TYPES.get(name)
    if media_type is None:
        raise NotFoundException()
    return Response(
        (SWAGGER_ASSETS / name).read_bytes(),
        media_type=media_type,
        headers={"cache-control": "public, max-age=86400", "x-content-type-options": "nosniff"},
    )


def swagger_plugin() -> SwaggerRenderPlugin:
    return SwaggerRenderPlugin(
        path="/swagger",
        js_url=f"{SWAGGER_PATH}/swagger-ui-bundle.js",
        css_url=f"{SWAGGER_PATH}/swagger-ui.css",
        standalone_preset_js_url=f"{SWAGGER_PATH}/swagger-ui-standalone-preset.js",
        favicon=f"<link rel='icon' type='image/png' href='{SWAGGER_PATH}/favicon-32x32.png'>",
    )
