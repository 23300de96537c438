"""CSRF: a random token kept in the (encrypted) session and echoed by every form.

A form's POST is accepted only when its `_csrf` field equals the token of the session it was
rendered in, so another site cannot make a signed-in browser submit one. The JSON API under
/api is not involved: it authenticates with bearer tokens, which a browser never adds by itself.
"""

from __future__ import annotations

import hmac
import secrets
from typing import Any

from litestar import Request
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler

from services.rules.errors import Forbidden

FIELD = "_csrf"
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class CsrfRefused(Forbidden):
    title = "Form refused"


def token(request: Request[Any, Any, Any]) -> str:
    """The session's token, created on first use (a visitor's first page, the sign-in form)."""
    value = request.session.get("csrf")
    if not isinstance(value, str) or len(value) < 32:
        value = secrets.token_urlsafe(32)
        request.session["csrf"] = value
    return value


async def csrf_guard(connection: ASGIConnection[Any, Any, Any, Any], _: BaseRouteHandler) -> None:
    if connection.scope.get("method", "GET") in SAFE_METHODS:
        return
    assert isinstance(connection, Request)
    expected = connection.session.get("csrf") if connection.scope.get("session") is not None else None
    sent: Any = None
    content_type, _params = connection.content_type
    if content_type in ("application/x-www-form-urlencoded", "multipart/form-data"):
        sent = (await connection.form()).get(FIELD)
    if not (isinstance(expected, str) and isinstance(sent, str) and hmac.compare_digest(expected, sent)):
        raise CsrfRefused(
            "This form has expired or did not come from Ballotdesk, so nothing was changed. "
            "Go back, reload the page and try again."
        )
