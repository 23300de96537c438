"""The record cannot be rewritten quietly (issue 7, item 6), on SQLite and PostgreSQL.

* the database refuses to delete an event or to change one, except sealing it once;
* the sealer chains every event (several sealers at once included) and does not hold up votes;
* `ballotdesk verify-log` finds an event edited behind the trigger's back, a deleted event and an
  edited result, and exits non-zero;
* a closed ballot's signed record checks out offline with the public key, and fails once changed.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text, update
from sqlmodel import col

from schemas.events import VoteCast
from schemas.tables import Ballot
from schemas.types import utcnow
from services.cli.main import main as cli_main
from services.platform import events, migrate, signing
from services.platform.db import Database
from services.platform.settings import Settings
from services.rules import chain
from services.rules.actors import Principal
from services.usecases import ledger
from services.views import record
from tests.conftest import ADMIN_TOKEN
from tests.reliability.conftest import Figures, scaled
from tests.world import ADMIN, World, ok
from workers import sealer

# --- helpers -------------------------------------------------------------------------------------

DE_DELEGATE = Principal(user_id=None, name="DE", email="de@example.org", grants=())


@pytest.fixture
def settings(database_url: str, tmp_path: Path) -> Settings:
    """The shared settings, the signing key named where the `db` fixture's database finds it (the
    same key authenticates the events and signs the records)."""
    key = signing.key_path(Settings(database_url=database_url))
    return Settings(database_url=database_url, admin_token=ADMIN_TOKEN, signing_key_path=str(key.resolve()))


async def closed_ballot(client: Any, clock: Any) -> tuple[World, int]:
    """A DIS with five P-members: three approve, FR disapproves with reasons, SE comments only."""
    w = await World(client, clock).build(p=["DE", "FR", "JP", "IT", "SE"])
    ballot_id = await w.ballot("DIS")
    for code in ["DE", "JP"]:
        await w.vote(ballot_id, code, "approve", 201)
    await w.vote(ballot_id, "IT", "disapprove", 201)
    await w.vote(ballot_id, "IT", "approve", 200)  # a change: the latest vote counts
    await w.vote(ballot_id, "FR", "disapprove", 201, reasons="Clause 4 contradicts ISO 9001.")
    rows = {"comments": [{"clause": "4", "type": "te", "comment": "Contradicts ISO 9001."}]}
    await ok(await client.put(f"/api/v1/ballots/{ballot_id}/comments/FR", json=rows, headers=w.headers["FR"]), 201)
    rows = {"comments": [{"clause": "1", "type": "ed", "comment": "Typo."}, {"clause": "2", "comment": "Unclear."}]}
    await ok(await client.put(f"/api/v1/ballots/{ballot_id}/comments/SE", json=rows, headers=w.headers["SE"]), 201)
    closed = await w.close(ballot_id)
    assert closed["result"]["approved"] is True
    return w, ballot_id


class Tamper:
    """Statements that bypass the guard, as a database superuser could."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def run(self, *statements: str) -> None:
        async with self.db.engine().begin() as conn:
            if self.db.dialect == "postgresql":
                # Superuser only: row triggers do not fire for a "replica" session.
                await conn.execute(text("SET LOCAL session_replication_role = replica"))
            else:
                for drop in ["DROP TRIGGER event_append_only_delete", "DROP TRIGGER event_append_only_update"]:
                    await conn.execute(text(drop))
            for statement in statements:
                await conn.execute(text(statement))
            if self.db.dialect == "sqlite":
                # Put the guard back as it was, so only the edit itself differs.
                from schemas import event_guard
                from schemas.tables import Event

                columns = [c.name for c in Event.__table__.columns]  # type: ignore[attr-defined]
                for statement in event_guard.sqlite_statements(columns):
                    await conn.execute(text(statement))


async def event_id(db: Database, type_: str, ballot_id: int, body: str | None = None) -> int:
    async with db.transaction() as session:
        rows = await ledger.ballot_events(session, ballot_id)
    return next(int(e.id or 0) for e in rows if e.type == type_ and (body is None or e.payload.get("body") == body))


def verify_log(
    monkeypatch: pytest.MonkeyPatch, database_url: str, capsys: pytest.CaptureFixture[str]
) -> tuple[int, str]:
    monkeypatch.setenv("BALLOTDESK_DATABASE_URL", database_url)
    code = cli_main(["verify-log"])
    return code, capsys.readouterr().out


# --- the guard -----------------------------------------------------------------------------------


async def test_the_database_refuses_to_delete_or_rewrite_an_event_but_lets_it_be_sealed_once(
    db: Any, client: Any, clock: Any
) -> None:
    await closed_ballot(client, clock)
    refused = [
        "DELETE FROM event WHERE id = 1",
        "DELETE FROM event",
        "UPDATE event SET actor = 'someone else' WHERE id = 2",
        "UPDATE event SET type = 'vote.cast' WHERE id = 3",
        "UPDATE event SET chain_seq = 1, prev_hash = 'a', hash = 'b', actor = 'x' WHERE id = 4",
    ]
    for statement in refused:
        with pytest.raises(Exception, match="append-only"):
            async with db.transaction() as session:
                await session.execute(text(statement))
    sealed = await ledger.seal(db)
    assert sealed > 20
    for statement in [
        "UPDATE event SET hash = 'forged' WHERE id = 2",
        "UPDATE event SET chain_seq = NULL, prev_hash = NULL, hash = NULL WHERE id = 2",
    ]:
        with pytest.raises(Exception, match="append-only"):
            async with db.transaction() as session:
                await session.execute(text(statement))
    report = await ledger.verify(db)
    assert report.intact, report.findings
    assert (report.events, report.sealed, report.unsealed, report.ballots_checked) == (sealed, sealed, 0, 1)


async def test_a_migrated_database_has_the_guard_too(tmp_path: Path, database_url: str) -> None:
    if database_url.startswith("sqlite"):
        url = f"sqlite+aiosqlite:///{tmp_path / 'migrated.db'}"
    else:
        from tests.integration.test_cli import _fresh_database

        url = await _fresh_database("h3_tamper_migrated")
    await asyncio.to_thread(migrate.upgrade, url)
    db = Database(url)
    try:
        async with db.transaction() as session:
            await events.record(
                session,
                VoteCast(ballot_id=1, vote_id=1, body="DE", position="approve", reasons=False),
                aggregate="ballot:1",
                actor=DE_DELEGATE,
                now=utcnow(),
            )
        for statement in ["DELETE FROM event", "UPDATE event SET actor = 'FR <fr@example.org>'"]:
            with pytest.raises(Exception, match="append-only"):
                async with db.transaction() as session:
                    await session.execute(text(statement))
        assert await ledger.seal(db) == 1
        assert (await ledger.verify(db)).intact
    finally:
        await db.dispose()


# --- sealing -------------------------------------------------------------------------------------


async def test_several_sealers_at_once_chain_every_event_exactly_once(db: Any, figures: Figures) -> None:
    """Writers and three sealers run together; every event ends in one unbroken chain."""
    writers, per_writer = 4, scaled(50, 500)
    done = asyncio.Event()

    async def write(n: int) -> None:
        for i in range(per_writer):
            async with db.transaction() as session:
                await events.record(
                    session,
                    VoteCast(ballot_id=n, vote_id=i, body="DE", position="approve", reasons=False),
                    aggregate=f"ballot:{n}",
                    actor=DE_DELEGATE,
                    now=utcnow(),
                )

    async def sealer() -> int:
        total = 0
        while not done.is_set():
            total += await ledger.seal(db, limit=37)
            await asyncio.sleep(0.005)
        return total

    sealers = [asyncio.create_task(sealer()) for _ in range(3)]
    await asyncio.gather(*(write(n) for n in range(writers)))
    done.set()
    sealed = sum(await asyncio.gather(*sealers)) + await ledger.seal(db)
    report = await ledger.verify(db)
    assert report.intact, report.findings[:5]
    assert sealed == report.events == report.sealed == writers * per_writer
    assert report.unsealed == 0
    figures.add(
        f"hash chain, 3 sealers ({db.dialect})", writes=writers * per_writer, duplicates=0, events_lost=0, sealed=sealed
    )


async def test_the_sealer_loop_seals_what_is_written_while_it_runs(db: Any) -> None:
    stop = asyncio.Event()
    loops = [asyncio.create_task(sealer.run(db, stop, interval=0.05)) for _ in range(2)]
    try:
        for i in range(30):
            async with db.transaction() as session:
                await events.record(
                    session,
                    VoteCast(ballot_id=1, vote_id=i, body="DE", position="approve", reasons=False),
                    aggregate="ballot:1",
                    actor=DE_DELEGATE,
                    now=utcnow(),
                )
        for _ in range(100):
            report = await ledger.verify(db)
            if report.unsealed == 0:
                break
            await asyncio.sleep(0.05)
    finally:
        stop.set()
        await asyncio.gather(*loops)
    assert (report.events, report.sealed, report.unsealed) == (30, 30, 0)
    assert report.intact, report.findings


async def test_a_sealer_at_work_does_not_hold_up_a_vote(db: Any, client: Any, clock: Any, database_url: str) -> None:
    """The chain is no global lock: a vote goes through while a sealing transaction is open."""
    if not database_url.startswith("postgresql"):
        pytest.skip("SQLite has one writer at a time by design; the question is PostgreSQL's")
    w = await World(client, clock).build(p=["DE", "FR"])
    ballot_id = await w.ballot("DIS")
    async with db.transaction() as session:
        assert await ledger.seal_batch(session) > 0  # holds the sealer's lock and the sealed rows
        started = time.perf_counter()
        vote = await client.put(
            f"/api/v1/ballots/{ballot_id}/votes/DE", json={"position": "approve"}, headers=w.headers["DE"]
        )
        waited = time.perf_counter() - started
    assert vote.status_code == 201, vote.text
    assert waited < 1.0, f"the vote waited {waited:.2f} s for the sealer"
    assert await ledger.seal(db) >= 1
    assert (await ledger.verify(db)).intact


# --- verify-log ----------------------------------------------------------------------------------


async def test_verify_log_passes_an_untouched_record(
    db: Any, client: Any, clock: Any, database_url: Any, monkeypatch: Any, capsys: Any
) -> None:
    await closed_ballot(client, clock)
    await ledger.seal(db)
    code, out = await asyncio.to_thread(verify_log, monkeypatch, database_url, capsys)
    assert code == 0, out
    assert "The record is intact." in out
    assert "1 closed ballots recomputed" in out


async def test_verify_log_finds_an_event_edited_with_the_trigger_disabled(
    db: Any, client: Any, clock: Any, database_url: Any, monkeypatch: Any, capsys: Any
) -> None:
    _, ballot_id = await closed_ballot(client, clock)
    await ledger.seal(db)
    fr_vote = await event_id(db, "vote.cast", ballot_id, "FR")
    # FR's disapproval becomes an approval in the log, as someone with superuser rights could do.
    payload = (
        "jsonb_set(payload, '{position}', '\"approve\"')"
        if db.dialect == "postgresql"
        else ("json_set(payload, '$.position', 'approve')")
    )
    await Tamper(db).run(f"UPDATE event SET payload = {payload} WHERE id = {fr_vote}")

    report = await ledger.verify(db)
    assert [f.what for f in report.findings if f.what == "chain"] == ["chain"]
    assert f"event {fr_vote}" in str(report.findings[0])
    assert "edited after sealing" in str(report.findings[0])
    assert any(f.what == "result" and f"ballot {ballot_id}" == f.subject for f in report.findings)
    code, out = await asyncio.to_thread(verify_log, monkeypatch, database_url, capsys)
    assert code == 1
    assert f"TAMPERED chain: event {fr_vote}" in out


async def test_verify_log_finds_a_deleted_event(
    db: Any, client: Any, clock: Any, database_url: Any, monkeypatch: Any, capsys: Any
) -> None:
    _, ballot_id = await closed_ballot(client, clock)
    await ledger.seal(db)
    fr_vote = await event_id(db, "vote.cast", ballot_id, "FR")
    await Tamper(db).run(f"DELETE FROM delivery WHERE event_id = {fr_vote}", f"DELETE FROM event WHERE id = {fr_vote}")

    report = await ledger.verify(db)
    chain = [str(f) for f in report.findings if f.what == "chain"]
    assert chain and "an event is missing or moved" in chain[0], report.findings
    assert any(f.what == "votes" and "FR" in f.detail for f in report.findings), report.findings
    code, out = await asyncio.to_thread(verify_log, monkeypatch, database_url, capsys)
    assert code == 1
    assert "differences found" in out


async def test_verify_log_finds_an_edited_result(
    db: Any, client: Any, clock: Any, database_url: Any, monkeypatch: Any, capsys: Any
) -> None:
    _, ballot_id = await closed_ballot(client, clock)
    await ledger.seal(db)
    async with db.transaction() as session:
        # Not an event: the ballot row, which no trigger guards; the events still tell the truth.
        ballot = await session.get(Ballot, ballot_id)
        assert ballot is not None and ballot.result is not None
        result = json.loads(json.dumps(ballot.result))
        result["approved"] = False
        result["counts"]["p_disapprove"] = 3
        await session.execute(update(Ballot).where(col(Ballot.id) == ballot_id).values(result=result, approved=False))
    report = await ledger.verify(db)
    assert [(f.what, f.subject) for f in report.findings] == [("result", f"ballot {ballot_id}")]
    assert "approved, 3 P-approve / 1 P-disapprove recomputed" in report.findings[0].detail
    code, out = await asyncio.to_thread(verify_log, monkeypatch, database_url, capsys)
    assert code == 1
    assert f"TAMPERED result: ballot {ballot_id}" in out


async def test_verify_log_finds_a_vote_changed_in_the_vote_table(db: Any, client: Any, clock: Any) -> None:
    _, ballot_id = await closed_ballot(client, clock)
    await ledger.seal(db)
    async with db.transaction() as session:
        await session.execute(
            text(f"UPDATE vote SET position = 'approve' WHERE ballot_id = {ballot_id} AND body = 'FR'")
        )
    report = await ledger.verify(db)
    assert {(f.what, f.subject) for f in report.findings} == {("votes", f"ballot {ballot_id}")}
    assert all("FR" in f.detail for f in report.findings)


# --- the signed record ---------------------------------------------------------------------------


async def test_a_closed_ballots_signed_record_checks_out_offline(
    client: Any, clock: Any, settings: Any, tmp_path: Path
) -> None:
    w, ballot_id = await closed_ballot(client, clock)
    key = await ok(await client.get("/api/v1/signing-key"))
    assert key["algorithm"] == "Ed25519" and key["public_key"].startswith("-----BEGIN PUBLIC KEY-----")
    document = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/record", headers=w.headers["secretary"]))
    assert document["signature"]["key_id"] == key["key_id"]
    rec = document["record"]
    assert rec["ballot"]["result"]["approved"] is True
    assert sorted((v["body"], v["position"]) for v in rec["votes"]) == [
        ("DE", "approve"),
        ("FR", "disapprove"),
        ("IT", "approve"),
        ("JP", "approve"),
    ]
    assert sorted(c["reference"] for c in rec["comments"]) == ["FR-001", "SE-001", "SE-002"]
    assert all(e["hash"] and e["prev_hash"] and e["chain_seq"] for e in rec["events"])
    assert [e["type"] for e in rec["events"]][:2] == ["ballot.created", "ballot.opened"]
    assert record.verify_export(document, key["public_key"]) == []

    # Offline, with only the file and the key: the CLI, run without any database configured.
    pem = tmp_path / "ballotdesk.pub"
    pem.write_text(key["public_key"])
    good = tmp_path / "record.json"
    good.write_text(json.dumps(document))
    assert await asyncio.to_thread(cli_main, ["verify-export", str(good), "--public-key", str(pem)]) == 0

    def changed(edit: Any) -> dict[str, Any]:
        copy: dict[str, Any] = json.loads(json.dumps(document))
        edit(copy["record"])
        return copy

    def flip_vote(r: dict[str, Any]) -> None:
        next(v for v in r["votes"] if v["body"] == "FR")["position"] = "approve"

    def drop_comment(r: dict[str, Any]) -> None:
        r["comments"] = [c for c in r["comments"] if c["reference"] != "FR-001"]

    def edit_event(r: dict[str, Any]) -> None:
        next(e for e in r["events"] if e["type"] == "vote.cast" and e["payload"]["body"] == "FR")["actor"] = "x"

    for edit in [flip_vote, drop_comment, edit_event]:
        problems = record.verify_export(changed(edit), key["public_key"])
        assert problems and problems[0].startswith("the signature does not match"), (edit.__name__, problems)
        bad = tmp_path / f"{edit.__name__}.json"
        bad.write_text(json.dumps(changed(edit)))
        assert await asyncio.to_thread(cli_main, ["verify-export", str(bad), "--public-key", str(pem)]) == 1
    # Re-signed by someone else's key: the content checks still find the changes.
    from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

    other = Ed25519PrivateKey.generate()
    forged = changed(flip_vote)
    forged["signature"]["value"] = signing.sign(other, chain.canonical(forged["record"]))
    assert record.verify_export(forged, key["public_key"])[0].startswith("the signature does not match")
    problems = record.verify_export(forged, signing.public_pem(other))
    assert problems == [
        "votes: the record: the vote of FR differs from its event",
        "the votes differ from the vote events",
    ]


async def test_the_record_is_for_those_who_may_read_every_vote_once_the_ballot_is_closed(
    client: Any, clock: Any
) -> None:
    w = await World(client, clock).build(p=["DE", "FR"], others=["BR"])
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve", 201)
    path = f"/api/v1/ballots/{ballot_id}/record"
    early = await client.get(path, headers=w.headers["secretary"])
    assert early.status_code == 409, early.text
    await w.close(ballot_id)
    assert (await client.get(path)).status_code == 401
    nobody = await w.user("nobody", [])  # signed in, but no role in any committee
    assert (await client.get(path, headers=nobody)).status_code == 403
    # Every ISO member body takes part in a DIS, so BR, outside the committee, reads it too.
    for who in ["secretary", "convenor", "DE", "FR", "BR"]:
        assert (await client.get(path, headers=w.headers[who])).status_code == 200, who
    assert (await client.get(path, headers=ADMIN)).status_code == 200


async def test_export_ballot_and_verify_export_from_the_command_line(
    db: Any, client: Any, clock: Any, settings: Any, database_url: Any, tmp_path: Path, monkeypatch: Any, capsys: Any
) -> None:
    _, ballot_id = await closed_ballot(client, clock)
    key = await ok(await client.get("/api/v1/signing-key"))
    pem = tmp_path / "key.pub"
    pem.write_text(key["public_key"])
    out = tmp_path / "exported.json"
    monkeypatch.setenv("BALLOTDESK_DATABASE_URL", database_url)
    monkeypatch.setenv("BALLOTDESK_SIGNING_KEY", settings.signing_key_path)
    code = await asyncio.to_thread(cli_main, ["export-ballot", str(ballot_id), "--out", str(out)])
    assert code == 0, capsys.readouterr()
    monkeypatch.delenv("BALLOTDESK_DATABASE_URL")
    code = await asyncio.to_thread(cli_main, ["verify-export", str(out), "--public-key", str(pem)])
    printed = capsys.readouterr().out
    assert code == 0, printed
    assert "Verified: ISO/DIS 99001" in printed
    document = json.loads(out.read_text())
    document["record"]["ballot"]["result"]["approved"] = False
    out.write_text(json.dumps(document))
    assert await asyncio.to_thread(cli_main, ["verify-export", str(out), "--public-key", str(pem)]) == 1
    assert "NOT VERIFIED" in capsys.readouterr().out
