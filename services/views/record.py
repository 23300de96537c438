"""The signed record of a closed ballot, and its offline check.

The record holds the ballot and its result, who could take part, the current votes and comments,
and the ballot's events with their places in the hash chain (sealed first: the one read model
that writes, so its faces run it in a write scope); it is signed with the service's
Ed25519 key over its canonical JSON. `verify_export` needs only the file and the public key: it
checks the signature, each event against its chain hash, the result against the one the vote
events give, and the votes and comment sets against their events.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

import msgspec
from sqlalchemy import func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas.enums import BallotStatus
from schemas.tables import Event
from services.platform import signing
from services.platform.events import key_of as events_key
from services.platform.settings import Settings
from services.rules import chain as hash_chain
from services.rules import content, draft_names
from services.rules.actors import Principal
from services.rules.errors import Conflict, Forbidden
from services.rules.visibility import readable_bodies
from services.usecases import ballots, comments, committees, ledger, projects
from services.views import presenters

FORMAT = "ballotdesk.ballot-record/1"
COMMENT_SET_TYPES = ("comments.submitted", "comments.replaced")


async def build(session: AsyncSession, principal: Principal, ballot_id: int, now: datetime) -> dict[str, Any]:
    """The record of a closed ballot, for those who may read all its votes and comments."""
    ballot = await ballots.get_ballot(session, ballot_id)
    if ballot.status != BallotStatus.CLOSED.value:
        raise Conflict(f"The record is exported once the ballot is closed; this one is {ballot.status}.")
    chain = await committees.chain(session, ballot.committee_id)
    snapshot = await ballots.eligibility(session, ballot_id)
    if readable_bodies(principal, ballot, chain, snapshot) is not None:
        raise Forbidden("Only the committee's officers and its members taking part may read this ballot's record.")
    # Seal what is pending, so the record carries the chain hashes of all its events.
    while await ledger.seal_batch(session, wait=True) == ledger.SEAL_BATCH:
        pass
    ballot = await ballots.get_ballot(session, ballot_id)
    # A record is signed only as the application wrote it: a row or event written around it
    # would otherwise be signed as genuine.
    findings = await ledger.ballot_findings(session, events_key(session), ballot)
    if findings:
        raise Conflict(
            f"Ballot {ballot_id}'s record does not verify, so it is not signed; `ballotdesk verify-log` names "
            f"what differs: {'; '.join(str(f) for f in findings[:5])}"
        )
    project = await projects.get_project(session, ballot.project_id)
    committee = await committees.get_committee(session, ballot.committee_id)
    events = [
        {**hash_chain.event_fields(e), "prev_hash": e.prev_hash, "hash": e.hash}
        for e in await ledger.ballot_events(session, ballot_id)
        if e.chain_seq is not None
    ]
    head = (
        await session.execute(
            select(Event.chain_seq, Event.hash).where(
                col(Event.chain_seq) == select(func.max(Event.chain_seq)).scalar_subquery()
            )
        )
    ).first()
    record = {
        "ballot": {
            "id": ballot.id,
            "document": draft_names.of_ballot(ballot, project),
            "project": project.reference,
            "committee": committee.reference,
            "type": ballot.type,
            "rulebook": ballot.rulebook,
            "question": ballot.question,
            "status": ballot.status,
            "opened_at": ballot.opened_at,
            "closes_at": ballot.closes_at,
            "closed_at": ballot.closed_at,
            "approved": ballot.approved,
            "result": ballot.result,
            "decision": ballot.decision,
        },
        "eligibility": [
            {
                "party": e.party,
                "kind": e.kind,
                "is_p_member": e.is_p_member,
                "may_vote": e.may_vote,
                "may_comment": e.may_comment,
            }
            for e in snapshot
        ],
        "votes": [presenters.vote_out(v) for v in await ballots.current_votes(session, ballot_id)],
        "comments": [presenters.comment_out(c) for c in await comments.list_comments(session, principal, ballot_id)],
        "events": events,
        "chain_head": {"chain_seq": head[0], "hash": head[1]} if head else None,
        "exported_at": now,
    }
    return msgspec.to_builtins(record)  # type: ignore[no-any-return]


def sign(record: Mapping[str, Any], settings: Settings) -> dict[str, Any]:
    key = signing.private_key(settings)
    return {
        "format": FORMAT,
        "record": dict(record),
        "signature": {
            "algorithm": signing.ALGORITHM,
            "key_id": signing.key_id(key),
            "value": signing.sign(key, hash_chain.canonical(record)),
        },
    }


def verify_export(document: Any, public_pem: bytes | str) -> list[str]:
    """Every reason not to trust the exported record (an empty list: it checks out)."""
    if not isinstance(document, Mapping) or document.get("format") != FORMAT:
        return [f"not a ballot record (expected format {FORMAT})"]
    record, signature = document.get("record"), document.get("signature")
    if not isinstance(record, Mapping) or not isinstance(signature, Mapping):
        return ["the record or its signature is missing"]
    public = signing.load_public(public_pem)
    problems: list[str] = []
    if signature.get("algorithm") != signing.ALGORITHM:
        problems.append(f"unknown signature algorithm {signature.get('algorithm')!r}")
    elif not signing.verify(public, hash_chain.canonical(record), str(signature.get("value", ""))):
        problems.append("the signature does not match: the record was changed or signed with another key")
    try:
        problems.extend(_check_content(record))
    except (KeyError, TypeError, ValueError) as exc:
        problems.append(f"the record is malformed: {exc!r}")
    return problems


def _check_content(record: Mapping[str, Any]) -> list[str]:
    problems: list[str] = []
    events = list(record["events"])
    previous_seq = 0
    for e in events:
        if hash_chain.link(str(e["prev_hash"]), hash_chain.event_fields(e)) != e["hash"]:
            problems.append(f"event {e['id']}: its content does not match its chain hash")
        if int(e["chain_seq"]) <= previous_seq:
            problems.append(f"event {e['id']}: out of chain order")
        previous_seq = int(e["chain_seq"])
    replay = hash_chain.replay_ballot(sorted(events, key=lambda e: int(e["id"])))
    problems.extend(replay.problems)
    result = record["ballot"]["result"]
    if replay.last_result is None:
        problems.append("the events hold no close of the ballot")
    elif hash_chain.canonical(replay.last_result) != hash_chain.canonical(result):
        problems.append("the ballot's result differs from the one its vote events give")
    problems.extend(str(f) for f in content.check_current_votes("the record", events, record["votes"]))
    exported = list(record["comments"])
    problems.extend(str(f) for f in content.check_comments("the record", events, exported, every_version=False))
    voted = {v["body"]: (v["position"], bool(v["reasons_given"])) for v in record["votes"]}
    from_events = {body: (position, reasons) for body, (_, position, reasons, _) in replay.votes.items()}
    if voted != from_events:
        problems.append("the votes differ from the vote events")
    # A compiled table imported from elsewhere names its bodies but not their references: those
    # bodies' sets are known only from the comment events that follow it.
    sets: dict[str, list[str] | None] = {}
    for e in sorted(events, key=lambda e: int(e["id"])):
        if e["type"] in COMMENT_SET_TYPES:
            sets[e["payload"]["body"]] = sorted(e["payload"]["references"])
        elif e["type"] == "comments.imported":
            sets.update(dict.fromkeys(e["payload"]["bodies"]))
    listed: dict[str, list[str]] = {}
    for c in record["comments"]:
        listed.setdefault(c["body"], []).append(c["reference"])
    for body in sorted(set(sets) | set(listed)):
        known = sets.get(body, [])
        if known is not None and sorted(listed.get(body, [])) != known:
            problems.append(f"the comments of {body} differ from its comment events")
    return problems
