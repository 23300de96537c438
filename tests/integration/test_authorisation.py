"""Who may do what (SPEC §1 and §3.4), enforced by the server whatever the client sends.

One committee with a person in every role, plus the secretary of another committee. The table
below is the rule book: for each write, the status every role gets. A refused write must leave
the event log and the stored state exactly as they were; an allowed one must be logged.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta
from typing import Any

import pytest

from tests.world import ADMIN, World, iso, ok

PROBLEM = "application/problem+json"

ROLES = (
    "admin",
    "secretary",
    "other_secretary",  # the secretary of another committee
    "convenor",
    "delegate_DE",
    "delegate_FR",  # the delegate of another body in the same committee
    "commenter_DE",
    "observer",
    "anonymous",
)

# fmt: off
_MATRIX: dict[str, tuple[int, ...]] = {
    #                           admin  sec  other conv  DE    FR   comm  obs  anon
    "create ballot":           (201,   201, 403,  403,  403,  403,  403, 403, 401),
    "open ballot":             (200,   200, 403,  403,  403,  403,  403, 403, 401),
    "extend ballot":           (200,   200, 403,  403,  403,  403,  403, 403, 401),
    "close ballot":            (200,   200, 403,  403,  403,  403,  403, 403, 401),
    "reopen ballot":           (200,   200, 403,  403,  403,  403,  403, 403, 401),
    "cancel ballot":           (200,   200, 403,  403,  403,  403,  403, 403, 401),
    "cast vote for DE":        (201,   403, 403,  403,  201,  403,  403, 403, 401),
    "submit comments for DE":  (201,   403, 403,  403,  201,  403,  201, 403, 401),
    "record observation":      (200,   200, 403,  200,  403,  403,  403, 403, 401),
    "record decision":         (201,   201, 403,  403,  403,  403,  403, 403, 401),
    "set membership":          (200,   200, 403,  403,  403,  403,  403, 403, 401),
    "create project":          (201,   201, 403,  403,  403,  403,  403, 403, 401),
    "create user":             (201,   403, 403,  403,  403,  403,  403, 403, 401),
    "create member body":      (201,   403, 403,  403,  403,  403,  403, 403, 401),
}
# fmt: on

TABLE: list[tuple[str, str, int]] = [
    (role, action, status) for action, row in _MATRIX.items() for role, status in zip(ROLES, row, strict=True)
]


# --- the committee -------------------------------------------------------------------------------


async def committee_with_every_role(client, clock) -> tuple[World, dict[str, dict[str, str]]]:
    """DE, FR, JP P-members of ISO/TC 999, BR a body outside it; a person in every role."""
    w = await World(client, clock).build(p=["DE", "FR", "JP"], others=["BR"])
    await w.user("commenter_DE", [{"role": "commenter", "member_body": "DE"}])
    await w.user("observer", [{"role": "observer", "committee_id": w.committee_id}])
    other = await ok(
        await client.post("/api/v1/committees", json={"reference": "ISO/TC 998", "title": "Elsewhere"}, headers=ADMIN),
        201,
    )
    user = await ok(
        await client.post(
            "/api/v1/users",
            json={
                "name": "Other secretary",
                "email": "other.secretary@example.org",
                "roles": [{"role": "secretary", "committee_id": other["id"]}],
            },
            headers=ADMIN,
        ),
        201,
    )
    token = await ok(await client.post(f"/api/v1/users/{user['id']}/tokens", json={}, headers=ADMIN), 201)
    headers = {
        "admin": ADMIN,
        "secretary": w.headers["secretary"],
        "other_secretary": {"Authorization": f"Bearer {token['token']}"},
        "convenor": w.headers["convenor"],
        "delegate_DE": w.headers["DE"],
        "delegate_FR": w.headers["FR"],
        "delegate_BR": w.headers["BR"],
        "commenter_DE": w.headers["commenter_DE"],
        "observer": w.headers["observer"],
        "anonymous": {},
    }
    return w, headers


async def events(client) -> list[int]:
    log = await ok(await client.get("/api/v1/events?limit=1000", headers=ADMIN))
    assert len(log["items"]) < 1000, "the event log outgrew the counting page"
    return [e["id"] for e in log["items"]]


async def stored_state(client, w: World, ballot_id: int | None) -> dict[str, Any]:
    seen: dict[str, Any] = {
        "events": await events(client),
        "project": await ok(await client.get(f"/api/v1/projects/{w.project_id}", headers=ADMIN)),
        "history": await ok(await client.get(f"/api/v1/projects/{w.project_id}/history", headers=ADMIN)),
        "committee": await ok(await client.get(f"/api/v1/committees/{w.committee_id}", headers=ADMIN)),
        "bodies": await ok(await client.get("/api/v1/member-bodies", headers=ADMIN)),
        "ballots": await ok(await client.get("/api/v1/ballots", headers=ADMIN)),
    }
    if ballot_id is not None:
        seen["votes"] = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/votes", headers=ADMIN))
        seen["comments"] = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/comments", headers=ADMIN))
    return seen


# --- the actions ---------------------------------------------------------------------------------

Request = tuple[str, str, Any, int | None]  # method, path, JSON body, the ballot it touches
Prepare = Callable[[World], Awaitable[Request]]


async def _create_ballot(w: World) -> Request:
    body = {"project_id": w.project_id, "type": "DIS", "closes_at": iso(w.clock.now + timedelta(weeks=12))}
    return "POST", "/api/v1/ballots", body, None


async def _open_ballot(w: World) -> Request:
    ballot_id = await w.ballot("DIS", open=False)
    return "POST", f"/api/v1/ballots/{ballot_id}/open", None, ballot_id


async def _extend_ballot(w: World) -> Request:
    ballot_id = await w.ballot("DIS")
    body = {"closes_at": iso(w.clock.now + timedelta(weeks=14))}
    return "POST", f"/api/v1/ballots/{ballot_id}/extend", body, ballot_id


async def _close_ballot(w: World) -> Request:
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve", 201)
    return "POST", f"/api/v1/ballots/{ballot_id}/close", None, ballot_id


async def _reopen_ballot(w: World) -> Request:
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve", 201)
    await w.close(ballot_id)
    body = {"closes_at": iso(w.clock.now + timedelta(weeks=1)), "reason": "FR's vote was lost in the mail."}
    return "POST", f"/api/v1/ballots/{ballot_id}/reopen", body, ballot_id


async def _cancel_ballot(w: World) -> Request:
    ballot_id = await w.ballot("DIS")
    return "POST", f"/api/v1/ballots/{ballot_id}/cancel", {"reason": "Wrong draft."}, ballot_id


async def _cast_vote(w: World) -> Request:
    ballot_id = await w.ballot("DIS")
    return "PUT", f"/api/v1/ballots/{ballot_id}/votes/DE", {"position": "approve"}, ballot_id


async def _submit_comments(w: World) -> Request:
    ballot_id = await w.ballot("DIS")
    body = {"comments": [{"clause": "3.1", "type": "te", "comment": "Define 'excellence'."}]}
    return "PUT", f"/api/v1/ballots/{ballot_id}/comments/DE", body, ballot_id


async def _record_observation(w: World) -> Request:
    ballot_id = await w.ballot("DIS")
    rows = {"comments": [{"clause": "3.1", "type": "te", "comment": "Define 'excellence'."}]}
    await ok(
        await w.client.put(f"/api/v1/ballots/{ballot_id}/comments/DE", json=rows, headers=w.headers["DE"]),
        201,
    )
    body = {"observation": "Accepted; defined in 3.1.", "disposition": "accepted"}
    return "PUT", f"/api/v1/ballots/{ballot_id}/observations/DE-001", body, ballot_id


async def _record_decision(w: World) -> Request:
    ballot_id = await w.ballot("DIS")
    for code in ["DE", "FR", "JP"]:
        await w.vote(ballot_id, code, "approve", 201)
    await w.close(ballot_id)
    body = {"decision": "40.99", "reason": "Approved unanimously."}
    return "POST", f"/api/v1/projects/{w.project_id}/decisions", body, ballot_id


async def _set_membership(w: World) -> Request:
    return "PUT", f"/api/v1/committees/{w.committee_id}/members/BR", {"status": "O"}, None


async def _create_project(w: World) -> Request:
    body = {
        "committee_id": w.committee_id,
        "reference": "ISO 99002",
        "title": "Another",
        "deliverable": "IS",
        "stage": "20.00",
    }
    return "POST", "/api/v1/projects", body, None


async def _create_user(w: World) -> Request:
    body = {
        "name": "New delegate",
        "email": "new@example.org",
        "roles": [{"role": "delegate", "member_body": "DE"}],
    }
    return "POST", "/api/v1/users", body, None


async def _create_member_body(w: World) -> Request:
    return "POST", "/api/v1/member-bodies", {"code": "IT", "acronym": "UNI", "name": "Ente Italiano"}, None


PREPARE: dict[str, Prepare] = {
    "create ballot": _create_ballot,
    "open ballot": _open_ballot,
    "extend ballot": _extend_ballot,
    "close ballot": _close_ballot,
    "reopen ballot": _reopen_ballot,
    "cancel ballot": _cancel_ballot,
    "cast vote for DE": _cast_vote,
    "submit comments for DE": _submit_comments,
    "record observation": _record_observation,
    "record decision": _record_decision,
    "set membership": _set_membership,
    "create project": _create_project,
    "create user": _create_user,
    "create member body": _create_member_body,
}


def test_the_table_covers_every_role_and_every_action() -> None:
    assert set(PREPARE) == set(_MATRIX)
    assert {(role, action) for role, action, _ in TABLE} == {(r, a) for r in ROLES for a in _MATRIX}


@pytest.mark.parametrize(("role", "action", "expected"), TABLE, ids=[f"{a}-by-{r}" for r, a, _ in TABLE])
async def test_each_role_may_do_exactly_what_its_role_allows(client, clock, role, action, expected) -> None:
    w, headers = await committee_with_every_role(client, clock)
    method, path, body, ballot_id = await PREPARE[action](w)
    before = await stored_state(client, w, ballot_id)

    response = await client.request(method, path, json=body, headers=headers[role])

    assert response.status_code == expected, f"{role} → {action}: {response.status_code} {response.text[:300]}"
    after = await stored_state(client, w, ballot_id)
    if expected >= 400:
        assert response.headers["content-type"].startswith(PROBLEM)
        assert response.json()["status"] == expected
        assert after == before, f"a refused {action} by {role} changed the stored state"
    else:
        assert len(after["events"]) > len(before["events"]), f"{action} by {role} was not logged"


# --- the rules spelled out -----------------------------------------------------------------------


async def test_a_delegate_of_de_votes_for_de_but_not_for_fr(client, clock) -> None:
    w, headers = await committee_with_every_role(client, clock)
    ballot_id = await w.ballot("DIS")
    own = await client.put(
        f"/api/v1/ballots/{ballot_id}/votes/DE", json={"position": "approve"}, headers=headers["delegate_DE"]
    )
    assert own.status_code == 201, own.text
    assert own.json()["on_behalf_of"] == "DE"
    assert own.json()["actor"] == "DE <de@example.org>"
    before = await events(client)
    other = await client.put(
        f"/api/v1/ballots/{ballot_id}/votes/FR",
        json={"position": "disapprove"},
        headers=headers["delegate_DE"],
    )
    assert other.status_code == 403, other.text
    assert other.headers["content-type"].startswith(PROBLEM)
    assert await events(client) == before
    votes = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/votes", headers=ADMIN))
    assert [v["body"] for v in votes] == ["DE"]


async def test_a_commenter_of_de_submits_de_comments_but_cannot_vote(client, clock) -> None:
    w, headers = await committee_with_every_role(client, clock)
    ballot_id = await w.ballot("DIS")
    commenter = headers["commenter_DE"]
    rows = {"comments": [{"clause": "General", "type": "ge", "comment": "Well structured."}]}
    submitted = await client.put(f"/api/v1/ballots/{ballot_id}/comments/DE", json=rows, headers=commenter)
    assert submitted.status_code == 201, submitted.text
    assert [c["reference"] for c in submitted.json()["comments"]] == ["DE-001"]
    log = await ok(
        await client.get(f"/api/v1/events?type=comments.submitted&aggregate=ballot:{ballot_id}", headers=ADMIN)
    )
    assert [(e["actor"], e["on_behalf_of"]) for e in log["items"]] == [
        ("commenter_DE <commenter_de@example.org>", "DE")
    ]

    before = await events(client)
    vote = await client.put(f"/api/v1/ballots/{ballot_id}/votes/DE", json={"position": "approve"}, headers=commenter)
    assert vote.status_code == 403, vote.text
    assert vote.headers["content-type"].startswith(PROBLEM)
    assert await events(client) == before
    assert await ok(await client.get(f"/api/v1/ballots/{ballot_id}/votes", headers=ADMIN)) == []


async def test_the_convenor_records_observations_but_cannot_close(client, clock) -> None:
    w, headers = await committee_with_every_role(client, clock)
    ballot_id = await w.ballot("DIS")
    rows = {"comments": [{"clause": "4", "type": "ed", "comment": "Typo."}]}
    await ok(
        await client.put(f"/api/v1/ballots/{ballot_id}/comments/DE", json=rows, headers=headers["delegate_DE"]),
        201,
    )

    before = await events(client)
    close = await client.post(f"/api/v1/ballots/{ballot_id}/close", headers=headers["convenor"])
    assert close.status_code == 403, close.text
    assert await events(client) == before
    ballot = await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=ADMIN))
    assert ballot["status"] == "open"

    observed = await client.put(
        f"/api/v1/ballots/{ballot_id}/observations/DE-001",
        json={"observation": "Accepted.", "disposition": "accepted"},
        headers=headers["convenor"],
    )
    assert observed.status_code == 200, observed.text
    assert observed.json()["observation"] == "Accepted."
    assert observed.json()["disposition"] == "accepted"


async def test_the_secretary_of_another_committee_cannot_touch_this_one(client, clock) -> None:
    w, headers = await committee_with_every_role(client, clock)
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve", 201)
    stranger = headers["other_secretary"]
    before = await stored_state(client, w, ballot_id)
    writes = [
        (
            "POST",
            "/api/v1/ballots",
            {"project_id": w.project_id, "type": "DIS", "closes_at": iso(clock.now + timedelta(weeks=9))},
        ),
        ("POST", f"/api/v1/ballots/{ballot_id}/extend", {"closes_at": iso(clock.now + timedelta(weeks=14))}),
        ("POST", f"/api/v1/ballots/{ballot_id}/close", None),
        ("POST", f"/api/v1/ballots/{ballot_id}/cancel", {"reason": "Not mine to cancel."}),
        ("PUT", f"/api/v1/committees/{w.committee_id}/members/BR", {"status": "P"}),
        ("DELETE", f"/api/v1/committees/{w.committee_id}/members/FR", None),
        ("POST", f"/api/v1/committees/{w.committee_id}/liaisons", {"code": "CEN/TC 465", "category": "A"}),
        (
            "POST",
            "/api/v1/committees",
            {"reference": "ISO/TC 999/WG 1", "title": "A WG", "parent_id": w.committee_id},
        ),
        (
            "POST",
            "/api/v1/projects",
            {
                "committee_id": w.committee_id,
                "reference": "ISO 99009",
                "title": "Mine now",
                "deliverable": "IS",
                "stage": "20.00",
            },
        ),
    ]
    statuses = []
    for method, path, body in writes:
        response = await client.request(method, path, json=body, headers=stranger)
        statuses.append((method, path, response.status_code))
    assert [s for _, _, s in statuses] == [403] * len(writes), statuses
    assert await stored_state(client, w, ballot_id) == before


async def test_an_administrator_voting_for_a_body_is_recorded_as_acting_on_its_behalf(client, clock) -> None:
    w, _ = await committee_with_every_role(client, clock)
    ballot_id = await w.ballot("DIS")
    me = await ok(await client.get("/api/v1/me", headers=ADMIN))
    label = f"{me['name']} <{me['email']}>" if me["email"] else me["name"]

    vote = await ok(
        await client.put(
            f"/api/v1/ballots/{ballot_id}/votes/DE",
            json={"position": "disapprove", "reasons": "Per DIN's letter."},
            headers=ADMIN,
        ),
        201,
    )
    assert vote["body"] == "DE"
    assert vote["on_behalf_of"] == "DE"
    assert vote["actor"] == label

    listed = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/votes", headers=w.headers["secretary"]))
    assert [(v["body"], v["on_behalf_of"], v["actor"]) for v in listed] == [("DE", "DE", label)]
    log = await ok(await client.get(f"/api/v1/events?type=vote.cast&aggregate=ballot:{ballot_id}", headers=ADMIN))
    assert [(e["actor"], e["on_behalf_of"]) for e in log["items"]] == [(label, "DE")]


# --- reading -------------------------------------------------------------------------------------


async def _ballot_with_votes_and_comments(client, clock) -> tuple[World, dict[str, dict[str, str]], int]:
    """An open DIS: DE, FR and BR (a body outside the committee) each voted and commented; JP did neither."""
    w, headers = await committee_with_every_role(client, clock)
    ballot_id = await w.ballot("DIS")
    for code, position in [("DE", "approve"), ("FR", "disapprove"), ("BR", "approve")]:
        await w.vote(ballot_id, code, position, 201, reasons="Clause 4 is wrong." if position == "disapprove" else None)
        rows = {"comments": [{"clause": "3.1", "type": "te", "comment": f"{code} thinks 3.1 needs work."}]}
        await ok(
            await client.put(f"/api/v1/ballots/{ballot_id}/comments/{code}", json=rows, headers=w.headers[code]),
            201,
        )
    return w, headers, ballot_id


async def _read(client, ballot_id: int, headers: dict[str, str], query: str = "") -> tuple[list[str], list[str]]:
    votes = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/votes", headers=headers))
    comments = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/comments{query}", headers=headers))
    return sorted(v["body"] for v in votes), sorted(c["body"] for c in comments)


async def test_while_open_a_body_reads_only_its_own_votes_and_comments(client, clock) -> None:
    w, headers, ballot_id = await _ballot_with_votes_and_comments(client, clock)
    everyone = (["BR", "DE", "FR"], ["BR", "DE", "FR"])
    expected = {
        "delegate_DE": (["DE"], ["DE"]),
        "delegate_FR": (["FR"], ["FR"]),
        "delegate_BR": (["BR"], ["BR"]),  # outside the committee: still only its own
        "commenter_DE": (["DE"], ["DE"]),
        "secretary": everyone,
        "convenor": everyone,
        "admin": everyone,
        "other_secretary": ([], []),
        "observer": ([], []),
    }
    seen = {role: await _read(client, ballot_id, headers[role]) for role in expected}
    assert seen == expected
    # Asking for another body's comments by name does not get round the rule.
    assert await _read(client, ballot_id, headers["delegate_DE"], "?body=FR") == (["DE"], [])
    assert (await client.get(f"/api/v1/ballots/{ballot_id}/votes", headers=w.headers["JP"])).json() == []
    for path in ["votes", "comments"]:
        anonymous = await client.get(f"/api/v1/ballots/{ballot_id}/{path}")
        assert anonymous.status_code == 401


async def test_after_close_the_committee_members_read_every_vote_and_comment(client, clock) -> None:
    w, headers, ballot_id = await _ballot_with_votes_and_comments(client, clock)
    await w.close(ballot_id)
    everyone = (["BR", "DE", "FR"], ["BR", "DE", "FR"])
    for role in ["delegate_DE", "delegate_FR", "commenter_DE", "secretary", "convenor", "admin"]:
        assert await _read(client, ballot_id, headers[role]) == everyone, role
    # JP, a P-member that neither voted nor commented, sees the compiled result too.
    assert await _read(client, ballot_id, w.headers["JP"]) == everyone
    # The secretary of another committee is not a member of this one.
    assert await _read(client, ballot_id, headers["other_secretary"]) == ([], [])


# --- tokens --------------------------------------------------------------------------------------


async def test_a_person_issues_and_revokes_only_their_own_tokens(client, clock) -> None:
    w, headers = await committee_with_every_role(client, clock)
    de_id = (await ok(await client.get("/api/v1/me", headers=headers["delegate_DE"])))["id"]
    fr_id = (await ok(await client.get("/api/v1/me", headers=headers["delegate_FR"])))["id"]
    fr_token = await ok(await client.post(f"/api/v1/users/{fr_id}/tokens", json={"label": "spare"}, headers=ADMIN), 201)

    before = await events(client)
    for role in ["delegate_DE", "secretary", "convenor", "other_secretary"]:
        issued = await client.post(f"/api/v1/users/{fr_id}/tokens", json={}, headers=headers[role])
        assert issued.status_code == 403, (role, issued.text)
        revoked = await client.delete(f"/api/v1/tokens/{fr_token['id']}", headers=headers[role])
        assert revoked.status_code == 403, (role, revoked.text)
    anonymous = await client.post(f"/api/v1/users/{fr_id}/tokens", json={})
    assert anonymous.status_code == 401
    assert await events(client) == before
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {fr_token['token']}"})).status_code == 200

    # A token mints no tokens, not even its owner's (they would outlive it: #12 item 5); the
    # owner's page session or the admin token does.
    refused = await client.post(f"/api/v1/users/{de_id}/tokens", json={}, headers=headers["delegate_DE"])
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    own = await ok(await client.post(f"/api/v1/users/{de_id}/tokens", json={}, headers=ADMIN), 201)
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {own['token']}"})).json()["id"] == de_id
    assert (await client.delete(f"/api/v1/tokens/{fr_token['id']}", headers=w.headers["FR"])).status_code == 204
    assert (await client.get("/api/v1/me", headers={"Authorization": f"Bearer {fr_token['token']}"})).status_code == 401
