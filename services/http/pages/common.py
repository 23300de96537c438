"""What every page shares: rendering, one transaction per use case, errors in words, headers."""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime
from typing import Any, TypeVar
from urllib.parse import quote

import msgspec
from litestar import Request, Response
from litestar.datastructures import State
from litestar.exceptions import HTTPException, NotFoundException
from litestar.response import Redirect, Template
from litestar.types import ASGIApp, Message, Receive, Scope, Send
from sqlalchemy.ext.asyncio import AsyncSession

from schemas.api import breaks_one_line
from services.http.pages import csrf
from services.http.problems import EXCEPTION_HANDLERS
from services.http.scopes import only_reads
from services.platform.conversion import Converted, Converter
from services.platform.db import Database
from services.rules.actors import Principal
from services.rules.errors import DomainError, InvalidInput, NotAuthenticated

T = TypeVar("T")
WebRequest = Request[Any, Any, State]

# No inline script or style anywhere: the pages work without JavaScript, and a comment that
# smuggles markup past the escaping still cannot run.
SECURITY_HEADERS = {
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
        "form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'"
    ),
    "x-content-type-options": "nosniff",
    "referrer-policy": "same-origin",
    "x-frame-options": "DENY",
}


class SecurityHeaders:
    """ASGI middleware for the pages' router: the headers above on every response, errors included."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                present = {k.lower() for k, _ in headers}
                for name, value in SECURITY_HEADERS.items():
                    if name.encode() not in present:
                        headers.append((name.encode(), value.encode()))
                if b"cache-control" not in present:
                    # Pages show people's votes; no shared cache may keep them.
                    headers.append((b"cache-control", b"no-store"))
                message["headers"] = headers
            await send(message)

        await self.app(scope, receive, send_with_headers)


def now(request: WebRequest) -> datetime:
    clock: Callable[[], datetime] = request.app.state.clock
    return clock()


async def as_docx(request: WebRequest, content: bytes) -> Converted:
    """An uploaded .doc or .odt converted to .docx (before any transaction: it takes seconds)."""
    converter: Converter = request.app.state.converter
    return await converter.as_docx(content)


def database(request: WebRequest) -> Database:
    db: Database = request.app.state.db
    return db


async def run(request: WebRequest, use_case: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """A page's reads in a read scope; a form's use case in one transaction, which an error
    rolls back whole."""
    db = database(request)
    async with db.read() if only_reads(request) else db.transaction() as session:
        return await use_case(session)


async def read(request: WebRequest, view: Callable[[AsyncSession], Awaitable[T]]) -> T:
    """A read model in a read scope, whatever the request's method (a form that failed is
    shown again with what the page reads)."""
    async with database(request).read() as session:
        return await view(session)


def flash(request: WebRequest, message: str) -> None:
    """A message for the next page, after the redirect that follows a successful form."""
    messages = list(request.session.get("flash", []))[-4:]
    messages.append(message)
    request.session["flash"] = messages


def page(request: WebRequest, name: str, viewer: Principal | None, status: int = 200, **context: Any) -> Template:
    messages = request.session.pop("flash", []) if request.scope.get("session") is not None else []
    return Template(
        template_name=name,
        context={
            "viewer": viewer,
            "csrf_field": csrf.FIELD,
            "csrf_value": csrf.token(request),
            "flashes": messages,
            "errors": context.pop("errors", {}),
            "now": now(request),
            **context,
        },
        status_code=status,
    )


CONFIRMED = "confirm"


def confirmed(form: Any) -> bool:
    """The field only a confirmation page sends: without it a form that cannot be undone does
    nothing but show that page (issue #13)."""
    return text(form, CONFIRMED) == "yes"


def confirmation_page(
    request: WebRequest,
    viewer: Principal,
    confirmation: Any,
    *,
    action: str,
    button: str,
    hidden: dict[str, str] | None = None,
    reason: dict[str, str] | None = None,
    deadline: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    status: int = 422,
) -> Template:
    """The step between a dangerous button and its use case; `reason` and `deadline` are the
    fields the record needs, shown (and checked) here."""
    return page(
        request,
        "confirm.html",
        viewer,
        status if errors else 200,
        c=confirmation,
        action=action,
        button=button,
        hidden=hidden or {},
        reason=reason,
        deadline=deadline,
        errors=errors or {},
    )


def redirect(path: str) -> Redirect:
    return Redirect(path=path, status_code=303)


def local_path(target: str | None, default: str = "/") -> str:
    """Only a path on this site, never another host (`//evil`, `https://…`), after sign-in."""
    if target and target.startswith("/") and not target.startswith("//") and "\\" not in target:
        return target
    return default


# --- turning a form into the API's request types, with errors a person understands ----------

_AT = re.compile(r"at `\$\.([A-Za-z_]+)")
_MISSING = re.compile(r"missing required field `([A-Za-z_]+)`")
_MAX_LEN = re.compile(r"length <= (\d+)")
_MIN_LEN = re.compile(r"length >= (\d+)")


class FormErrors(InvalidInput):
    """Messages keyed by form field, shown next to the fields concerned."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__("; ".join(errors.values()), errors=errors)
        self.errors = errors


def plain_words(message: str, hint: str = "") -> str:
    if m := _MAX_LEN.search(message):
        return f"Use at most {m.group(1)} characters."
    if m := _MIN_LEN.search(message):
        return "This field is required." if m.group(1) == "1" else f"Use at least {m.group(1)} characters."
    if "missing required field" in message:
        return "This field is required."
    if "Invalid enum value" in message:
        return hint or "Choose one of the options offered."
    if "datetime" in message or "RFC3339" in message:
        return "Enter a date and time."
    if "does not match" in message or "matching regex" in message:
        if breaks_one_line(message):
            return "Use one line of text, without line breaks or control characters."
        return hint or "This value is not in the expected form."
    if ">=" in message or "<=" in message:
        return hint or "This number is out of range."
    if "Expected `int`" in message:
        return "Enter a whole number."
    return hint or message


def convert(data: dict[str, Any], type_: type[T], hints: dict[str, str] | None = None, prefix: str = "") -> T:
    """The API's own request type checks the form: one set of limits for both faces."""
    try:
        return msgspec.convert(data, type_, strict=False)
    except msgspec.ValidationError as exc:
        message = str(exc)
        found = _AT.search(message) or _MISSING.search(message)
        field = found.group(1) if found else "form"
        raise FormErrors({prefix + field: plain_words(message, (hints or {}).get(field, ""))}) from exc


def field_errors(exc: DomainError, default_field: str = "form", prefix: str = "") -> dict[str, str]:
    """A use case's error placed next to the field it names (or at the top of the form). `prefix`
    names the form's fields where a page holds several forms (`extend_closes_at` for `closes_at`)."""
    if isinstance(exc, FormErrors):
        return exc.errors
    field = exc.extra.get("field")
    return {prefix + field if isinstance(field, str) and field else default_field: exc.detail}


def parse_utc(value: str, field: str, *, required: bool = True) -> datetime | None:
    """A `datetime-local` field, read as UTC (the pages say so next to the field)."""
    value = (value or "").strip()
    if not value:
        if required:
            raise FormErrors({field: "Enter a date and time (UTC)."})
        return None
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise FormErrors({field: "Enter a date and time like 2026-12-01 12:00 (UTC)."}) from None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def text(form: Any, name: str) -> str:
    value = form.get(name, "")
    return value if isinstance(value, str) else ""


# --- errors as pages --------------------------------------------------------------------------


def _error_page(request: WebRequest, status: int, title: str, detail: str) -> Response[Any]:
    viewer = request.state.get("viewer") if "viewer" in request.state else None
    return page(request, "error.html", viewer, status, title=title, detail=detail)


def on_not_authenticated(request: WebRequest, exc: NotAuthenticated) -> Response[Any]:
    # After sign-in, back to the page asked for; a form's POST cannot be replayed, so home instead.
    target = (
        request.url.path + (f"?{request.url.query}" if request.url.query else "") if request.method == "GET" else "/"
    )
    return redirect(f"/login?next={quote(target, safe='/')}")


def on_domain_error(request: WebRequest, exc: DomainError) -> Response[Any]:
    return _error_page(request, exc.status, exc.title, exc.detail)


def on_http_exception(request: WebRequest, exc: HTTPException) -> Response[Any]:
    if isinstance(exc, NotFoundException):
        return _error_page(request, 404, "Not found", "There is no such page.")
    return _error_page(request, exc.status_code, "Request refused", str(exc.detail))


def _from_problem(handler: Callable[..., Response[Any]]) -> Callable[[WebRequest, Exception], Response[Any]]:
    """The API's mapping of an exception to a status and words, shown as a page."""

    def render(request: WebRequest, exc: Exception) -> Response[Any]:
        problem = handler(request, exc)
        body = problem.content if isinstance(problem.content, dict) else {}
        return _error_page(
            request,
            problem.status_code or 500,
            str(body.get("title", "Error")),
            str(body.get("detail", "Something went wrong.")),
        )

    return render


EXCEPTION_PAGES: dict[Any, Any] = {
    **{key: _from_problem(handler) for key, handler in EXCEPTION_HANDLERS.items()},
    DomainError: on_domain_error,
    NotAuthenticated: on_not_authenticated,
    HTTPException: on_http_exception,
}
