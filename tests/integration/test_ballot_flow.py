"""A whole DIS ballot through the HTTP API, as a client would drive it, on both databases."""

from __future__ import annotations

from datetime import timedelta

from tests.world import ADMIN, World, iso, ok


async def test_a_dis_ballot_from_creation_to_decision_tells_its_story_in_events(client, clock) -> None:
    w = await World(client, clock).build(p=["DE", "FR", "JP", "GB", "US"], o=["SE"], others=["BR"])
    ballot_id = await w.ballot("DIS")
    project = await ok(await client.get(f"/api/v1/projects/{w.project_id}", headers=ADMIN))
    assert project["stage"] == "40.20"
    assert project["document"] == "ISO/DIS 99001"

    clock.advance(days=3)
    await w.vote(ballot_id, "DE", "disapprove", 201, reasons="Clause 4 is wrong.")
    await w.vote(ballot_id, "FR", "approve", 201)
    await w.vote(ballot_id, "JP", "approve", 201)
    await w.vote(ballot_id, "GB", "disapprove", 201, reasons="Scope too broad.")
    await w.vote(ballot_id, "US", "abstain", 201)
    await w.vote(ballot_id, "SE", "approve", 201)
    await w.vote(ballot_id, "BR", "approve", 201)
    clock.advance(days=1)
    changed = await ok(await w.vote(ballot_id, "DE", "approve"), 200)
    assert changed["changed"] is True
    again = await w.vote(ballot_id, "DE", "approve")
    assert again.status_code == 200  # an identical PUT is a no-op

    comments = await ok(
        await client.put(
            f"/api/v1/ballots/{ballot_id}/comments/DE",
            json={
                "comments": [
                    {"clause": "3.10", "line": "40", "type": "ed", "comment": "Typo.", "proposed_change": "Fix it."},
                    {"clause": "General", "type": "ge", "comment": "Good work."},
                ]
            },
            headers=w.headers["DE"],
        ),
        201,
    )
    assert [c["reference"] for c in comments["comments"]] == ["DE-001", "DE-002"]

    closed = await w.close(ballot_id)
    result = closed["result"]
    # P-members voting: DE, FR, JP approve; GB disapproves; US abstains → 3·3 = 9 ≥ 2·4 = 8.
    # All voting: 5 approvals, 1 disapproval → 4·1 = 4 ≤ 6.
    assert closed["status"] == "closed"
    assert result["approved"] is True
    assert result["counts"]["p_approve"] == 3
    assert result["counts"]["p_disapprove"] == 1
    assert result["counts"]["all_approve"] == 5
    assert result["counts"]["all_disapprove"] == 1
    assert result["not_voted"] == []
    assert "9" in result["arithmetic"] and "8" in result["arithmetic"]
    assert "40.99" in [d["code"] for d in closed["decisions_allowed"]]

    project = await ok(await client.get(f"/api/v1/projects/{w.project_id}", headers=ADMIN))
    assert project["stage"] == "40.60"

    decided = await ok(
        await client.post(
            f"/api/v1/projects/{w.project_id}/decisions",
            json={"decision": "40.99", "reason": "Approved; comments resolved at the Berlin meeting."},
            headers=w.headers["secretary"],
        ),
        201,
    )
    assert decided["stage"] == "50.00"
    history = await ok(await client.get(f"/api/v1/projects/{w.project_id}/history", headers=ADMIN))
    stages = history["stages"]
    assert [(h["from_stage"], h["to_stage"]) for h in stages] == [
        (None, "40.00"),
        ("40.00", "40.20"),
        ("40.20", "40.60"),
        ("40.60", "40.99"),
        ("40.99", "50.00"),
    ]
    assert stages[-1]["cause"] == "decision"
    told = [e["type"] for e in history["events"]]
    assert told[0] == "project.created" and told[-1] == "project.stage_changed"
    assert "ballot.closed" in told and "vote.changed" in told

    log = await ok(await client.get(f"/api/v1/events?aggregate=ballot:{ballot_id}", headers=ADMIN))
    types = [e["type"] for e in log["items"]]
    assert types[:2] == ["ballot.created", "ballot.opened"]
    assert types.count("vote.cast") == 7
    assert types.count("vote.changed") == 1
    assert "comments.submitted" in types
    # The secretary's decision is on the ballot's stream too (its stage moves on the project's).
    assert types[-2:] == ["ballot.closed", "ballot.decided"]
    assert log["items"][-1]["payload"]["decision"] == "40.99"
    change = next(e for e in log["items"] if e["type"] == "vote.changed")
    assert change["payload"]["previous_position"] == "disapprove"
    assert change["on_behalf_of"] == "DE"


async def test_a_failed_ballot_never_offers_to_proceed(client, clock) -> None:
    w = await World(client, clock).build(p=["DE", "FR", "JP"])
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "disapprove", 201, reasons="No.")
    await w.vote(ballot_id, "FR", "disapprove", 201, reasons="No.")
    await w.vote(ballot_id, "JP", "approve", 201)
    closed = await w.close(ballot_id)
    assert closed["result"]["approved"] is False
    codes = [d["code"] for d in closed["decisions_allowed"]]
    assert "40.99" not in codes and "40.93" in codes
    refused = await client.post(
        f"/api/v1/projects/{w.project_id}/decisions",
        json={"decision": "40.99", "reason": "Let us go on anyway."},
        headers=w.headers["secretary"],
    )
    assert refused.status_code == 409
    assert refused.headers["content-type"].startswith("application/problem+json")
    project = await ok(await client.get(f"/api/v1/projects/{w.project_id}", headers=ADMIN))
    assert project["stage"] == "40.60"


async def test_the_deadline_closes_writes_even_before_anyone_closes_the_ballot(client, clock) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    ballot_id = await w.ballot("DIS", weeks=12)
    clock.advance(weeks=12)
    late = await w.vote(ballot_id, "DE", "approve")
    assert late.status_code == 409
    assert "no longer accepted" in late.json()["detail"]
    ballot = await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=ADMIN))
    assert ballot["status"] == "open" and ballot["deadline_passed"] is True
    votes = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/votes", headers=ADMIN))
    assert votes == []


async def test_while_open_a_body_sees_only_its_own_vote_and_after_close_everyone_sees_all(client, clock) -> None:
    w = await World(client, clock).build(p=["DE", "FR", "JP"])
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve", 201)
    await w.vote(ballot_id, "FR", "approve", 201)
    mine = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/votes", headers=w.headers["DE"]))
    assert [v["body"] for v in mine] == ["DE"]
    everyone = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/votes", headers=w.headers["secretary"]))
    assert [v["body"] for v in everyone] == ["DE", "FR"]
    await w.close(ballot_id)
    after = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/votes", headers=w.headers["JP"]))
    assert [v["body"] for v in after] == ["DE", "FR"]
    assert (await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=w.headers["JP"])))["result"][
        "not_voted"
    ] == ["JP"]


async def test_np_needs_enough_approving_p_members_committed_to_participate(client, clock) -> None:
    w = await World(client, clock).build(p=["DE", "FR", "JP", "GB", "US"], stage="10.00")
    ballot_id = await w.ballot("NP")
    for code in ["DE", "FR", "JP"]:
        await w.vote(ballot_id, code, "approve", 201, participate=True, experts=[{"name": f"Expert {code}"}])
    await w.vote(ballot_id, "GB", "approve", 201, participate=False)
    await w.vote(ballot_id, "US", "abstain", 201)
    closed = await w.close(ballot_id)
    # Four approvals out of four (two-thirds met) but only three committed: k = 4 for a committee of 5.
    assert closed["result"]["approved"] is False
    assert closed["result"]["counts"]["p_participating"] == 3
    assert "10.99" not in [d["code"] for d in closed["decisions_allowed"]]


async def test_reopen_extend_and_cancel_are_audited_and_move_the_stage_back(client, clock) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    sec = w.headers["secretary"]
    ballot_id = await w.ballot("DIS", weeks=12)
    extended = await ok(
        await client.post(
            f"/api/v1/ballots/{ballot_id}/extend", json={"closes_at": iso(clock.now + timedelta(weeks=14))}, headers=sec
        )
    )
    assert extended["warning"] is None
    short = await ok(
        await client.post(
            f"/api/v1/ballots/{ballot_id}/extend", json={"closes_at": iso(clock.now + timedelta(weeks=2))}, headers=sec
        )
    )
    assert "DIS" in short["warning"]
    await w.vote(ballot_id, "DE", "approve", 201)
    await w.close(ballot_id)
    reopened = await ok(
        await client.post(
            f"/api/v1/ballots/{ballot_id}/reopen",
            json={"closes_at": iso(clock.now + timedelta(days=7)), "reason": "FR's vote was lost in the mail."},
            headers=sec,
        )
    )
    assert reopened["status"] == "open" and reopened["result"] is None
    await w.vote(ballot_id, "FR", "approve", 201)
    project = await ok(await client.get(f"/api/v1/projects/{w.project_id}", headers=ADMIN))
    assert project["stage"] == "40.20"
    cancelled = await ok(
        await client.post(f"/api/v1/ballots/{ballot_id}/cancel", json={"reason": "Wrong draft."}, headers=sec)
    )
    assert cancelled["status"] == "cancelled"
    project = await ok(await client.get(f"/api/v1/projects/{w.project_id}", headers=ADMIN))
    assert project["stage"] == "40.00"
    log = await ok(await client.get(f"/api/v1/events?aggregate=ballot:{ballot_id}", headers=ADMIN))
    types = [e["type"] for e in log["items"]]
    for expected in ["ballot.extended", "ballot.closed", "ballot.reopened", "ballot.cancelled"]:
        assert expected in types
