"""Operations endpoints (/ready, /metrics) and the middleware that gives every request its id,
its latency observation and, on failure, a log line."""

from __future__ import annotations

import logging
import time
from typing import Any

from litestar import Request, Response, get
from litestar.datastructures import State
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from schemas.types import utcnow
from services.http.problems import problem
from services.platform import metrics, readiness, requestid
from services.platform.db import Database
from services.platform.settings import Settings

log = logging.getLogger("ballotdesk.http")
_HEADER = requestid.HEADER.encode()


@get("/ready", operation_id="Ready", include_in_schema=False)
async def ready(state: State) -> Response[Any]:
    settings: Settings = state.settings
    db: Database = state.db
    checks = await readiness.check(db, settings.broker_url)
    body = {c.name: ("ok" if c.ok else c.detail) for c in checks}
    failed = [c for c in checks if not c.ok]
    if failed:
        log.warning("not ready: %s", "; ".join(f"{c.name}: {c.detail}" for c in failed))
        detail = "Not reachable: " + ", ".join(c.name for c in failed) + "."
        return problem(503, "Service unavailable", detail, headers={"Retry-After": "5"}, checks=body)
    return Response({"status": "ready", "checks": body})


@get("/metrics", operation_id="Metrics", include_in_schema=False)
async def metrics_endpoint(request: Request[Any, Any, State]) -> Response[bytes]:
    db: Database = request.app.state.db
    figures: metrics.DatabaseFigures | None
    try:
        async with db.read() as session:
            figures = await metrics.read_database(session, utcnow())
    except Exception:
        # The process's own counters are still worth a scrape when the database is away.
        log.warning("metrics: database figures unavailable", exc_info=True)
        figures = None
    return Response(metrics.exposition(figures), media_type=metrics.CONTENT_TYPE)


def observe(app: ASGIApp) -> ASGIApp:
    """Request id (X-Request-ID in, or a new one; echoed back; in a contextvar for the logs and the
    events), latency by route template, and a log line for each server error."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":  # type: ignore[comparison-overlap]
            await app(scope, receive, send)
            return
        method: str = scope["method"]  # type: ignore[typeddict-item]
        given = next((v for k, v in scope["headers"] if k == _HEADER), None)
        rid = requestid.accept(given.decode("latin-1") if given else None)
        token = requestid.current.set(rid)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), (_HEADER, rid.encode())]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            elapsed = time.perf_counter() - started
            route = scope.get("path_template") or "unmatched"
            metrics.observe_request(method, route, status, elapsed)
            if status >= 500:
                log.error("%s %s answered %s in %.0f ms", method, route, status, elapsed * 1000)
            requestid.current.reset(token)

    return middleware
