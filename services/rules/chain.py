"""The hash chain of the event log and the replay of a ballot from its events. Pure: what is
hashed and how, what a chain must satisfy, and a ballot's result as its events alone tell it.
Sealing and verifying (`services.usecases.ledger`) read and write the rows around these."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from schemas.enums import BallotType, Position, RulebookName
from schemas.tables import Event
from services.rules import approval

GENESIS = "0" * 64
VOTE_TYPES = ("vote.cast", "vote.changed")


def instant(value: Any) -> str:
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat(timespec="microseconds")
    return str(value)


def event_fields(event: Event | Mapping[str, Any]) -> dict[str, Any]:
    """The hashed fields of an event: every column except the hashes themselves. The authenticator
    is hashed once there is one (events written before authenticators hash as they did)."""
    get = event.get if isinstance(event, Mapping) else lambda name: getattr(event, name)
    fields = {
        "id": get("id"),
        "chain_seq": get("chain_seq"),
        "occurred_at": instant(get("occurred_at")),
        "type": get("type"),
        "aggregate": get("aggregate"),
        "committee_id": get("committee_id"),
        "actor": get("actor"),
        "on_behalf_of": get("on_behalf_of"),
        "payload": get("payload"),
        "version": get("version"),
        "request_id": get("request_id"),
    }
    authenticator = get("authenticator")
    if authenticator is not None:
        fields["authenticator"] = authenticator
    return fields


def canonical(value: Any) -> bytes:
    """One byte string per value: sorted keys, no spaces, UTF-8 (the same on every database)."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()


def link(prev_hash: str, fields: Mapping[str, Any]) -> str:
    return hashlib.sha256(prev_hash.encode("ascii") + canonical(dict(fields))).hexdigest()


@dataclass
class Finding:
    what: str  # chain | authenticity | result | votes | comments | observations
    subject: str  # "event 17", "ballot 3"
    detail: str

    def __str__(self) -> str:
        return f"{self.what}: {self.subject}: {self.detail}"


@dataclass
class Report:
    events: int = 0
    sealed: int = 0
    unsealed: int = 0
    legacy: int = 0  # events written before authenticators existed
    ballots_checked: int = 0
    findings: list[Finding] = field(default_factory=list)

    @property
    def intact(self) -> bool:
        return not self.findings


def check_chain(events: Iterable[Mapping[str, Any]], *, start_seq: int = 1, start_prev: str = GENESIS) -> list[Finding]:
    """Check consecutive sealed events (ordered by chain_seq): positions, links and hashes."""
    findings: list[Finding] = []
    expected_seq, prev = start_seq, start_prev
    for e in events:
        subject = f"event {e['id']} (chain position {e['chain_seq']})"
        if e["chain_seq"] != expected_seq:
            findings.append(
                Finding("chain", subject, f"expected chain position {expected_seq}: an event is missing or moved")
            )
        if e["prev_hash"] != prev:
            findings.append(Finding("chain", subject, "its predecessor's hash does not match the previous event"))
        if link(str(e["prev_hash"]), event_fields(e)) != e["hash"]:
            findings.append(Finding("chain", subject, "its content does not match its hash (edited after sealing)"))
        expected_seq, prev = int(e["chain_seq"]) + 1, str(e["hash"])
    return findings


@dataclass
class Replay:
    """A ballot's result as its events tell it."""

    ballot_type: str | None = None
    rulebook: str | None = None
    p_members: list[str] = field(default_factory=list)
    voters: set[str] = field(default_factory=set)
    # body -> (vote id, position, reasons given, participate)
    votes: dict[str, tuple[int, str, bool, bool | None]] = field(default_factory=dict)
    closes: list[tuple[int, dict[str, Any]]] = field(default_factory=list)  # (event id, recorded result)
    last_result: dict[str, Any] | None = None
    problems: list[str] = field(default_factory=list)


def replay_ballot(events: Iterable[Mapping[str, Any]]) -> Replay:
    """Recompute a ballot's result(s) from its events, oldest first (`type` and `payload` used)."""
    r = Replay()
    for e in events:
        kind, p = e["type"], e["payload"]
        if kind == "ballot.created":
            r.ballot_type, r.rulebook = p["ballot_type"], p["rulebook"]
        elif kind == "ballot.opened":
            r.p_members, r.voters = list(p["p_members"]), set(p["voters"])
        elif kind in VOTE_TYPES:
            held = r.votes.get(p["body"])
            if held is None or int(p["vote_id"]) > held[0]:
                r.votes[p["body"]] = (int(p["vote_id"]), p["position"], bool(p["reasons"]), p.get("participate"))
        elif kind == "ballot.closed":
            computed = _tally(r)
            recorded = p.get("result")
            r.closes.append((int(e["id"]), recorded))
            if computed is None:
                r.problems.append(f"event {e['id']}: the ballot's creation or opening is missing from its events")
            elif canonical(computed) != canonical(recorded):
                r.problems.append(
                    f"event {e['id']}: the result recorded at close differs from the one its vote events give"
                    f" ({summary(recorded)} recorded, {summary(computed)} recomputed)"
                )
            r.last_result = computed
    return r


def _tally(r: Replay) -> dict[str, Any] | None:
    if r.ballot_type is None or r.rulebook is None:
        return None
    p_members = set(r.p_members)
    cast = [
        approval.CastVote(
            body=body, position=Position(position), is_p_member=body in p_members, reasons=reasons, participate=part
        )
        for body, (_, position, reasons, part) in sorted(r.votes.items())
        if body in r.voters
    ]
    result = approval.tally(
        BallotType(r.ballot_type), approval.rulebook(RulebookName(r.rulebook)), r.p_members, cast
    ).to_dict()
    stored: dict[str, Any] = json.loads(canonical(result))  # the shape it has once stored as JSON
    return stored


def summary(result: Mapping[str, Any] | None) -> str:
    if not isinstance(result, Mapping):
        return "no result"
    counts = result.get("counts") or {}
    outcome = "approved" if result.get("approved") else "not approved"
    return f"{outcome}, {counts.get('p_approve', '?')} P-approve / {counts.get('p_disapprove', '?')} P-disapprove"
