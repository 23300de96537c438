"""The signed record of a closed ballot, and the public key that checks it."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import msgspec
from litestar import get
from litestar.datastructures import State
from sqlalchemy.ext.asyncio import AsyncSession

from services.platform import signing
from services.rules.actors import Principal
from services.views import record


class SigningKeyOut(msgspec.Struct):
    algorithm: str
    key_id: str
    public_key: str  # PEM (SubjectPublicKeyInfo)


@get("/api/v1/ballots/{ballot_id:int}/record", operation_id="GetBallotRecord", tags=["ballots"], opt={"writes": True})
async def ballot_record(
    session: AsyncSession, principal: Principal, now: datetime, state: State, ballot_id: int
) -> dict[str, Any]:
    """The closed ballot's votes, comments, result and events with their chain hashes, signed
    (Ed25519) so that it can be checked offline with `ballotdesk verify-export`."""
    return record.sign(await record.build(session, principal, ballot_id, now), state.settings)


@get("/api/v1/signing-key", operation_id="GetSigningKey", tags=["ballots"], security=[])
async def signing_key(state: State) -> SigningKeyOut:
    """The public key of the signatures on ballot records."""
    key = signing.private_key(state.settings)
    return SigningKeyOut(algorithm=signing.ALGORITHM, key_id=signing.key_id(key), public_key=signing.public_pem(key))
