"""Bad input gets a clear 4xx problem (RFC 9457) and writes nothing, on both databases.

Every refusal is checked the same way: the status, `application/problem+json`, a body with
`status`, `title` and a `detail` that is a sentence for a person (not the bare status phrase),
an event log that did not grow, and where it matters the project, the ballot, its votes and its
comments exactly as they were.
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from http import HTTPStatus
from typing import Any

from tests.world import ADMIN, World, bearer, iso, ok

PROBLEM = "application/problem+json"
APP_LIMIT = 2_000_000
COMMENTS_LIMIT = 20_000_000
_UNSET: Any = object()

Watch = tuple[int | None, int | None]


# --- helpers -------------------------------------------------------------------------------------


async def event_count(client) -> int:
    log = await ok(await client.get("/api/v1/events?limit=1000", headers=ADMIN))
    assert len(log["items"]) < 1000, "the event log outgrew the counting page"
    return len(log["items"])


async def state(client, project_id: int | None = None, ballot_id: int | None = None) -> dict[str, Any]:
    """What a refused request must leave untouched, as the administrator reads it."""
    seen: dict[str, Any] = {"events": await event_count(client)}
    if project_id is not None:
        seen["project"] = await ok(await client.get(f"/api/v1/projects/{project_id}", headers=ADMIN))
        seen["history"] = await ok(await client.get(f"/api/v1/projects/{project_id}/history", headers=ADMIN))
    if ballot_id is not None:
        seen["ballot"] = await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=ADMIN))
        seen["votes"] = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/votes", headers=ADMIN))
        seen["comments"] = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/comments", headers=ADMIN))
    return seen


def _assert_status(response, status: int | range) -> None:
    expected = [status] if isinstance(status, int) else status
    shown = status if isinstance(status, int) else f"{status.start}..{status.stop - 1}"
    assert response.status_code in expected, f"expected {shown}, got {response.status_code}: {response.text[:300]}"


def assert_problem(response, status: int | range, *mentions: str) -> dict[str, Any]:
    """A problem+json body whose detail is a sentence a person can act on."""
    _assert_status(response, status)
    content_type = response.headers.get("content-type", "")
    assert content_type.startswith(PROBLEM), f"content-type {content_type!r}: {response.text[:200]}"
    body = response.json()
    assert isinstance(body, dict), body
    assert body["status"] == response.status_code
    assert isinstance(body["title"], str) and body["title"].strip(), body
    detail = body["detail"]
    assert isinstance(detail, str), body
    bare = {body["title"].strip().lower(), HTTPStatus(response.status_code).phrase.lower()}
    words = re.findall(r"[^\W\d_]+", detail)
    assert len(words) >= 3 and detail.strip().rstrip(".").lower() not in bare, (
        f"detail is not a sentence for a person: {detail!r}"
    )
    for mention in mentions:
        assert mention in detail, f"{mention!r} not in detail {detail!r}"
    return body


async def refused(
    client,
    status: int | range,
    method: str,
    path: str,
    *,
    headers: dict[str, str],
    json: Any = _UNSET,
    content: bytes | None = None,
    watch: Watch = (None, None),
    mentions: tuple[str, ...] = (),
) -> dict[str, Any]:
    """Send a request that must be refused; check the refusal and that nothing was written.

    `watch` names the (project, ballot) whose stored state must come out unchanged; the event
    log is always watched.
    """
    before = await state(client, *watch)
    kwargs: dict[str, Any] = {"headers": headers}
    if json is not _UNSET:
        kwargs["json"] = json
    if content is not None:
        kwargs["content"] = content
        kwargs["headers"] = {**headers, "content-type": "application/json"}
    response = await client.request(method, path, **kwargs)
    after = await state(client, *watch)
    _assert_status(response, status)
    assert after == before, "a refused request changed the stored state"
    return assert_problem(response, status, *mentions)


async def dis_world(client, clock, **build: Any) -> tuple[World, int, Watch]:
    """DE, FR, JP P-members, SE an O-member, BR outside the committee; an open DIS ballot."""
    w = await World(client, clock).build(p=["DE", "FR", "JP"], o=["SE"], others=["BR"], **build)
    ballot_id = await w.ballot("DIS")
    return w, ballot_id, (w.project_id, ballot_id)


def votes_of(ballot_id: int, code: str) -> str:
    return f"/api/v1/ballots/{ballot_id}/votes/{code}"


def comments_of(ballot_id: int, code: str) -> str:
    return f"/api/v1/ballots/{ballot_id}/comments/{code}"


def in_weeks(clock, weeks: float) -> str:
    return iso(clock.now + timedelta(weeks=weeks))


# --- votes: for whom, when, what -----------------------------------------------------------------


async def test_a_vote_for_an_unknown_member_body_is_not_found(client, clock) -> None:
    _, ballot_id, at = await dis_world(client, clock)
    await refused(
        client,
        404,
        "PUT",
        votes_of(ballot_id, "ZZ"),
        headers=ADMIN,
        json={"position": "approve"},
        watch=at,
        mentions=("ZZ",),
    )


async def test_a_delegate_cannot_vote_for_another_body(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    await refused(
        client,
        403,
        "PUT",
        votes_of(ballot_id, "FR"),
        headers=w.headers["DE"],
        json={"position": "approve"},
        watch=at,
        mentions=("FR",),
    )


async def test_a_vote_after_the_deadline_is_refused_while_the_ballot_is_still_open(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    await w.vote(ballot_id, "DE", "approve", 201)
    ballot = await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=ADMIN))
    clock.now = datetime.fromisoformat(ballot["closes_at"]) + timedelta(seconds=1)

    late = {"position": "disapprove", "reasons": "Changed our mind."}
    body = await refused(client, 409, "PUT", votes_of(ballot_id, "DE"), headers=w.headers["DE"], json=late, watch=at)
    assert "no longer accepted" in body["detail"]
    first = {"position": "approve"}
    await refused(client, 409, "PUT", votes_of(ballot_id, "FR"), headers=w.headers["FR"], json=first, watch=at)
    comments = {"comments": [{"comment": "Too late?"}]}
    await refused(client, 409, "PUT", comments_of(ballot_id, "FR"), headers=w.headers["FR"], json=comments, watch=at)

    ballot = await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=ADMIN))
    assert ballot["status"] == "open"
    assert ballot["deadline_passed"] is True
    votes = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/votes", headers=ADMIN))
    assert [(v["body"], v["position"]) for v in votes] == [("DE", "approve")]


async def test_a_position_the_ballot_type_does_not_offer_is_refused(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    for position in ["confirm", "approve_with_comments", "revise", "withdraw"]:
        await refused(
            client,
            422,
            "PUT",
            votes_of(ballot_id, "DE"),
            headers=w.headers["DE"],
            json={"position": position},
            watch=at,
            mentions=(position,),
        )


async def test_participation_and_experts_are_refused_outside_an_np_ballot(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    for extra in [{"participate": True}, {"participate": False}, {"experts": [{"name": "Dr. Expert"}]}]:
        await refused(
            client,
            422,
            "PUT",
            votes_of(ballot_id, "DE"),
            headers=w.headers["DE"],
            json={"position": "approve", **extra},
            watch=at,
        )


async def test_a_vote_on_a_draft_ballot_is_a_conflict(client, clock) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    ballot_id = await w.ballot("DIS", open=False)
    at = (w.project_id, ballot_id)
    vote = {"position": "approve"}
    body = await refused(client, 409, "PUT", votes_of(ballot_id, "DE"), headers=w.headers["DE"], json=vote, watch=at)
    assert "not open" in body["detail"]
    comments = {"comments": [{"comment": "Early bird."}]}
    await refused(client, 409, "PUT", comments_of(ballot_id, "DE"), headers=w.headers["DE"], json=comments, watch=at)


async def test_an_unknown_ballot_is_not_found(client, clock) -> None:
    w, _, _ = await dis_world(client, clock)
    await refused(client, 404, "GET", "/api/v1/ballots/9999", headers=ADMIN, mentions=("9999",))
    vote = {"position": "approve"}
    await refused(client, 404, "PUT", votes_of(9999, "DE"), headers=w.headers["DE"], json=vote, mentions=("9999",))
    await refused(client, 404, "POST", "/api/v1/ballots/9999/open", headers=w.headers["secretary"])
    await refused(client, 404, "GET", "/api/v1/ballots/9999/comments", headers=ADMIN)


# --- malformed bodies ----------------------------------------------------------------------------


async def test_a_malformed_json_body_is_refused(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    for content in [b'{"position": ', b"{position: approve}", b"{'position': 'approve'}", b"approve"]:
        await refused(client, 400, "PUT", votes_of(ballot_id, "DE"), headers=w.headers["DE"], content=content, watch=at)


async def test_a_json_array_instead_of_an_object_is_refused(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    await refused(client, 400, "PUT", votes_of(ballot_id, "DE"), headers=w.headers["DE"], json=["approve"], watch=at)
    ballot = {"project_id": w.project_id, "type": "DIS", "closes_at": in_weeks(clock, 12)}
    await refused(client, 400, "POST", "/api/v1/ballots", headers=w.headers["secretary"], json=[ballot], watch=at)


async def test_an_empty_body_says_that_the_body_is_missing(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    body = await refused(client, 400, "PUT", votes_of(ballot_id, "DE"), headers=w.headers["DE"], content=b"", watch=at)
    detail = body["detail"].lower()
    assert any(word in detail for word in ("body", "json", "empty", "missing")), body["detail"]


async def test_oversized_text_fields_are_refused(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    de = w.headers["DE"]
    vote = {"position": "disapprove", "reasons": "x" * 20_001}
    await refused(client, 400, "PUT", votes_of(ballot_id, "DE"), headers=de, json=vote, watch=at, mentions=("reasons",))
    for field, size in [("comment", 20_001), ("proposed_change", 20_001), ("clause", 201), ("line", 101)]:
        rows = {"comments": [{"comment": "Fine.", field: "y" * size}]}
        await refused(client, 400, "PUT", comments_of(ballot_id, "DE"), headers=de, json=rows, watch=at)


async def test_the_largest_valid_texts_are_accepted_in_full(client, clock) -> None:
    w, ballot_id, _ = await dis_world(client, clock)
    vote = await ok(await w.vote(ballot_id, "DE", "disapprove", reasons="r" * 20_000), 201)
    assert len(vote["reasons"]) == 20_000
    row = {"comment": "c" * 20_000, "proposed_change": "p" * 20_000, "clause": "3" * 200, "line": "1" * 100}
    comments = await ok(
        await client.put(comments_of(ballot_id, "DE"), json={"comments": [row]}, headers=w.headers["DE"]), 201
    )
    assert len(comments["comments"][0]["comment"]) == 20_000


async def test_a_person_with_the_longest_allowed_name_and_email_can_vote_and_comment(client, clock) -> None:
    _, ballot_id, _ = await dis_world(client, clock)
    name = "N" * 200
    email = "e" * 64 + "@" + "d" * 189  # 254 characters, the schema's maximum
    roles = [{"role": "delegate", "member_body": "FR"}]
    user = await ok(
        await client.post("/api/v1/users", json={"name": name, "email": email, "roles": roles}, headers=ADMIN),
        201,
    )
    token = await ok(await client.post(f"/api/v1/users/{user['id']}/tokens", json={}, headers=ADMIN), 201)
    headers = bearer(token["token"])
    vote = await client.put(votes_of(ballot_id, "FR"), json={"position": "approve"}, headers=headers)
    assert vote.status_code == 201, vote.text[:300]
    assert vote.json()["actor"].startswith(name)
    rows = {"comments": [{"comment": "Ok."}]}
    comments = await client.put(comments_of(ballot_id, "FR"), json=rows, headers=headers)
    assert comments.status_code == 201, comments.text[:300]


async def test_unknown_fields_are_refused_not_ignored(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    de = w.headers["DE"]
    vote = {"position": "approve", "positon": "disapprove"}
    await refused(client, 400, "PUT", votes_of(ballot_id, "DE"), headers=de, json=vote, watch=at, mentions=("positon",))
    rows = {"comments": [{"comment": "Fine.", "severity": "high"}]}
    await refused(
        client,
        400,
        "PUT",
        comments_of(ballot_id, "DE"),
        headers=de,
        json=rows,
        watch=at,
        mentions=("severity",),
    )
    ballot = {"project_id": w.project_id, "type": "DIS", "closes_at": in_weeks(clock, 12), "length": 12}
    await refused(
        client,
        400,
        "POST",
        "/api/v1/ballots",
        headers=w.headers["secretary"],
        json=ballot,
        watch=at,
        mentions=("length",),
    )


async def test_values_of_the_wrong_type_are_refused(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    good = {"project_id": w.project_id, "type": "DIS", "closes_at": in_weeks(clock, 12)}
    for change in [
        {"closes_at": "tomorrow"},
        {"project_id": "one"},
        {"project_id": None},
        {"type": "DISS"},
        {"rulebook": "ansi"},
    ]:
        await refused(
            client,
            400,
            "POST",
            "/api/v1/ballots",
            headers=w.headers["secretary"],
            json={**good, **change},
            watch=at,
        )
    for vote in [{"position": 1}, {"position": "yes"}, {"position": "approve", "reasons": ["a", "b"]}]:
        await refused(client, 400, "PUT", votes_of(ballot_id, "DE"), headers=w.headers["DE"], json=vote, watch=at)


async def test_missing_required_fields_are_refused(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    sec, de = w.headers["secretary"], w.headers["DE"]
    no_deadline = {"project_id": w.project_id, "type": "DIS"}
    await refused(
        client,
        400,
        "POST",
        "/api/v1/ballots",
        headers=sec,
        json=no_deadline,
        watch=at,
        mentions=("closes_at",),
    )
    no_position = {"reasons": "No position."}
    await refused(
        client,
        400,
        "PUT",
        votes_of(ballot_id, "DE"),
        headers=de,
        json=no_position,
        watch=at,
        mentions=("position",),
    )
    no_text = {"comments": [{"clause": "3.1"}]}
    await refused(client, 400, "PUT", comments_of(ballot_id, "DE"), headers=de, json=no_text, watch=at)
    no_reason = {"closes_at": in_weeks(clock, 1)}
    await refused(client, 400, "POST", f"/api/v1/ballots/{ballot_id}/reopen", headers=sec, json=no_reason, watch=at)


async def test_a_closing_time_without_a_time_zone_is_refused(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    sec = w.headers["secretary"]
    naive = (clock.now + timedelta(weeks=12)).replace(tzinfo=None).isoformat()
    ballot = {"project_id": w.project_id, "type": "DIS", "closes_at": naive}
    await refused(client, range(400, 500), "POST", "/api/v1/ballots", headers=sec, json=ballot, watch=at)
    extend = f"/api/v1/ballots/{ballot_id}/extend"
    await refused(client, range(400, 500), "POST", extend, headers=sec, json={"closes_at": naive}, watch=at)


async def test_a_closing_time_in_the_past_is_refused(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    sec = w.headers["secretary"]
    past = iso(clock.now - timedelta(days=1))
    for closes_at in [past, iso(clock.now)]:
        ballot = {"project_id": w.project_id, "type": "DIS", "closes_at": closes_at}
        await refused(client, 422, "POST", "/api/v1/ballots", headers=sec, json=ballot, watch=at)
    extend = f"/api/v1/ballots/{ballot_id}/extend"
    await refused(client, 422, "POST", extend, headers=sec, json={"closes_at": past}, watch=at)


# --- comments ------------------------------------------------------------------------------------


async def test_an_empty_comment_is_refused(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    rows = {"comments": [{"clause": "3.1", "comment": ""}]}
    await refused(client, 400, "PUT", comments_of(ballot_id, "DE"), headers=w.headers["DE"], json=rows, watch=at)


async def test_a_comment_of_only_white_space_is_refused_like_an_empty_one(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    rows = {"comments": [{"clause": "3.1", "comment": " \n\t "}]}
    await refused(
        client,
        range(400, 500),
        "PUT",
        comments_of(ballot_id, "DE"),
        headers=w.headers["DE"],
        json=rows,
        watch=at,
    )


async def test_an_unknown_comment_type_is_refused(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    rows = {"comments": [{"comment": "Odd type.", "type": "xx"}]}
    await refused(client, 400, "PUT", comments_of(ballot_id, "DE"), headers=w.headers["DE"], json=rows, watch=at)


async def test_comments_from_a_body_that_does_not_take_part_are_forbidden(client, clock) -> None:
    # A CD ballot is the committee's: BR is a member body of the installation but not of the committee.
    w = await World(client, clock).build(p=["DE", "FR"], o=["SE"], others=["BR"], stage="30.00")
    ballot_id = await w.ballot("CD", weeks=8)
    at = (w.project_id, ballot_id)
    br = w.headers["BR"]
    rows = {"comments": [{"comment": "We are not in this committee."}]}
    await refused(client, 403, "PUT", comments_of(ballot_id, "BR"), headers=br, json=rows, watch=at, mentions=("BR",))
    await refused(client, 403, "PUT", votes_of(ballot_id, "BR"), headers=br, json={"position": "approve"}, watch=at)


# --- authentication ------------------------------------------------------------------------------


async def test_a_request_without_a_token_is_not_authenticated(client, clock) -> None:
    _, ballot_id, at = await dis_world(client, clock)
    vote = {"position": "approve"}
    for headers in [
        {},
        {"Authorization": ""},
        {"Authorization": "Bearer "},
        {"Authorization": "Basic ZGU6ZGU="},
    ]:
        await refused(client, 401, "PUT", votes_of(ballot_id, "DE"), headers=headers, json=vote, watch=at)
    await refused(client, 401, "GET", f"/api/v1/ballots/{ballot_id}", headers={})


async def test_an_unknown_token_is_not_authenticated(client, clock) -> None:
    _, ballot_id, at = await dis_world(client, clock)
    vote = {"position": "approve"}
    for token in ["bd_not-a-real-token", "x" * 5000]:
        await refused(client, 401, "PUT", votes_of(ballot_id, "DE"), headers=bearer(token), json=vote, watch=at)


async def test_a_revoked_token_is_not_authenticated(client, clock) -> None:
    _, ballot_id, at = await dis_world(client, clock)
    roles = [{"role": "delegate", "member_body": "FR"}]
    user = await ok(
        await client.post(
            "/api/v1/users",
            json={"name": "Revoked", "email": "revoked@example.org", "roles": roles},
            headers=ADMIN,
        ),
        201,
    )
    token = await ok(await client.post(f"/api/v1/users/{user['id']}/tokens", json={}, headers=ADMIN), 201)
    headers = bearer(token["token"])
    assert (await client.get("/api/v1/me", headers=headers)).status_code == 200
    revoke = await client.delete(f"/api/v1/tokens/{token['id']}", headers=ADMIN)
    assert revoke.status_code == 204, revoke.text
    vote = {"position": "approve"}
    body = await refused(client, 401, "PUT", votes_of(ballot_id, "FR"), headers=headers, json=vote, watch=at)
    assert "revoked" in body["detail"]
    await refused(client, 401, "GET", "/api/v1/me", headers=headers)


# --- routes, methods and sizes -------------------------------------------------------------------


async def test_an_unknown_route_is_a_not_found_problem(client, clock) -> None:
    await World(client, clock).build(p=["DE"])
    await refused(client, 404, "GET", "/api/v1/no-such-thing", headers=ADMIN)
    await refused(client, 404, "GET", "/api/v2/ballots", headers={})


async def test_a_wrong_method_is_a_method_not_allowed_problem(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    response = await client.delete(f"/api/v1/ballots/{ballot_id}", headers=ADMIN)
    assert response.status_code == 405, response.text
    assert "GET" in response.headers.get("allow", ""), response.headers
    await refused(client, 405, "DELETE", f"/api/v1/ballots/{ballot_id}", headers=ADMIN, watch=at)
    vote = {"position": "approve"}
    await refused(client, 405, "POST", votes_of(ballot_id, "DE"), headers=w.headers["DE"], json=vote, watch=at)


async def test_a_body_larger_than_the_limit_is_too_large(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    vote = {"position": "disapprove", "reasons": "x" * (APP_LIMIT + 1)}
    await refused(client, 413, "PUT", votes_of(ballot_id, "DE"), headers=w.headers["DE"], json=vote, watch=at)
    project = {
        "committee_id": w.committee_id,
        "reference": "ISO 99002",
        "title": "t" * (APP_LIMIT + 1),
        "deliverable": "IS",
        "stage": "40.00",
    }
    await refused(client, 413, "POST", "/api/v1/projects", headers=w.headers["secretary"], json=project, watch=at)


async def test_a_comment_set_may_be_larger_than_other_bodies_up_to_its_own_limit(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    rows = [{"clause": f"{i}.1", "comment": "c" * 17_000} for i in range(1, 151)]  # about 2.5 MB
    big = await client.put(comments_of(ballot_id, "DE"), json={"comments": rows}, headers=w.headers["DE"])
    assert big.status_code == 201, big.text[:300]
    assert len(big.json()["comments"]) == 150
    huge = {"comments": [{"comment": "h" * 20_000}] * (COMMENTS_LIMIT // 20_000 + 50)}  # > 20 MB, every row valid
    await refused(client, 413, "PUT", comments_of(ballot_id, "DE"), headers=w.headers["DE"], json=huge, watch=at)
    kept = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/comments?body=DE", headers=ADMIN))
    assert len(kept) == 150


# --- ballot life cycle ---------------------------------------------------------------------------


async def test_opening_a_ballot_twice_is_a_conflict(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    await refused(client, 409, "POST", f"/api/v1/ballots/{ballot_id}/open", headers=w.headers["secretary"], watch=at)


async def test_closing_a_closed_ballot_is_a_conflict(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    await w.vote(ballot_id, "DE", "approve", 201)
    await w.close(ballot_id)
    await refused(client, 409, "POST", f"/api/v1/ballots/{ballot_id}/close", headers=w.headers["secretary"], watch=at)
    vote = {"position": "approve"}
    await refused(client, 409, "PUT", votes_of(ballot_id, "FR"), headers=w.headers["FR"], json=vote, watch=at)


async def test_transitions_that_do_not_apply_to_the_ballot_status_are_conflicts(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    sec = w.headers["secretary"]
    reopen = {"closes_at": in_weeks(clock, 1), "reason": "Late vote."}
    await refused(client, 409, "POST", f"/api/v1/ballots/{ballot_id}/reopen", headers=sec, json=reopen, watch=at)
    await w.close(ballot_id)
    cancel = {"reason": "Too late to cancel."}
    await refused(client, 409, "POST", f"/api/v1/ballots/{ballot_id}/cancel", headers=sec, json=cancel, watch=at)
    extend = {"closes_at": in_weeks(clock, 20)}
    await refused(client, 409, "POST", f"/api/v1/ballots/{ballot_id}/extend", headers=sec, json=extend, watch=at)

    draft_id = await w.ballot("DIS", open=False)
    await ok(await client.post(f"/api/v1/ballots/{draft_id}/cancel", json={"reason": "Wrong draft."}, headers=sec))
    at = (w.project_id, draft_id)
    await refused(client, 409, "POST", f"/api/v1/ballots/{draft_id}/open", headers=sec, watch=at)
    vote = {"position": "approve"}
    await refused(client, 409, "PUT", votes_of(draft_id, "DE"), headers=w.headers["DE"], json=vote, watch=at)


async def test_a_late_vote_is_told_truthfully_why_the_ballot_takes_no_more_votes(client, clock) -> None:
    w, ballot_id, at = await dis_world(client, clock)
    sec = w.headers["secretary"]
    await w.close(ballot_id)
    vote = {"position": "approve"}
    body = await refused(client, 409, "PUT", votes_of(ballot_id, "FR"), headers=w.headers["FR"], json=vote, watch=at)
    # Closed early by the secretary: the scheduled deadline is still weeks ahead, so quoting it as
    # the moment the ballot closed is false.
    scheduled = (await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=ADMIN)))["closes_at"]
    assert scheduled[:10] not in body["detail"], body["detail"]

    cancelled_id = await w.ballot("DIS", open=False)
    await ok(await client.post(f"/api/v1/ballots/{cancelled_id}/cancel", json={"reason": "Wrong draft."}, headers=sec))
    at = (w.project_id, cancelled_id)
    body = await refused(client, 409, "PUT", votes_of(cancelled_id, "DE"), headers=w.headers["DE"], json=vote, watch=at)
    assert "cancel" in body["detail"], body["detail"]


async def test_a_dis_on_a_project_at_the_wrong_stage_does_not_open(client, clock) -> None:
    w = await World(client, clock).build(p=["DE", "FR"], stage="30.00")
    ballot_id = await w.ballot("DIS", open=False)
    at = (w.project_id, ballot_id)
    opening = f"/api/v1/ballots/{ballot_id}/open"
    await refused(client, 409, "POST", opening, headers=w.headers["secretary"], watch=at, mentions=("30.00", "40.00"))
    ballot = await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=ADMIN))
    assert ballot["status"] == "draft"
    project = await ok(await client.get(f"/api/v1/projects/{w.project_id}", headers=ADMIN))
    assert project["stage"] == "30.00"


async def test_an_fdis_on_a_technical_specification_is_refused(client, clock) -> None:
    w = await World(client, clock).build(p=["DE", "FR"], deliverable="TS", stage="50.00", reference="ISO/TS 9901")
    sec = w.headers["secretary"]
    body = {"project_id": w.project_id, "type": "FDIS", "closes_at": in_weeks(clock, 8)}
    before = await state(client, w.project_id)
    created = await client.post("/api/v1/ballots", json=body, headers=sec)
    if created.status_code != 201:
        # Refused straight away: the earliest possible moment, and just as good as at opening.
        assert await state(client, w.project_id) == before
        assert_problem(created, 409, "TS")
        return
    ballot_id = created.json()["id"]
    opening = f"/api/v1/ballots/{ballot_id}/open"
    await refused(client, 409, "POST", opening, headers=sec, watch=(w.project_id, ballot_id), mentions=("TS",))
    project = await ok(await client.get(f"/api/v1/projects/{w.project_id}", headers=ADMIN))
    assert project["stage"] == "50.00"


async def test_a_decision_the_result_does_not_allow_is_a_conflict(client, clock) -> None:
    w = await World(client, clock).build(p=["DE", "FR", "JP"])
    ballot_id = await w.ballot("DIS")
    at = (w.project_id, ballot_id)
    await w.vote(ballot_id, "DE", "disapprove", 201, reasons="No.")
    await w.vote(ballot_id, "FR", "disapprove", 201, reasons="No.")
    await w.vote(ballot_id, "JP", "approve", 201)
    await w.close(ballot_id)
    decisions = f"/api/v1/projects/{w.project_id}/decisions"
    for code in ["40.99", "60.00", "50.99"]:
        decision = {"decision": code, "reason": "Let us go on anyway."}
        await refused(
            client,
            409,
            "POST",
            decisions,
            headers=w.headers["secretary"],
            json=decision,
            watch=at,
            mentions=(code,),
        )
    ballot = await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=ADMIN))
    assert ballot["decision"] is None
    project = await ok(await client.get(f"/api/v1/projects/{w.project_id}", headers=ADMIN))
    assert project["stage"] == "40.60"


# --- directory -----------------------------------------------------------------------------------


async def test_a_duplicate_member_body_is_a_conflict(client, clock) -> None:
    await World(client, clock).build(p=["DE"])
    body = {"code": "DE", "acronym": "DIN", "name": "Deutsches Institut für Normung"}
    await refused(client, 409, "POST", "/api/v1/member-bodies", headers=ADMIN, json=body, mentions=("DE",))
    bodies = await ok(await client.get("/api/v1/member-bodies", headers=ADMIN))
    assert [(b["code"], b["acronym"]) for b in bodies] == [("DE", "DESI")]


async def test_a_duplicate_committee_reference_is_a_conflict(client, clock) -> None:
    w = await World(client, clock).build(p=["DE"])
    for reference in ["ISO/TC 999", "  ISO/TC 999  "]:
        body = {"reference": reference, "title": "Testing again"}
        await refused(client, 409, "POST", "/api/v1/committees", headers=ADMIN, json=body, mentions=("ISO/TC 999",))
    committees = await ok(await client.get("/api/v1/committees", headers=ADMIN))
    assert [c["id"] for c in committees] == [w.committee_id]


async def test_a_duplicate_project_reference_or_user_email_is_a_conflict(client, clock) -> None:
    w = await World(client, clock).build(p=["DE"])
    project = {
        "committee_id": w.committee_id,
        "reference": " ISO 99001 ",
        "title": "Again",
        "deliverable": "IS",
        "stage": "20.00",
    }
    await refused(
        client,
        409,
        "POST",
        "/api/v1/projects",
        headers=w.headers["secretary"],
        json=project,
        watch=(w.project_id, None),
        mentions=("ISO 99001",),
    )
    user = {"name": "Copy", "email": "DE@Example.org", "roles": [{"role": "delegate", "member_body": "DE"}]}
    await refused(client, 409, "POST", "/api/v1/users", headers=ADMIN, json=user, mentions=("de@example.org",))


# --- idempotency ---------------------------------------------------------------------------------


async def test_a_repeated_post_with_the_same_idempotency_key_replays_the_first_response(client, clock) -> None:
    w = await World(client, clock).build(p=["DE"])
    sec = {**w.headers["secretary"], "Idempotency-Key": "create-iso-99002"}
    body = {
        "committee_id": w.committee_id,
        "reference": "ISO 99002",
        "title": "Twice",
        "deliverable": "IS",
        "stage": "20.00",
    }
    first = await client.post("/api/v1/projects", json=body, headers=sec)
    assert first.status_code == 201, first.text
    assert "idempotent-replayed" not in first.headers
    events_after_first = await event_count(client)

    second = await client.post("/api/v1/projects", json=body, headers=sec)
    assert second.status_code == first.status_code, second.text
    assert second.json() == first.json()
    assert second.headers.get("idempotent-replayed") == "true"
    assert await event_count(client) == events_after_first

    created = await ok(await client.get("/api/v1/events?type=project.created&limit=1000", headers=ADMIN))
    assert [e["payload"]["reference"] for e in created["items"]] == ["ISO 99001", "ISO 99002"]
    missing = await client.get(f"/api/v1/projects/{first.json()['id'] + 1}", headers=ADMIN)
    assert missing.status_code == 404

    other = {**body, "reference": "ISO 99003"}
    await refused(client, 422, "POST", "/api/v1/projects", headers=sec, json=other, watch=(first.json()["id"], None))
    created = await ok(await client.get("/api/v1/events?type=project.created&limit=1000", headers=ADMIN))
    assert [e["payload"]["reference"] for e in created["items"]] == ["ISO 99001", "ISO 99002"]


# --- never a 5xx ---------------------------------------------------------------------------------


async def test_no_garbage_request_ever_gets_a_server_error(client, clock) -> None:
    w, b, _ = await dis_world(client, clock)
    pid, cid = w.project_id, w.committee_id
    future = in_weeks(clock, 12)
    project = {"committee_id": cid, "reference": "ISO 2", "title": "t", "deliverable": "IS", "stage": "40.00"}
    ballot = {"project_id": pid, "type": "DIS", "closes_at": future}
    big = 2**63
    garbage: list[tuple[str, str, Any]] = [
        # Identifiers no database column can hold, and identifiers that are not numbers.
        ("GET", "/api/v1/ballots/99999999999999999999", None),
        ("GET", f"/api/v1/ballots/{big}", None),
        ("GET", f"/api/v1/ballots/{2**31}", None),
        ("GET", "/api/v1/ballots/-1", None),
        ("GET", "/api/v1/ballots/abc", None),
        ("GET", f"/api/v1/projects/{2**40}", None),
        ("GET", f"/api/v1/committees/{2**40}", None),
        ("POST", f"/api/v1/ballots/{big}/close", None),
        ("PUT", f"/api/v1/ballots/{2**31}/votes/DE", {"position": "approve"}),
        ("POST", "/api/v1/ballots", {**ballot, "project_id": big}),
        ("POST", "/api/v1/projects", {**project, "committee_id": big}),
        ("POST", f"/api/v1/projects/{pid}/decisions", {"decision": "40.99", "reason": "x", "ballot_id": big}),
        ("POST", "/api/v1/committees", {"reference": "ISO/TC 1", "title": "x", "parent_id": big}),
        ("PUT", f"/api/v1/committees/{big}/members/DE", {"status": "P"}),
        (
            "POST",
            "/api/v1/users",
            {"name": "x", "email": "x@example.org", "roles": [{"role": "secretary", "committee_id": big}]},
        ),
        ("POST", f"/api/v1/users/{big}/tokens", {}),
        ("DELETE", f"/api/v1/tokens/{big}", None),
        # Query strings.
        ("GET", "/api/v1/ballots?status=bogus", None),
        ("GET", f"/api/v1/ballots?committee_id={big}", None),
        ("GET", "/api/v1/events?limit=0", None),
        ("GET", "/api/v1/events?limit=abc", None),
        ("GET", "/api/v1/events?after=-5", None),
        ("GET", f"/api/v1/events?after={big}", None),
        ("GET", "/api/v1/events?aggregate=%00", None),
        ("GET", f"/api/v1/ballots/{b}/comments?order=sideways", None),
        ("GET", f"/api/v1/ballots/{b}/comments?body=%00", None),
        ("DELETE", f"/api/v1/committees/{cid}/liaisons", None),
        ("DELETE", f"/api/v1/committees/{cid}/liaisons?code=%00", None),
        # Bodies that are not what the route expects.
        ("PUT", f"/api/v1/ballots/{b}/votes/DE", b"[" * 10_000 + b"]" * 10_000),
        ("PUT", f"/api/v1/ballots/{b}/votes/DE", b'{"position": "approve"' + b', "a": {' * 5_000),
        ("PUT", f"/api/v1/ballots/{b}/votes/DE", b"\xff\xfe\x00garbage"),
        ("PUT", f"/api/v1/ballots/{b}/votes/DE", b'{"position": "\\ud800"}'),
        ("PUT", f"/api/v1/ballots/{b}/votes/DE", b""),
        ("PUT", f"/api/v1/ballots/{b}/votes/DE", b"null"),
        ("PUT", f"/api/v1/ballots/{b}/votes/DE", {"position": None}),
        ("PUT", f"/api/v1/ballots/{b}/votes/DE", {"position": "approve", "experts": "many"}),
        ("PUT", f"/api/v1/ballots/{b}/votes/DE", {"position": "approve", "participate": "yes"}),
        ("PUT", f"/api/v1/ballots/{b}/comments/DE", {"comments": "all of them"}),
        ("PUT", f"/api/v1/ballots/{b}/comments/DE", {"comments": [{"comment": "x"}] * 5_001}),
        ("PUT", f"/api/v1/ballots/{b}/observations/DE-001", {"observation": 5}),
        ("POST", f"/api/v1/ballots/{b}/cancel", b"[1, 2, 3]"),
        ("POST", "/api/v1/ballots", {**ballot, "closes_at": "2027-02-30T00:00:00Z"}),
        ("POST", "/api/v1/ballots", {**ballot, "closes_at": "9999-12-31T23:59:59-12:00"}),
        ("POST", "/api/v1/ballots", {**ballot, "closes_at": "0001-01-01T00:00:00+14:00"}),
        ("POST", f"/api/v1/ballots/{b}/extend", {"closes_at": "9999-12-31T23:59:59-12:00"}),
        ("POST", "/api/v1/projects", {**project, "stage": "99.99"}),
        ("POST", "/api/v1/member-bodies", {"code": "de", "acronym": "DIN", "name": "lower case"}),
        ("POST", "/api/v1/member-bodies", {"code": "**", "acronym": "", "name": ""}),
        ("POST", "/api/v1/users", {"name": "x", "email": "not-an-email"}),
        ("POST", "/api/v1/users", {"name": "x", "email": "y@example.org", "roles": [{"role": "emperor"}]}),
        # NUL characters, which no text column should store.
        ("PUT", f"/api/v1/ballots/{b}/votes/D%00", {"position": "approve"}),
        ("PUT", f"/api/v1/ballots/{b}/votes/{'X' * 500}", {"position": "approve"}),
        ("PUT", f"/api/v1/ballots/{b}/observations/%00", {"observation": "x"}),
        ("PUT", f"/api/v1/committees/{cid}/members/%00", {"status": "P"}),
        ("PUT", f"/api/v1/ballots/{b}/votes/DE", {"position": "disapprove", "reasons": "a\u0000b"}),
        ("PUT", f"/api/v1/ballots/{b}/comments/DE", {"comments": [{"comment": "a\u0000b"}]}),
        ("POST", "/api/v1/projects", {**project, "reference": "ISO\u0000 3", "title": "t\u0000"}),
    ]
    server_errors = []
    for method, path, body in garbage:
        if isinstance(body, bytes):
            headers = {**ADMIN, "content-type": "application/json"}
            response = await client.request(method, path, content=body, headers=headers)
        elif body is None:
            response = await client.request(method, path, headers=ADMIN)
        else:
            response = await client.request(method, path, json=body, headers=ADMIN)
        if response.status_code >= 500:
            server_errors.append(f"{method} {path[:60]} {str(body)[:60]!r} -> {response.status_code}")
        elif response.status_code >= 400:
            content_type = response.headers.get("content-type", "")
            assert content_type.startswith(PROBLEM), (method, path, response.text[:200])
    assert server_errors == [], "server errors:\n" + "\n".join(server_errors)
