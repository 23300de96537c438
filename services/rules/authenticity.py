"""Event authenticators: an HMAC the application puts on every event it writes, with a key that
is not in the database. Pure.

The hash chain proves the log was not edited after sealing, but anyone who can insert a row can
insert an event the sealer will chain. The authenticator closes that gap: without the key an
inserted event carries none that checks, and a copied one is refused (its nonce is unique).

It covers what the application knows before the insert: every column but the ids the database
assigns (the event's own, and in a vote event the vote's, which the one-statement vote write on
PostgreSQL adds in the statement) and the chain columns the sealer fills later. A vote event is
still bound to its vote row: the row's content digest is in the payload, and a second event
for the same vote is a finding of `verify-log`.

    authenticator = "v1." key id "." nonce "." hex HMAC-SHA256(key, canonical fields + nonce)
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Mapping
from typing import Any

from services.rules.chain import VOTE_TYPES, canonical, instant

VERSION = "v1"
# The columns the authenticator leaves out: set by the database or by the sealer after the insert.
UNCOVERED = ("id", "chain_seq", "prev_hash", "hash", "authenticator")
DATABASE_ASSIGNED_IN_PAYLOAD = "vote_id"


def key_id(key: bytes) -> str:
    """Names the key in each authenticator, so a check against another key says so."""
    return hashlib.sha256(b"ballotdesk record key id" + key).hexdigest()[:8]


def covered(event: Mapping[str, Any]) -> dict[str, Any]:
    """The fields an authenticator covers, from an event row's values (as inserted or as read)."""
    fields = {name: value for name, value in event.items() if name not in UNCOVERED}
    fields["occurred_at"] = instant(fields.get("occurred_at"))
    payload = fields.get("payload")
    if event.get("type") in VOTE_TYPES and isinstance(payload, Mapping):
        fields["payload"] = {k: v for k, v in payload.items() if k != DATABASE_ASSIGNED_IN_PAYLOAD}
    return fields


def _mac(key: bytes, fields: Mapping[str, Any], nonce: str) -> str:
    return hmac.new(key, canonical({"fields": dict(fields), "nonce": nonce}), hashlib.sha256).hexdigest()


def authenticate(key: bytes, event: Mapping[str, Any]) -> str:
    nonce = secrets.token_hex(8)
    return f"{VERSION}.{key_id(key)}.{nonce}.{_mac(key, covered(event), nonce)}"


def problem(key: bytes, event: Mapping[str, Any]) -> str | None:
    """Why the event's authenticator does not check (None: it does)."""
    given = event.get("authenticator")
    if not given:
        return "it has no authenticator: it was not written by the application"
    parts = str(given).split(".")
    if len(parts) != 4 or parts[0] != VERSION:
        return "its authenticator is malformed"
    _, kid, nonce, mac = parts
    if kid != key_id(key):
        return f"its authenticator was made with another key ({kid}, this service's is {key_id(key)})"
    if not hmac.compare_digest(mac, _mac(key, covered(event), nonce)):
        return "its authenticator does not match its content: written or changed outside the application"
    return None
