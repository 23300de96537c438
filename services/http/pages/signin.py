"""Signing in with e-mail and password, and signing out."""

from __future__ import annotations

from litestar import get, post
from litestar.response import Redirect, Template

from services.http.pages import session as web_session
from services.http.pages.common import WebRequest, local_path, page, redirect, text
from services.rules.errors import NotAuthenticated, TooManyAttempts


@get("/login", name="login")
async def login_form(request: WebRequest, next: str = "/") -> Template | Redirect:
    if await web_session.current_principal(request) is not None:
        return redirect(local_path(next))
    return page(request, "login.html", None, next=local_path(next), email="")


@post("/login")
async def login(request: WebRequest) -> Template | Redirect:
    form = await request.form()
    email, password = text(form, "email").strip().lower(), text(form, "password")
    target = local_path(text(form, "next"))
    errors: dict[str, str] = {}
    if not email:
        errors["email"] = "Enter your e-mail address."
    if not password:
        errors["password"] = "Enter your password."
    status = 422
    if not errors:
        try:
            await web_session.sign_in(request, email, password)
            return redirect(target)
        except TooManyAttempts as exc:
            errors["form"], status = exc.detail, exc.status
            response = page(request, "login.html", None, status, errors=errors, next=target, email=email)
            response.headers["Retry-After"] = str(exc.retry_after)
            return response
        except NotAuthenticated as exc:
            errors["form"] = exc.detail
    return page(request, "login.html", None, status, errors=errors, next=target, email=email)


@post("/logout")
async def logout(request: WebRequest) -> Redirect:
    await web_session.sign_out(request)
    return redirect("/login")
