"""What the HTTP face decides from the request alone: which database scope it runs in (the API and
the pages alike), and which bodies the API reads."""

from __future__ import annotations

from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.exceptions import HTTPException
from litestar.handlers import BaseRouteHandler


def only_reads(request: Request[Any, Any, Any]) -> bool:
    """GET and HEAD read, unless their route says it writes (`opt={"writes": True}`: a download
    that queues the document's build)."""
    return request.method in ("GET", "HEAD") and not request.route_handler.opt.get("writes", False)


_BODY_TYPES = (b"application/json", b"multipart/form-data")


def api_bodies_are_json(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    """The API reads JSON (and multipart uploads): a body sent as text/plain, a form or anything
    else is refused with 415 rather than parsed as JSON all the same. Read from the raw scope: it
    runs on every request, votes included, and builds no URL or header objects."""
    scope = connection.scope
    if scope.get("method") not in ("POST", "PUT", "PATCH") or not scope["path"].startswith("/api/"):
        return
    sent = next((value for name, value in scope["headers"] if name == b"content-type"), b"")
    kind = sent.split(b";", 1)[0].strip().lower()
    if kind and not (kind in _BODY_TYPES or (kind.startswith(b"application/") and kind.endswith(b"+json"))):
        shown = kind.decode("latin-1")
        raise HTTPException(
            status_code=415, detail=f"This API takes application/json (or multipart/form-data for files), not {shown}."
        )
