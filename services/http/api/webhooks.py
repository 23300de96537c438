"""Webhook subscriptions: register, list, read, delete, rotate the secret, see the attempts."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, delete, get, post
from litestar.datastructures import State
from litestar.params import Parameter
from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from services.platform.webhook_http import Policy
from services.rules.actors import Principal
from services.usecases import webhooks
from services.views import presenters

WebhookId = Annotated[int, Parameter(ge=1, le=2147483647)]


class WebhookController(Controller):
    path = "/api/v1/webhooks"
    tags = ["webhooks"]

    @post("/", operation_id="RegisterWebhook", summary="Register a webhook", status_code=201)
    async def register(
        self, session: AsyncSession, principal: Principal, now: datetime, state: State, data: api.WebhookIn
    ) -> api.WebhookCreated:
        """Events the caller may read, POSTed to `url` and signed per Standard Webhooks; the
        secret is shown in this answer only."""
        policy: Policy = state.webhook_policy
        hook, secret = await webhooks.register(session, principal, data, policy, now)
        return presenters.webhook_created(hook, secret)

    @get("/", operation_id="ListWebhooks", summary="List the webhooks (without secrets)")
    async def list_webhooks(self, session: AsyncSession, principal: Principal) -> list[api.WebhookOut]:
        return [presenters.webhook_out(h) for h in await webhooks.list_webhooks(session, principal)]

    @get("/{webhook_id:int}", operation_id="GetWebhook", summary="Read a webhook (without its secret)")
    async def read(self, session: AsyncSession, principal: Principal, webhook_id: WebhookId) -> api.WebhookOut:
        return presenters.webhook_out(await webhooks.get_webhook(session, principal, webhook_id))

    @delete("/{webhook_id:int}", operation_id="DeleteWebhook", summary="Delete a webhook", status_code=204)
    async def remove(self, session: AsyncSession, principal: Principal, now: datetime, webhook_id: WebhookId) -> None:
        await webhooks.delete(session, principal, webhook_id, now)

    @post(
        "/{webhook_id:int}/rotate-secret",
        operation_id="RotateWebhookSecret",
        summary="Give a webhook a new secret (shown once)",
        status_code=200,
    )
    async def rotate(
        self, session: AsyncSession, principal: Principal, now: datetime, webhook_id: WebhookId
    ) -> api.WebhookCreated:
        secret = await webhooks.rotate_secret(session, principal, webhook_id, now)
        return presenters.webhook_created(await webhooks.get_webhook(session, principal, webhook_id), secret)

    @get(
        "/{webhook_id:int}/deliveries",
        operation_id="ListWebhookDeliveries",
        summary="Every attempt to deliver, latest first",
    )
    async def deliveries(
        self,
        session: AsyncSession,
        principal: Principal,
        webhook_id: WebhookId,
        limit: Annotated[int, Parameter(ge=1, le=1000)] = 100,
    ) -> list[api.WebhookAttemptOut]:
        return [
            presenters.webhook_attempt_out(*row)
            for row in await webhooks.attempts(session, principal, webhook_id, limit)
        ]
