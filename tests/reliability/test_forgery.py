"""Forged and edited rows are found (issue 12, item 1), on SQLite and PostgreSQL.

Each test is the attack as someone with database access only would make it, around the
application: a vote row with a matching `vote.cast` event inserted before the close, a vote's
reasons or a comment's text or an observation edited on a closed ballot, an event copied, a
vote row without an event, TRUNCATE. Before authenticators and content digests, `verify-log`
said "The record is intact" after each and the signed record was issued with the forged data.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any

import pytest
from sqlalchemy import insert, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError

from schemas.tables import Event, Vote
from services.cli.main import main as cli_main
from services.platform.db import Database
from services.rules import chain
from services.usecases import ledger
from services.views import record
from tests.reliability.conftest import Figures
from tests.reliability.test_tamper import Tamper, closed_ballot, settings, verify_log
from tests.world import World, ok

__all__ = ["settings"]  # the fixture, shared with the tamper tests

EVENT = Event.__table__  # type: ignore[attr-defined]
VOTE = Vote.__table__  # type: ignore[attr-defined]


async def forge_vote(db: Database, ballot_id: int, committee_id: int, body: str, position: str) -> int:
    """A vote row and its vote.cast event, inserted as the application would write them, but
    without its key."""
    now = await _now(db)
    async with db.engine().begin() as conn:
        vote_id = (
            await conn.execute(
                insert(VOTE).returning(VOTE.c.id),
                {
                    "ballot_id": ballot_id,
                    "body": body,
                    "position": position,
                    "reasons": "",
                    "participate": None,
                    "experts": None,
                    "actor": "Forger <f@example.org>",
                    "on_behalf_of": body,
                    "cast_at": now,
                },
            )
        ).scalar_one()
        payload = {"ballot_id": ballot_id, "vote_id": vote_id, "body": body, "position": position}
        await conn.execute(
            insert(EVENT),
            {
                "occurred_at": now,
                "type": "vote.cast",
                "aggregate": f"ballot:{ballot_id}",
                "committee_id": committee_id,
                "actor": "Forger <f@example.org>",
                "on_behalf_of": body,
                "payload": {**payload, "reasons": False, "participate": None, "experts": 0, "digest": ""},
                "version": 2,
                "request_id": None,
            },
        )
    return int(vote_id)


async def _now(db: Database) -> Any:
    async with db.read() as session:
        return (await session.execute(select(EVENT.c.occurred_at).order_by(EVENT.c.id.desc()).limit(1))).scalar_one()


def kinds(report: chain.Report) -> set[str]:
    return {f.what for f in report.findings}


async def test_a_vote_inserted_before_the_close_is_found_and_not_counted(
    db: Any,
    client: Any,
    clock: Any,
    settings: Any,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    figures: Figures,
) -> None:
    w = await World(client, clock).build(p=["DE", "FR", "JP"])
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve", 201)
    await w.vote(ballot_id, "JP", "disapprove", 201, reasons="Clause 4 is wrong.")
    ballot = await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=w.headers["secretary"]))
    await forge_vote(db, ballot_id, ballot["committee_id"], "FR", "approve")
    await ledger.seal(db)
    report = await ledger.verify(db)
    # The chain alone would not have told: the forged event is sealed into it like the rest.
    assert not [f for f in report.findings if f.what == "chain"]
    forged = [f for f in report.findings if f.what == "authenticity"]
    assert len(forged) == 1 and "vote.cast" in forged[0].subject, report.findings
    assert "not written by the application" in forged[0].detail
    code, out = await asyncio.to_thread(verify_log, monkeypatch, database_url, capsys)
    assert code == 1 and "TAMPERED authenticity: event" in out, out
    # The close does not count it: it refuses, and the ballot stays open for the administrator.
    refused = await client.post(f"/api/v1/ballots/{ballot_id}/close", headers=w.headers["secretary"])
    assert refused.status_code == 409, refused.text
    assert "do not match the record" in refused.json()["detail"]
    ballot = await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=w.headers["secretary"]))
    assert ballot["status"] == "open"
    figures.add(f"forged vote row + event ({db.dialect})", cases=1, refusals=1, detected=len(forged), counted=0)


async def test_a_vote_with_a_made_up_or_copied_authenticator_is_found_or_refused(
    db: Any, client: Any, clock: Any
) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve", 201)
    async with db.read() as session:
        genuine = dict((await session.execute(select(EVENT).where(EVENT.c.type == "vote.cast"))).mappings().one())
    copy = {k: v for k, v in genuine.items() if k not in ("id", "chain_seq", "prev_hash", "hash")}
    # Copied whole (a replay of DE's vote): the database refuses a second event with its authenticator.
    with pytest.raises(IntegrityError):
        async with db.engine().begin() as conn:
            await conn.execute(insert(EVENT), copy)
    # With a made-up one in the right shape: found.
    parts = str(genuine["authenticator"]).split(".")
    made_up = ".".join([*parts[:2], "00" * 8, "ab" * 32])
    async with db.engine().begin() as conn:
        await conn.execute(insert(EVENT), {**copy, "authenticator": made_up, "on_behalf_of": "FR"})
    report = await ledger.verify(db)
    assert [f.detail for f in report.findings if f.what == "authenticity"] == [
        "its authenticator does not match its content: written or changed outside the application"
    ]


async def test_a_vote_row_without_an_event_and_an_event_without_its_row_are_found(
    db: Any, client: Any, clock: Any
) -> None:
    w = await World(client, clock).build(p=["DE", "FR", "JP"])
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve", 201)
    await w.vote(ballot_id, "JP", "approve", 201)
    async with db.engine().begin() as conn:
        await conn.execute(
            insert(VOTE),
            {
                "ballot_id": ballot_id,
                "body": "FR",
                "position": "approve",
                "reasons": "",
                "actor": "x",
                "on_behalf_of": "FR",
                "cast_at": await _now(db),
            },
        )
    await Tamper(db).run(f"DELETE FROM vote WHERE ballot_id = {ballot_id} AND body = 'JP'")
    details = [f.detail for f in (await ledger.verify(db)).findings if f.what == "votes"]
    assert any("of FR has no event: it was written outside the application" in d for d in details), details
    assert any(d.startswith("vote ") and d.endswith("is missing") for d in details), details


@pytest.mark.parametrize(
    "edit, kind, named",
    [
        ("UPDATE vote SET reasons = 'We changed our mind.' WHERE body = 'FR'", "votes", "of FR differs from event"),
        ("UPDATE comment SET comment = 'Forged text.' WHERE body = 'SE' AND seq = 1", "comments", "comments of SE"),
        ("UPDATE comment SET proposed_change = 'x' WHERE body = 'FR'", "comments", "comments of FR"),
        ("UPDATE comment SET observation = 'Accepted.' WHERE body = 'FR'", "observations", "observation on FR-001"),
    ],
)
async def test_content_edited_on_a_closed_ballot_is_found_and_the_record_refused(
    db: Any, client: Any, clock: Any, edit: str, kind: str, named: str
) -> None:
    w, ballot_id = await closed_ballot(client, clock)
    assert (await client.get(f"/api/v1/ballots/{ballot_id}/record", headers=w.headers["secretary"])).status_code == 200
    report = await ledger.verify(db)
    assert report.intact, report.findings
    await Tamper(db).run(edit)
    report = await ledger.verify(db)
    assert kinds(report) == {kind}, report.findings
    assert any(named in f.detail for f in report.findings), report.findings
    refused = await client.get(f"/api/v1/ballots/{ballot_id}/record", headers=w.headers["secretary"])
    assert refused.status_code == 409, refused.text


async def test_observations_recorded_through_the_application_verify(db: Any, client: Any, clock: Any) -> None:
    w, ballot_id = await closed_ballot(client, clock)
    path = f"/api/v1/ballots/{ballot_id}/observations/FR-001"
    body = {"observation": "Clause 4 is aligned with ISO 9001:2015.", "disposition": "accepted"}
    await ok(await client.put(path, json=body, headers=w.headers["secretary"]))
    assert (await ledger.verify(db)).intact
    await Tamper(db).run("UPDATE comment SET disposition = 'rejected' WHERE reference = 'FR-001'")
    assert kinds(await ledger.verify(db)) == {"observations"}


async def test_an_exported_record_resigned_with_other_reasons_fails_offline(client: Any, clock: Any) -> None:
    w, ballot_id = await closed_ballot(client, clock)
    document = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/record", headers=w.headers["secretary"]))
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    from services.platform import signing

    other = Ed25519PrivateKey.generate()
    forged = json.loads(json.dumps(document))
    next(v for v in forged["record"]["votes"] if v["body"] == "FR")["reasons"] = "Other reasons."
    forged["signature"]["value"] = signing.sign(other, chain.canonical(forged["record"]))
    problems = record.verify_export(forged, signing.public_pem(other))
    assert problems == ["votes: the record: the vote of FR differs from its event"]


async def test_truncate_is_refused_on_postgresql(db: Any) -> None:
    if db.dialect != "postgresql":
        pytest.skip("SQLite has no TRUNCATE")
    for table in ["event", "vote", "comment"]:
        with pytest.raises(DBAPIError, match="TRUNCATE is refused"):
            async with db.engine().begin() as conn:
                await conn.execute(text(f"TRUNCATE {table} CASCADE"))


async def test_events_from_before_authenticators_are_counted_not_reported(db: Any, client: Any, clock: Any) -> None:
    async with db.engine().begin() as conn:  # as an installation upgraded to 0005 holds them
        await conn.execute(
            insert(EVENT),
            {
                "occurred_at": await _clock_now(clock),
                "type": "member_body.created",
                "aggregate": "member_body:XX",
                "actor": "Admin <a@example.org>",
                "payload": {"code": "XX", "acronym": "XX", "name": "Old"},
                "version": 1,
            },
        )
    await World(client, clock).build(p=["DE"])
    await ledger.seal(db)
    report = await ledger.verify(db)
    assert report.intact and report.legacy == 1, report.findings
    # One written without an authenticator after the first authenticated one is a finding.
    async with db.engine().begin() as conn:
        await conn.execute(
            insert(EVENT),
            {
                "occurred_at": await _clock_now(clock),
                "type": "member_body.created",
                "aggregate": "member_body:YY",
                "actor": "Admin <a@example.org>",
                "payload": {"code": "YY", "acronym": "YY", "name": "New"},
                "version": 1,
            },
        )
    report = await ledger.verify(db)
    assert kinds(report) == {"authenticity"} and report.legacy == 1


async def _clock_now(clock: Any) -> Any:
    return clock.now


async def test_verify_log_on_the_command_line_names_the_ballot(
    db: Any, client: Any, clock: Any, database_url: str, monkeypatch: pytest.MonkeyPatch, capsys: Any
) -> None:
    _, ballot_id = await closed_ballot(client, clock)
    code, out = await asyncio.to_thread(verify_log, monkeypatch, database_url, capsys)
    assert code == 0 and "The record is intact." in out, out
    await Tamper(db).run("UPDATE vote SET reasons = 'x' WHERE body = 'FR'")
    code, out = await asyncio.to_thread(verify_log, monkeypatch, database_url, capsys)
    assert code == 1 and f"TAMPERED votes: ballot {ballot_id}: vote" in out, out
    assert cli_main is not None
