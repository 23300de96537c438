"""Every error leaves as application/problem+json (RFC 9457), never as a bare 500 page."""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, InterfaceError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from schemas.api import breaks_one_line
from services.rules.errors import DomainError, TooManyAttempts

log = logging.getLogger("ballotdesk.http")
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> Response[Any]:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(content=body, status_code=status, media_type=PROBLEM, headers=headers)


def on_domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    headers = {"Retry-After": str(exc.retry_after)} if isinstance(exc, TooManyAttempts) else None
    return problem(exc.status, exc.title, exc.detail, headers, **exc.extra)


def on_validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = exc.extra if isinstance(exc.extra, list) else []
    detail = "The request is not valid."
    if errors and isinstance(errors[0], dict):
        message = str(errors[0].get("message") or "").strip()
        key = str(errors[0].get("key") or "")
        if key == "data" and (not message or message.strip("'") == "data"):
            detail = "The request body is missing or empty: send a JSON object."
        elif message:
            if breaks_one_line(message):
                message = "use one line of text, without line breaks or control characters"
            detail = message if message.endswith(".") else f"{message}."
            if key and key != "data":
                detail = f"{key}: {detail}"
    return problem(400, "Invalid request", detail, errors=errors)


def on_http_exception(request: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    headers = dict(exc.headers or {})
    detail = str(exc.detail)
    # litestar's own errors carry only the status phrase; say what happened instead.
    if detail == HTTPStatus(exc.status_code).phrase:
        detail = {
            404: f"There is nothing at {request.url.path}.",
            405: f"{request.url.path} does not accept {request.method} requests.",
            413: "The request body is larger than this endpoint accepts.",
            415: "The request's content type is not accepted here.",
        }.get(exc.status_code, detail)
    elif exc.status_code == 400 and detail == HTTPStatus(413).phrase:
        # litestar 2 reports a multipart part over its limits as 400 (a FIXME of theirs for 3.0).
        return problem(413, _title(413), "A part of the upload form (a field or the file name) is too long.")
    elif detail == "Invalid multipart/form-data":
        detail = (
            "The upload is not a valid multipart form (or its file name is not UTF-8): "
            "send the file as the form field 'file'."
        )
    return problem(exc.status_code, _title(exc.status_code), detail, headers=headers or None)


def on_out_of_range(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    return problem(400, "Invalid request", "A value is out of range or nested too deeply.")


def on_not_utf8(_: Request[Any, Any, Any], exc: UnicodeDecodeError) -> Response[Any]:
    # msgspec raises UnicodeDecodeError (not a DecodeError) for invalid UTF-8 inside a JSON string.
    return problem(400, "Invalid request", "The request holds bytes that are not valid UTF-8; send UTF-8 text.")


def on_integrity_error(_: Request[Any, Any, Any], exc: IntegrityError) -> Response[Any]:
    log.info("integrity error: %s", exc.orig)
    return problem(409, "Conflict", "The request conflicts with data written at the same time; try again.")


def on_data_error(_: Request[Any, Any, Any], exc: DataError) -> Response[Any]:
    log.info("data error: %s", exc.orig)
    return problem(422, "Invalid input", "A value does not fit the field it was given for (too long or malformed).")


# SQLSTATE classes: 22 data exception, 08 connection, 53 resources, 57 operator intervention.
_UNAVAILABLE = ("08", "53", "57")


def _sqlstate(exc: DBAPIError) -> str:
    for candidate in (exc.orig, getattr(exc.orig, "__cause__", None)):
        state = getattr(candidate, "sqlstate", None) or getattr(candidate, "pgcode", None)
        if isinstance(state, str):
            return state
    return ""


def on_database_error(request: Request[Any, Any, Any], exc: DBAPIError) -> Response[Any]:
    """Tell a bad value (4xx) from a database that is not reachable (503) from a bug (500)."""
    state = _sqlstate(exc)
    name = type(exc.orig).__name__ if exc.orig is not None else ""
    if state.startswith("22") or "DataError" in name:
        return on_data_error(request, exc)  # type: ignore[arg-type]
    if (
        isinstance(exc, OperationalError | InterfaceError)
        or state.startswith(_UNAVAILABLE)
        or exc.connection_invalidated
    ):
        return on_database_unavailable(request, exc)
    return on_unexpected(request, exc)


def on_database_unavailable(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.warning("database unavailable: %s", exc)
    return problem(
        503,
        "Service unavailable",
        "The database is not reachable right now; nothing was written. Try again shortly.",
        headers={"Retry-After": "5"},
    )


def on_unexpected(_: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    log.exception("unhandled error", exc_info=exc)
    return problem(500, "Internal error", "Something went wrong on our side; nothing was written.")


def _title(status: int) -> str:
    return {
        400: "Invalid request",
        401: "Not authenticated",
        403: "Forbidden",
        404: "Not found",
        405: "Method not allowed",
        409: "Conflict",
        413: "Request too large",
        415: "Unsupported media type",
        429: "Too many requests",
    }.get(status, "Error")


EXCEPTION_HANDLERS: dict[Any, Any] = {
    DomainError: on_domain_error,
    ValidationException: on_validation_error,
    HTTPException: on_http_exception,
    IntegrityError: on_integrity_error,
    DataError: on_data_error,
    OperationalError: on_database_unavailable,
    PoolTimeout: on_database_unavailable,
    ConnectionError: on_database_unavailable,
    DBAPIError: on_database_error,
    UnicodeDecodeError: on_not_utf8,
    OverflowError: on_out_of_range,
    RecursionError: on_out_of_range,
    Exception: on_unexpected,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM", "MediaType", "problem"]
