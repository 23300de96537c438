"""The HTTP connections of `serve` and `api`: uvicorn's httptools protocol with the limits it lacks.

uvicorn waits for a request's headers and body for ever (its only timer is the idle keep-alive
one), takes any number of header lines of any size with httptools, and accepts connections until
the process runs out of file descriptors: 20,000 half-sent requests once stalled the service.
Its `limit_concurrency` does not help there, since it is looked at only once a request's headers
are complete. Here:

* a request must arrive whole (line, headers and body) within `client_timeout_seconds` of its
  first byte, or of the connection's opening; otherwise the connection is closed (with a 408 when
  no answer has begun);
* more than `max_header_bytes` of request line and headers, or more than `max_headers` header
  lines, is answered 431 and the connection closed;
* a connection beyond `max_connections` open in this process is closed as soon as it is accepted.
"""

from __future__ import annotations

import asyncio
import functools
import http
import logging
from dataclasses import dataclass
from typing import Any, cast

from uvicorn.config import Config
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.server import ServerState

from services.platform.settings import Settings

log = logging.getLogger("ballotdesk.connections")


@dataclass(frozen=True)
class Limits:
    client_timeout_seconds: float
    max_header_bytes: int
    max_headers: int
    max_connections: int

    @classmethod
    def of(cls, settings: Settings) -> Limits:
        return cls(
            client_timeout_seconds=settings.client_timeout_seconds,
            max_header_bytes=settings.max_header_bytes,
            max_headers=settings.max_headers,
            max_connections=settings.max_connections,
        )


class _HeadersTooLarge(Exception):
    """Raised inside a parser callback to stop parsing; httptools wraps it in a callback error."""


def _answer(status: http.HTTPStatus, text: str) -> bytes:
    body = text.encode("ascii")
    return (
        f"HTTP/1.1 {status.value} {status.phrase}\r\n"
        "content-type: text/plain; charset=utf-8\r\n"
        f"content-length: {len(body)}\r\n"
        "connection: close\r\n\r\n"
    ).encode("ascii") + body


class GuardedHttpProtocol(HttpToolsProtocol):
    def __init__(
        self,
        config: Config,
        server_state: ServerState,
        app_state: dict[str, Any],
        _loop: asyncio.AbstractEventLoop | None = None,
        *,
        limits: Limits,
    ) -> None:
        super().__init__(config, server_state, app_state, _loop)
        self.limits = limits
        self._deadline: asyncio.TimerHandle | None = None
        self._header_bytes = 0
        self._header_count = 0
        self._too_large = False

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        if len(self.connections) > self.limits.max_connections:
            log.warning("connection refused: %s connections open already", self.limits.max_connections)
            transport.abort()
            return
        self._arm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def data_received(self, data: bytes) -> None:
        try:
            super().data_received(data)
        finally:
            if self._too_large and not self.transport.is_closing():
                self._refuse(http.HTTPStatus.REQUEST_HEADER_FIELDS_TOO_LARGE, "Request headers too large.")

    def send_400_response(self, msg: str) -> None:
        if self._too_large:
            return  # the refusal above answers 431 instead
        super().send_400_response(msg)

    # Parser callbacks

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        self._header_count = 0
        if self._deadline is None:
            self._arm()

    def on_url(self, url: bytes) -> None:
        self._count(len(url), lines=0)
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._count(len(name) + len(value) + 4, lines=1)
        super().on_header(name, value)

    def on_message_complete(self) -> None:
        self._disarm()
        super().on_message_complete()

    # The limits

    def _count(self, size: int, lines: int) -> None:
        self._header_bytes += size
        self._header_count += lines
        if self._header_bytes > self.limits.max_header_bytes or self._header_count > self.limits.max_headers:
            self._too_large = True
            raise _HeadersTooLarge

    def _arm(self) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(self.limits.client_timeout_seconds, self._too_slow)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _too_slow(self) -> None:
        self._deadline = None
        if self.transport.is_closing():
            return
        log.info("client cut off: request not received within %s s", self.limits.client_timeout_seconds)
        answering = self.cycle is not None and self.cycle.response_started and not self.cycle.response_complete
        if answering:
            self.transport.close()
        else:
            self._refuse(http.HTTPStatus.REQUEST_TIMEOUT, "Request not received in time.")

    def _refuse(self, status: http.HTTPStatus, text: str) -> None:
        if self.cycle is not None and not self.cycle.response_complete:
            # The app may be waiting for the rest of the body: it is told the client went away.
            self.cycle.disconnected = True
            self.cycle.message_event.set()
        self.transport.write(_answer(status, text))
        self.transport.close()


def protocol(settings: Settings) -> type[asyncio.Protocol]:
    """What to give uvicorn's `http=`: a partial (picklable, for uvicorn's worker processes) that
    uvicorn calls like a protocol class with its own keywords."""
    return cast("type[asyncio.Protocol]", functools.partial(GuardedHttpProtocol, limits=Limits.of(settings)))


def uvicorn_options(settings: Settings) -> dict[str, Any]:
    """The options both `serve` and `api` give uvicorn for their connections."""
    return {"http": protocol(settings)}
