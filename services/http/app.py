"""The litestar application: routes, dependencies, error handling, OpenAPI."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from litestar import Litestar, get
from litestar.datastructures import State
from litestar.di import Provide
from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import Components, SecurityScheme

from schemas.types import utcnow
from services.http.api.ballots import BallotController
from services.http.api.deps import (
    provide_converter,
    provide_idempotency,
    provide_now,
    provide_principal,
    provide_session,
)
from services.http.api.directory import DirectoryController
from services.http.api.documents import DocumentController
from services.http.api.events import EventController
from services.http.api.openapi_doc import CompletedJsonRenderPlugin, swagger_asset, swagger_plugin
from services.http.api.ops import metrics_endpoint, observe, ready
from services.http.api.projects import ProjectController
from services.http.api.record import ballot_record, signing_key
from services.http.api.users import UserController
from services.http.api.webhooks import WebhookController
from services.http.pages.router import template_config, web_handlers
from services.http.problems import EXCEPTION_HANDLERS
from services.http.scopes import api_bodies_are_json
from services.platform.conversion import Converter
from services.platform.db import Database
from services.platform.settings import Settings
from services.platform.webhook_http import Policy


@get("/health", operation_id="Health", include_in_schema=False)
async def health() -> dict[str, str]:
    return {"status": "ok"}


def create_app(
    settings: Settings | None = None,
    *,
    db: Database | None = None,
    clock: Callable[[], datetime] = utcnow,
    lifespan: list[Callable[[Litestar], Any]] | None = None,
) -> Litestar:
    settings = settings or Settings.from_env()
    database = db or Database.of(settings)

    @asynccontextmanager
    async def dispose_engine(_: Litestar) -> AsyncIterator[None]:
        try:
            yield
        finally:
            await database.dispose()

    return Litestar(
        route_handlers=[
            health,
            swagger_asset,
            ready,
            metrics_endpoint,
            DirectoryController,
            ProjectController,
            BallotController,
            DocumentController,
            UserController,
            EventController,
            WebhookController,
            ballot_record,
            signing_key,
            *web_handlers(settings),
        ],
        dependencies={
            "session": Provide(provide_session),
            "now": Provide(provide_now, sync_to_thread=False),
            "principal": Provide(provide_principal),
            "idem": Provide(provide_idempotency),
            "converter": Provide(provide_converter, sync_to_thread=False),
        },
        exception_handlers=EXCEPTION_HANDLERS,
        guards=[api_bodies_are_json],
        template_config=template_config(),
        middleware=[observe],
        state=State(
            {
                "settings": settings,
                "db": database,
                "clock": clock,
                "converter": Converter.of(settings),
                "webhook_policy": Policy.of(settings),
            }
        ),
        request_max_body_size=settings.max_request_bytes,
        openapi_config=OpenAPIConfig(
            title="Ballotdesk",
            version="1",
            path="/schema",
            render_plugins=[CompletedJsonRenderPlugin(path="/openapi.json"), swagger_plugin()],
            components=Components(
                security_schemes={"bearer": SecurityScheme(type="http", scheme="bearer", description="API token")}
            ),
            security=[{"bearer": []}],
        ),
        lifespan=[dispose_engine, *(lifespan or [])],
    )
