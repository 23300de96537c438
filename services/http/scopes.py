"""Which database scope a request runs in, for the API and the pages alike."""

from __future__ import annotations

from typing import Any

from litestar import Request


def only_reads(request: Request[Any, Any, Any]) -> bool:
    """GET and HEAD read, unless their route says it writes (`opt={"writes": True}`: a download
    that queues the document's build)."""
    return request.method in ("GET", "HEAD") and not request.route_handler.opt.get("writes", False)
