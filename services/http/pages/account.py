"""A person's own account: their password and their API tokens."""

from __future__ import annotations

from litestar import get, post
from litestar.response import Redirect, Template

from services.http.pages import session as web_session
from services.http.pages.common import WebRequest, field_errors, flash, now, page, redirect, run, text
from services.platform.settings import Settings
from services.rules.actors import Principal
from services.rules.errors import DomainError, TooManyAttempts
from services.usecases import sign_in, users


def _settings(request: WebRequest) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _me(viewer: Principal) -> int:
    assert viewer.user_id is not None  # a page session is always a person's
    return viewer.user_id


@get("/account/password", name="account_password")
async def password_form(request: WebRequest, viewer: Principal) -> Template:
    return page(request, "account_password.html", viewer)


@post("/account/password")
async def change_password(request: WebRequest, viewer: Principal) -> Template | Redirect:
    form = await request.form()
    current, new, again = text(form, "current_password"), text(form, "password"), text(form, "password_again")
    if new != again:
        errors = {"password_again": "The two new passwords are not the same."}
        return page(request, "account_password.html", viewer, 422, errors=errors)
    sid = web_session.session_id(request) or ""
    try:
        await sign_in.change_password(
            web_session.database(request), viewer, sid, current, new, web_session.client_address(request), now(request)
        )
    except TooManyAttempts as exc:
        response = page(request, "account_password.html", viewer, exc.status, errors=field_errors(exc))
        response.headers["Retry-After"] = str(exc.retry_after)
        return response
    except DomainError as exc:
        return page(request, "account_password.html", viewer, 422, errors=field_errors(exc))
    flash(request, "Your password has been changed; your other sessions have ended.")
    return redirect("/")


async def _tokens_page(request: WebRequest, viewer: Principal, status: int = 200, **context: object) -> Template:
    tokens = await run(request, lambda s: users.tokens_of(s, viewer, _me(viewer)))
    moment = now(request)
    settings = _settings(request)
    context.setdefault("label", "")
    context.setdefault("days", str(settings.token_days))
    return page(
        request,
        "account_tokens.html",
        viewer,
        status,
        tokens=tokens,
        live=any(t.revoked_at is None and t.expires_at > moment for t in tokens),
        max_days=settings.token_max_days,
        created=context.pop("created", None),
        created_label=context.pop("created_label", ""),
        **context,
    )


@get("/account/tokens", name="account_tokens")
async def tokens(request: WebRequest, viewer: Principal) -> Template:
    return await _tokens_page(request, viewer)


@post("/account/tokens")
async def create_token(request: WebRequest, viewer: Principal) -> Template:
    form = await request.form()
    label, days_text = text(form, "label").strip(), text(form, "days").strip()
    settings = _settings(request)
    try:
        days = int(days_text) if days_text else settings.token_days
    except ValueError:
        return await _tokens_page(
            request, viewer, 422, errors={"days": "Enter a whole number of days."}, label=label, days=days_text
        )
    try:
        token, plain = await run(
            request,
            lambda s: users.issue_token(
                s, viewer, _me(viewer), label, now(request), days=days, max_days=settings.token_max_days
            ),
        )
    except DomainError as exc:
        return await _tokens_page(request, viewer, 422, errors=field_errors(exc), label=label, days=days_text)
    # Shown on this response only, never kept in the session cookie for a later page.
    return await _tokens_page(request, viewer, 201, created=plain, created_label=token.label or "(no label)")


@get("/account/tokens/{token_id:int}/revoke")
async def confirm_revoke(request: WebRequest, viewer: Principal, token_id: int) -> Template:
    found = [t for t in await run(request, lambda s: users.tokens_of(s, viewer, _me(viewer))) if t.id == token_id]
    name = (found[0].label or f"token {token_id}") if found else f"token {token_id}"
    return page(
        request,
        "confirm_action.html",
        viewer,
        title=f"Revoke “{name}”?",
        detail="A program using this token can no longer act as you. This cannot be undone.",
        action=f"/account/tokens/{token_id}/revoke",
        button="Revoke token",
        back="/account/tokens",
    )


@post("/account/tokens/{token_id:int}/revoke")
async def revoke_token(request: WebRequest, viewer: Principal, token_id: int) -> Redirect:
    await run(request, lambda s: users.revoke_token(s, viewer, token_id, now(request)))
    flash(request, "The token has been revoked.")
    return redirect("/account/tokens")


@get("/account/tokens/revoke")
async def confirm_revoke_all(request: WebRequest, viewer: Principal) -> Template:
    return page(
        request,
        "confirm_action.html",
        viewer,
        title="Revoke all your tokens?",
        detail="Every program using one of your tokens can no longer act as you. This cannot be undone.",
        action="/account/tokens/revoke",
        button="Revoke all tokens",
        back="/account/tokens",
    )


@post("/account/tokens/revoke")
async def revoke_all(request: WebRequest, viewer: Principal) -> Redirect:
    count = await run(request, lambda s: users.revoke_tokens(s, viewer, _me(viewer), now(request)))
    flash(request, f"{count} token{'s' if count != 1 else ''} revoked.")
    return redirect("/account/tokens")


HANDLERS = [
    password_form,
    change_password,
    tokens,
    create_token,
    confirm_revoke,
    revoke_token,
    confirm_revoke_all,
    revoke_all,
]
