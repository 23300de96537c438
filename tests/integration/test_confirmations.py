"""Issue #13 item 1: the controls that cannot be undone ask first, and the server enforces it.

A form posted without the confirmation page's field does nothing but show that page; the API
keeps its behaviour (a client confirms by calling).
"""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

from tests.integration.test_web_pages import committee, sign_in, token
from tests.world import ADMIN, ok


async def _status(client: Any, ballot_id: int) -> str:
    return str((await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=ADMIN)))["status"])


async def _events(client: Any, type_: str) -> list[dict[str, Any]]:
    found = await ok(await client.get(f"/api/v1/events?type={type_}", headers=ADMIN))
    return list(found["items"])


def _controls(html: str) -> str:
    return html.split('id="controls-title"')[1].split("</section>")[0]


async def test_an_early_close_asks_first_and_a_post_without_the_confirmation_closes_nothing(
    client: Any, clock: Any
) -> None:
    w, emails = await committee(client, clock)
    ballot_id = await w.ballot("CD", weeks=20)
    await w.vote(ballot_id, "DE", "approve", 201)
    await sign_in(client, emails["secretary"])
    page = await client.get(f"/ballots/{ballot_id}")
    # The panel's first button is not the close; the close is a step to a confirmation.
    buttons = re.findall(r"<button[^>]*>([^<]+)</button>", _controls(page.text))
    assert buttons[0] == "Change the deadline" and "Close early…" in buttons
    assert "Close the ballot now" not in page.text

    accident = await client.post(f"/ballots/{ballot_id}/close", data={"_csrf": token(page.text)})
    assert accident.status_code == 200
    assert "Close ISO/CD 99001 before its deadline?" in accident.text
    assert "3 P-members, 1 has voted; closing now ends voting for 2 (FR, JP)." in accident.text
    assert "140 days from now" in accident.text and "30.60" in accident.text
    assert await _status(client, ballot_id) == "open" and await _events(client, "ballot.closed") == []
    # The confirmation page, also reachable by a link, posts the confirmation field.
    asked = await client.get(f"/ballots/{ballot_id}/close")
    assert 'name="confirm" value="yes"' in asked.text and "No, keep the ballot open" in asked.text
    closed = await client.post(f"/ballots/{ballot_id}/close", data={"_csrf": token(page.text), "confirm": "yes"})
    assert closed.status_code == 200 and "The ballot is closed and its result counted." in closed.text
    assert await _status(client, ballot_id) == "closed"
    # Nothing is left to confirm: the link leads back to the ballot.
    stale = await client.get(f"/ballots/{ballot_id}/close", follow_redirects=False)
    assert stale.status_code == 303 and stale.headers["location"] == f"/ballots/{ballot_id}"


async def test_a_close_after_the_deadline_needs_no_confirmation_and_the_api_never_asks(client: Any, clock: Any) -> None:
    w, emails = await committee(client, clock)
    early = await w.ballot("CD", weeks=20)
    await w.close(early)  # the API closes early at once: calling is the client's confirmation
    assert await _status(client, early) == "closed"
    late = await w.ballot("CD", weeks=8)
    clock.advance(weeks=9)
    await sign_in(client, emails["secretary"])
    page = await client.get(f"/ballots/{late}")
    assert "Close and count the result" in page.text
    closed = await client.post(f"/ballots/{late}/close", data={"_csrf": token(page.text)})
    assert "The ballot is closed and its result counted." in closed.text
    assert await _status(client, late) == "closed"


async def test_cancel_and_reopen_ask_first_and_need_their_reason(client: Any, clock: Any) -> None:
    w, emails = await committee(client, clock)
    ballot_id = await w.ballot("CD")
    await w.vote(ballot_id, "FR", "approve", 201)
    await sign_in(client, emails["secretary"])
    csrf = token((await client.get(f"/ballots/{ballot_id}")).text)

    asked = await client.post(f"/ballots/{ballot_id}/cancel", data={"_csrf": csrf, "cancel_reason": "Typo."})
    assert asked.status_code == 200 and "Cancel ISO/CD 99001?" in asked.text
    assert "cancelling ends voting for 2 (DE, JP)" in asked.text
    assert "back from stage 30.20 (CD study/ballot initiated) to 30.00" in asked.text
    assert ">Typo.</textarea>" in asked.text  # the reason typed is carried to the confirmation
    no_reason = await client.post(f"/ballots/{ballot_id}/cancel", data={"_csrf": csrf, "confirm": "yes"})
    assert no_reason.status_code == 422
    assert re.search(r'id="cancel_reason-error">.*Say why the ballot is cancelled', no_reason.text)
    assert await _status(client, ballot_id) == "open" and await _events(client, "ballot.cancelled") == []

    await w.close(ballot_id)
    later = (clock.now + timedelta(weeks=2)).strftime("%Y-%m-%dT%H:%M")
    asked = await client.post(
        f"/ballots/{ballot_id}/reopen", data={"_csrf": csrf, "reopen_closes_at": later, "reopen_reason": "Late."}
    )
    assert asked.status_code == 200 and "Re-open ISO/CD 99001?" in asked.text
    assert "is set aside" in asked.text and "re-opening lets 2 more vote (DE, JP)" in asked.text
    assert await _status(client, ballot_id) == "closed"
    no_reason = await client.post(
        f"/ballots/{ballot_id}/reopen", data={"_csrf": csrf, "reopen_closes_at": later, "confirm": "yes"}
    )
    assert no_reason.status_code == 422 and re.search(r'id="reopen_reason-error">.*Say why', no_reason.text)
    assert await _status(client, ballot_id) == "closed" and await _events(client, "ballot.reopened") == []
    reopened = await client.post(
        f"/ballots/{ballot_id}/reopen",
        data={"_csrf": csrf, "reopen_closes_at": later, "reopen_reason": "A late vote.", "confirm": "yes"},
    )
    assert "The ballot is open again." in reopened.text and await _status(client, ballot_id) == "open"
    cancelled = await client.post(
        f"/ballots/{ballot_id}/cancel", data={"_csrf": csrf, "cancel_reason": "Withdrawn.", "confirm": "yes"}
    )
    assert "The ballot is cancelled." in cancelled.text and await _status(client, ballot_id) == "cancelled"
    assert [e["payload"]["reason"] for e in await _events(client, "ballot.cancelled")] == ["Withdrawn."]


async def test_a_p_member_loses_its_vote_only_after_a_confirmation_with_a_reason(client: Any, clock: Any) -> None:
    w, emails = await committee(client, clock)
    await w.ballot("CD")
    await sign_in(client, emails["secretary"])
    page = await client.get(f"/committees/{w.committee_id}")
    form = {"member_code": "JP", "member_status": "O", "_csrf": token(page.text)}

    async def members() -> dict[str, str]:
        out = await ok(await client.get(f"/api/v1/committees/{w.committee_id}", headers=ADMIN))
        return {m["code"]: m["status"] for m in out["members"]}

    asked = await client.post(f"/committees/{w.committee_id}/members", data=form)
    assert asked.status_code == 200 and "Change JP from P-member to O-member?" in asked.text
    assert "The ballot open now keeps the P-members it had at opening, so JP can still vote on it." in asked.text
    no_reason = await client.post(f"/committees/{w.committee_id}/members", data={**form, "confirm": "yes"})
    assert no_reason.status_code == 422 and re.search(r'id="member_reason-error">.*Give the reason', no_reason.text)
    assert (await members())["JP"] == "P"
    changed = await client.post(
        f"/committees/{w.committee_id}/members",
        data={**form, "confirm": "yes", "member_reason": "Asked to observe."},
    )
    assert "JP is now O-member." in changed.text and (await members())["JP"] == "O"
    recorded = [e["payload"] for e in await _events(client, "membership.changed") if e["payload"]["body"] == "JP"]
    assert recorded[-1]["previous_status"] == "P" and recorded[-1]["reason"] == "Asked to observe."
    # Giving a vote back takes nothing away: no confirmation.
    back = await client.post(f"/committees/{w.committee_id}/members", data={**form, "member_status": "P"})
    assert "JP is now P-member." in back.text and (await members())["JP"] == "P"
    ended = await client.post(f"/committees/{w.committee_id}/members", data={**form, "member_status": "end"})
    assert "Change JP from P-member to no membership?" in ended.text and (await members())["JP"] == "P"
