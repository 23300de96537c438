"""Signing in with e-mail and password, and signing out."""

from __future__ import annotations

from litestar import get, post
from litestar.response import Redirect, Template

from services.http.pages import session as web_session
from services.http.pages.common import WebRequest, database, local_path, page, redirect, text

THROTTLE = web_session.Throttle()


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
    if not errors and THROTTLE.blocked(email):
        errors["form"] = "Too many wrong passwords for this address. Wait fifteen minutes and try again."
    if not errors:
        user = await web_session.check_password(database(request), email, password)
        if user is not None:
            THROTTLE.succeeded(email)
            web_session.sign_in(request, user)
            return redirect(target)
        THROTTLE.failed(email)
        errors["form"] = "The e-mail address or the password is not right."
    return page(request, "login.html", None, 422, errors=errors, next=target, email=email)


@post("/logout")
async def logout(request: WebRequest) -> Redirect:
    web_session.sign_out(request)
    return redirect("/login")
