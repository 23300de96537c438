"""Every error leaves as application/problem+json (RFC 9457), never as a bare 500 page."""

from __future__ import annotations

import logging
from typing import Any

from litestar import MediaType, Request, Response
from litestar.exceptions import HTTPException, ValidationException
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout

from services.errors import DomainError

log = logging.getLogger("ballotdesk.http")
PROBLEM = "application/problem+json"


def problem(status: int, title: str, detail: str, headers: dict[str, str] | None = None, **extra: Any) -> Response[Any]:
    body = {"type": "about:blank", "title": title, "status": status, "detail": detail, **extra}
    return Response(content=body, status_code=status, media_type=PROBLEM, headers=headers)


def on_domain_error(_: Request[Any, Any, Any], exc: DomainError) -> Response[Any]:
    return problem(exc.status, exc.title, exc.detail, **exc.extra)


def on_validation_error(_: Request[Any, Any, Any], exc: ValidationException) -> Response[Any]:
    errors = exc.extra if isinstance(exc.extra, list) else []
    detail = exc.detail or "The request is not valid."
    if errors:
        first = errors[0]
        if isinstance(first, dict) and first.get("message"):
            detail = f"{first['message']}" + (f" (at {first['key']})" if first.get("key") else "")
    return problem(400, "Invalid request", detail, errors=errors)


def on_http_exception(_: Request[Any, Any, Any], exc: HTTPException) -> Response[Any]:
    headers = dict(exc.headers or {})
    return problem(exc.status_code, _title(exc.status_code), str(exc.detail), headers=headers or None)


def on_integrity_error(_: Request[Any, Any, Any], exc: IntegrityError) -> Response[Any]:
    log.info("integrity error: %s", exc.orig)
    return problem(409, "Conflict", "The request conflicts with data written at the same time; try again.")


def on_data_error(_: Request[Any, Any, Any], exc: DataError) -> Response[Any]:
    log.info("data error: %s", exc.orig)
    return problem(422, "Invalid input", "A value does not fit the field it was given for (too long or malformed).")


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
    DBAPIError: on_database_unavailable,
    Exception: on_unexpected,
}

__all__ = ["EXCEPTION_HANDLERS", "PROBLEM", "MediaType", "problem"]
