"""Webhooks on the wire: secrets at rest, signing (Standard Webhooks), and one guarded POST.

The `standardwebhooks` package signs: `webhook-signature: v1,<base64 HMAC-SHA256 of
"id.timestamp.body">`, so receivers verify with any Standard Webhooks library. A host name is
resolved before each POST and every address it gives is checked (services.rules.webhooks); the
POST then goes to the checked address, so a name that changes its answer between the check and
the connection (DNS rebinding) cannot point us inside our own network. Redirects are not followed.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import os
import secrets
import socket
import time
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit, urlunsplit

import httpx
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from standardwebhooks import Webhook as Signer

from services.platform.settings import Settings
from services.rules import webhooks as rules

MAX_RESPONSE_BYTES = 64 * 1024


@dataclass(frozen=True)
class Policy:
    https_only: bool
    allow_loopback: bool
    allow_private: bool
    connect_timeout: float = 5.0
    total_timeout: float = 15.0

    @classmethod
    def of(cls, settings: Settings) -> Policy:
        production = settings.environment == "production"
        # Embedded mode lets a newcomer point a webhook at a receiver on their own machine.
        return cls(
            https_only=production and not settings.webhook_allow_private,
            allow_loopback=not production,
            allow_private=settings.webhook_allow_private,
        )


@dataclass(frozen=True)
class Outcome:
    status_code: int | None
    error: str
    duration_ms: int

    @property
    def succeeded(self) -> bool:
        return self.status_code is not None and 200 <= self.status_code < 300


class Refused(Exception):
    """The URL may not be called (its form, or an address it resolves to)."""


def new_secret() -> str:
    return "whsec_" + base64.b64encode(secrets.token_bytes(24)).decode()


def _box(record_key: bytes) -> AESGCM:
    return AESGCM(hmac.new(record_key, b"ballotdesk webhook secrets", hashlib.sha256).digest())


def seal_secret(record_key: bytes, secret: str) -> str:
    """The secret encrypted for the database: someone who reads it cannot sign as us."""
    nonce = os.urandom(12)
    return base64.b64encode(nonce + _box(record_key).encrypt(nonce, secret.encode(), b"webhook")).decode()


def open_secret(record_key: bytes, sealed: str) -> str:
    raw = base64.b64decode(sealed)
    return _box(record_key).decrypt(raw[:12], raw[12:], b"webhook").decode()


def sign(secret: str, message_id: str, at: datetime, body: bytes) -> str:
    return Signer(secret).sign(message_id, at, body.decode())


async def checked_addresses(url: str, policy: Policy) -> list[str]:
    """The addresses `url`'s host resolves to, all allowed; `Refused` otherwise."""
    problem = rules.url_problem(url, https_only=policy.https_only)
    if problem:
        raise Refused(problem)
    parts = urlsplit(url)
    host = parts.hostname or ""
    port = parts.port or (443 if parts.scheme == "https" else 80)
    try:
        found = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise Refused(f"The host {host} could not be resolved ({exc.strerror or exc}).") from None
    addresses = sorted({str(info[4][0]) for info in found})
    for address in addresses:
        problem = rules.address_problem(
            address, allow_loopback=policy.allow_loopback, allow_private=policy.allow_private
        )
        if problem:
            raise Refused(f"The host {host} resolves to {problem}")
    if not addresses:
        raise Refused(f"The host {host} has no address.")
    return addresses


async def post(url: str, body: bytes, headers: dict[str, str], policy: Policy) -> Outcome:
    """One POST with the policy's checks, timeouts and response cap; never raises."""
    started = time.monotonic()

    def done(status: int | None, error: str = "") -> Outcome:
        return Outcome(status, error[:500], int((time.monotonic() - started) * 1000))

    try:
        address = (await checked_addresses(url, policy))[0]
    except Refused as exc:
        return done(None, str(exc))
    parts = urlsplit(url)
    literal = f"[{address}]" if ":" in address else address
    netloc = f"{literal}:{parts.port}" if parts.port else literal
    target = urlunsplit((parts.scheme, netloc, parts.path or "/", parts.query, ""))
    sent = {**headers, "host": parts.netloc.rsplit("@", 1)[-1], "content-type": "application/json"}
    extensions = {"sni_hostname": parts.hostname} if parts.scheme == "https" else {}
    timeout = httpx.Timeout(policy.total_timeout, connect=policy.connect_timeout)
    try:
        async with httpx.AsyncClient(timeout=timeout, follow_redirects=False, trust_env=False) as client:
            request = client.build_request("POST", target, content=body, headers=sent, extensions=extensions)

            async def exchange() -> int:
                response = await client.send(request, stream=True)
                try:
                    received = 0
                    async for chunk in response.aiter_raw():
                        received += len(chunk)
                        if received > MAX_RESPONSE_BYTES:
                            break
                finally:
                    await response.aclose()
                return response.status_code

            status = await asyncio.wait_for(exchange(), policy.total_timeout)
    except TimeoutError:
        return done(None, f"no answer within {policy.total_timeout:g} s")
    except httpx.HTTPError as exc:
        return done(None, f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__)
    if 300 <= status < 400:
        return done(status, "redirects are not followed")
    return done(status, "" if 200 <= status < 300 else f"answered {status}")
