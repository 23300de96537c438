"""The pages' router: session cookie, CSRF guard, security headers, HTML errors, templates."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from litestar import Router
from litestar.contrib.jinja import JinjaTemplateEngine
from litestar.datastructures import CacheControlHeader
from litestar.di import Provide
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.types import ControllerRouterHandler

from services.http.pages import account, ballots, comments, committees, dashboard, history, signin
from services.http.pages.common import EXCEPTION_PAGES, SecurityHeaders
from services.http.pages.csrf import csrf_guard
from services.http.pages.session import provide_viewer, session_middleware
from services.http.pages.words import WORDS
from services.platform.settings import Settings

HERE = Path(__file__).parent


def _when(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d %H:%M} UTC" if value else ""


def _day(value: datetime | None) -> str:
    return f"{value:%Y-%m-%d}" if value else ""


def _local_input(value: datetime | None) -> str:
    return f"{value:%Y-%m-%dT%H:%M}" if value else ""


def template_config() -> TemplateConfig[Any]:
    # Autoescape everywhere: comment text comes from outside and is shown as text, never markup.
    env = Environment(
        loader=FileSystemLoader(HERE / "templates"), autoescape=True, undefined=StrictUndefined, trim_blocks=True
    )
    env.filters.update(when=_when, day=_day, local_input=_local_input)
    env.globals.update(words=WORDS)
    return TemplateConfig(instance=JinjaTemplateEngine.from_environment(env))


def web_handlers(settings: Settings) -> list[ControllerRouterHandler]:
    pages = Router(
        path="/",
        route_handlers=[
            signin.login_form,
            signin.login,
            signin.logout,
            dashboard.dashboard,
            *ballots.HANDLERS,
            *comments.HANDLERS,
            *committees.HANDLERS,
            *history.HANDLERS,
            *account.HANDLERS,
        ],
        dependencies={"viewer": Provide(provide_viewer)},
        guards=[csrf_guard],
        middleware=[SecurityHeaders, session_middleware(settings)],
        exception_handlers=EXCEPTION_PAGES,
        include_in_schema=False,
    )
    static = create_static_files_router(
        path="/static",
        directories=[HERE / "static"],
        include_in_schema=False,
        middleware=[SecurityHeaders],
        cache_control=CacheControlHeader(max_age=3600, public=True),
    )
    return [pages, static]
