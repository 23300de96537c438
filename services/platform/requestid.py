"""The request id of the work in hand: set by the HTTP middleware, by a worker from its message."""

from __future__ import annotations

import re
import uuid
from contextvars import ContextVar

HEADER = "x-request-id"
# What a caller may send us: short and printable, so it is safe in logs and in the event row.
_ACCEPTABLE = re.compile(r"^[A-Za-z0-9._:/@+=-]{1,64}$")

current: ContextVar[str | None] = ContextVar("ballotdesk_request_id", default=None)


def new() -> str:
    return uuid.uuid4().hex


def accept(candidate: str | None) -> str:
    """The caller's id when it is reasonable, a fresh one otherwise."""
    if candidate and _ACCEPTABLE.match(candidate):
        return candidate
    return new()
