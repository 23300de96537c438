"""Idempotency-Key on creating POSTs: a repeated request gets the first response again.

The first response is stored in the same transaction as the write it describes, so a replay
exists exactly when the write does; two concurrent first attempts collide on the unique key and
one of them is rolled back.
"""

from __future__ import annotations

import hashlib
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import select

from schemas.tables import IdempotentRequest
from services.rules.actors import Principal
from services.rules.errors import InvalidInput

MAX_KEY = 200


def fingerprint(method: str, path: str, body: bytes) -> str:
    return hashlib.sha256(method.encode() + b" " + path.encode() + b"\n" + body).hexdigest()


def _owner(principal: Principal) -> str:
    return f"user:{principal.user_id}" if principal.user_id is not None else "admin-token"


async def previous(session: AsyncSession, principal: Principal, key: str, print_: str) -> IdempotentRequest | None:
    if not key or len(key) > MAX_KEY:
        raise InvalidInput(f"An Idempotency-Key has 1 to {MAX_KEY} characters.", field="Idempotency-Key")
    row = (
        await session.execute(
            select(IdempotentRequest).where(
                IdempotentRequest.principal == _owner(principal), IdempotentRequest.key == key
            )
        )
    ).scalar_one_or_none()
    if row is not None and row.fingerprint != print_:
        raise InvalidInput("This Idempotency-Key was already used for a different request.", field="Idempotency-Key")
    return row


async def remember(
    session: AsyncSession,
    principal: Principal,
    key: str,
    print_: str,
    status_code: int,
    body: dict[str, Any],
    now: datetime,
) -> None:
    session.add(
        IdempotentRequest(
            principal=_owner(principal),
            key=key,
            fingerprint=print_,
            status_code=status_code,
            response=body,
            created_at=now,
        )
    )
    await session.flush()
