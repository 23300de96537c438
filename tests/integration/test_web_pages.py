"""The web pages without a browser: sign-in, sessions, CSRF, errors in words, authorisation.

Fast checks of what the browser tests (tests/browser) drive end to end, on both databases.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

from litestar.testing import AsyncTestClient

from schemas.enums import BallotType
from schemas.types import utcnow
from services.cli import demo
from services.http.app import create_app
from services.platform.settings import Settings
from services.rules.participation import LedgerEntry, ParticipationRule, candidates
from tests.world import ADMIN, World, ok

PASSWORD = "a long enough password"
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


def token(html: str) -> str:
    found = CSRF.search(html)
    assert found, "the page has no form token"
    return found.group(1)


async def person(client: Any, key: str, roles: list[dict[str, Any]]) -> str:
    email = f"{key}@pages.example.org"
    await ok(
        await client.post(
            "/api/v1/users",
            json={"name": f"{key.title()} Person", "email": email, "roles": roles, "password": PASSWORD},
            headers=ADMIN,
        ),
        201,
    )
    return email


async def sign_in(client: Any, email: str, password: str = PASSWORD) -> Any:
    page = await client.get("/login")
    return await client.post(
        "/login", data={"email": email, "password": password, "_csrf": token(page.text)}, follow_redirects=False
    )


async def committee(client: Any, clock: Any, stage: str = "30.00") -> tuple[World, dict[str, str]]:
    w = await World(client, clock).build(p=["DE", "FR", "JP"], stage=stage)
    emails = {
        "secretary": await person(client, "sec", [{"role": "secretary", "committee_id": w.committee_id}]),
        "convenor": await person(client, "conv", [{"role": "convenor", "committee_id": w.committee_id}]),
        "DE": await person(client, "dieter", [{"role": "delegate", "member_body": "DE"}]),
        "FR": await person(client, "fanny", [{"role": "delegate", "member_body": "FR"}]),
    }
    return w, emails


async def test_sign_in_sets_an_http_only_lax_cookie_and_returns_to_the_page_asked_for(client: Any, clock: Any) -> None:
    w, emails = await committee(client, clock)
    ballot_id = await w.ballot("CD")
    anonymous = await client.get(f"/ballots/{ballot_id}", follow_redirects=False)
    assert anonymous.status_code == 303 and anonymous.headers["location"] == f"/login?next=/ballots/{ballot_id}"

    wrong = await sign_in(client, emails["DE"], "not the password at all")
    assert wrong.status_code == 422 and "The e-mail address or the password is not right." in wrong.text
    page = await client.get(f"/login?next=/ballots/{ballot_id}")
    signed = await client.post(
        "/login",
        data={
            "email": emails["DE"].upper(),
            "password": PASSWORD,
            "next": f"/ballots/{ballot_id}",
            "_csrf": token(page.text),
        },
        follow_redirects=False,
    )
    assert signed.status_code == 303 and signed.headers["location"] == f"/ballots/{ballot_id}"
    cookie = signed.headers["set-cookie"]
    assert "ballotdesk_session=" in cookie and "HttpOnly" in cookie and "SameSite=lax" in cookie
    assert "Secure" not in cookie  # plain http in tests; see the production test below
    dashboard = await client.get("/")
    assert dashboard.status_code == 200 and "Needs my action" in dashboard.text and "Not voted yet" in dashboard.text
    assert dashboard.headers["cache-control"] == "no-store"


async def test_the_session_cookie_is_secure_behind_https(settings: Settings, db: Any, clock: Any) -> None:
    app = create_app(
        Settings(database_url=settings.database_url, public_url="https://ballots.example.org"), db=db, clock=clock
    )
    async with AsyncTestClient(app=app) as c:
        response = await c.get("/login")
    assert "Secure" in response.headers["set-cookie"] and "HttpOnly" in response.headers["set-cookie"]


async def test_a_next_address_off_this_site_is_ignored(client: Any, clock: Any) -> None:
    _, emails = await committee(client, clock)
    page = await client.get("/login?next=//evil.example.org/x")
    assert "//evil" not in page.text
    signed = await client.post(
        "/login",
        data={
            "email": emails["DE"],
            "password": PASSWORD,
            "next": "https://evil.example.org/",
            "_csrf": token(page.text),
        },
        follow_redirects=False,
    )
    assert signed.headers["location"] == "/"


async def test_forms_need_the_session_token_and_the_json_api_does_not(client: Any, clock: Any) -> None:
    w, emails = await committee(client, clock)
    ballot_id = await w.ballot("CD")
    await sign_in(client, emails["DE"])
    page = await client.get(f"/ballots/{ballot_id}")
    for form in ({}, {"_csrf": "forged-" + token(page.text)}):
        refused = await client.post(f"/ballots/{ballot_id}/vote", data={"body": "DE", "position": "approve", **form})
        assert refused.status_code == 403
        assert "did not come from Ballotdesk" in refused.text and refused.headers["content-type"].startswith(
            "text/html"
        )
    votes = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/votes", headers=w.headers["secretary"]))
    assert votes == []  # nothing was written
    # The API authenticates with bearer tokens; no CSRF token is asked for.
    await w.vote(ballot_id, "DE", "approve", 201)
    accepted = await client.post(
        f"/ballots/{ballot_id}/vote",
        data={"body": "DE", "position": "disapprove", "reasons": "R.", "_csrf": token(page.text)},
    )
    assert accepted.status_code == 200 and "DE&#39;s vote is recorded: Disapprove" in accepted.text


async def test_errors_are_shown_in_words_next_to_their_fields(client: Any, clock: Any) -> None:
    w, emails = await committee(client, clock)
    ballot_id = await w.ballot("CD")
    await sign_in(client, emails["DE"])
    page = await client.get(f"/ballots/{ballot_id}")
    csrf = token(page.text)
    stopped = await client.post(
        f"/ballots/{ballot_id}/vote", data={"body": "DE", "position": "disapprove", "_csrf": csrf}
    )
    assert stopped.status_code == 422
    assert re.search(r'id="reasons-error">.*Give the technical reasons', stopped.text)
    too_long = await client.post(
        f"/ballots/{ballot_id}/comments",
        data={
            "body": "DE",
            "row_count": "2",
            "rows-0-comment": "Fine.",
            "rows-1-clause": "x" * 201,
            "rows-1-comment": "Y",
            "_csrf": csrf,
        },
    )
    assert too_long.status_code == 422
    assert re.search(r'id="rows-1-clause-error">.*Use at most 200 characters', too_long.text)
    assert "x" * 201 in too_long.text  # what was typed is kept
    empty = await client.post(
        f"/ballots/{ballot_id}/comments",
        data={"body": "DE", "row_count": "1", "rows-0-clause": "4", "_csrf": csrf},
    )
    assert re.search(r'id="rows-0-comment-error">.*This field is required', empty.text)

    await client.post("/logout", data={"_csrf": csrf})
    await sign_in(client, emails["secretary"])
    project = await client.get(f"/projects/{w.project_id}")
    past = (clock.now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    refused = await client.post(
        f"/projects/{w.project_id}/ballots", data={"type": "DIS", "closes_at": past, "_csrf": token(project.text)}
    )
    assert refused.status_code == 422
    assert re.search(r'id="closes_at-error">.*The closing time must be in the future', refused.text)
    nonsense = await client.post(
        f"/projects/{w.project_id}/ballots",
        data={"type": "DIS", "closes_at": "next tuesday", "_csrf": token(project.text)},
    )
    assert re.search(r'id="closes_at-error">.*Enter a date and time like', nonsense.text)
    bad_stage = await client.post(
        f"/committees/{w.committee_id}/projects",
        data={"reference": "ISO 5", "title": "T", "deliverable": "IS", "stage": "99.99", "_csrf": token(project.text)},
    )
    assert re.search(r'id="stage-error">.*99.99 is not a harmonized stage code', bad_stage.text)


async def test_another_body_never_sees_an_open_vote_and_a_convenor_cannot_close(client: Any, clock: Any) -> None:
    w, emails = await committee(client, clock)
    ballot_id = await w.ballot("CD")
    await w.vote(ballot_id, "DE", "disapprove", 201, reasons="Secret German reasons.")
    await sign_in(client, emails["FR"])
    page = await client.get(f"/ballots/{ballot_id}")
    assert page.status_code == 200 and "Secret German reasons" not in page.text and "FR has not voted yet" in page.text
    assert (await client.get(f"/ballots/{ballot_id}?body=DE")).text.count("Secret German") == 0
    forged = await client.post(
        f"/ballots/{ballot_id}/vote", data={"body": "DE", "position": "approve", "_csrf": token(page.text)}
    )
    assert forged.status_code == 403 and "You are not a delegate for DE." in forged.text
    comments = await client.get(f"/ballots/{ballot_id}/comments")
    assert "Secret German" not in comments.text
    await client.post("/logout", data={"_csrf": token(page.text)})

    await sign_in(client, emails["convenor"])
    page = await client.get(f"/ballots/{ballot_id}")
    assert "Secret German reasons" in page.text  # officers read every vote
    assert "Close the ballot now" not in page.text
    refused = await client.post(f"/ballots/{ballot_id}/close", data={"_csrf": token(page.text)})
    assert refused.status_code == 403 and "Only the committee&#39;s secretary may do this." in refused.text
    status = await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=ADMIN))
    assert status["status"] == "open"


async def test_comment_markup_is_shown_as_text_on_every_page(client: Any, clock: Any) -> None:
    w, emails = await committee(client, clock)
    ballot_id = await w.ballot("CD")
    evil = '<img src=x onerror="alert(1)"><script>alert(2)</script>'
    await ok(
        await client.put(
            f"/api/v1/ballots/{ballot_id}/comments/DE",
            json={"comments": [{"clause": "<b>4</b>", "comment": evil, "proposed_change": evil}]},
            headers=w.headers["DE"],
        ),
        201,
    )
    await sign_in(client, emails["DE"])
    ballot_page = await client.get(f"/ballots/{ballot_id}")
    await client.post("/logout", data={"_csrf": token(ballot_page.text)})
    await sign_in(client, emails["convenor"])
    comment_page = await client.get(f"/ballots/{ballot_id}/comments")
    for html in (ballot_page.text, comment_page.text):
        assert "<script>alert" not in html and "<img src=x" not in html and "<b>4</b>" not in html
        assert "&lt;script&gt;alert(2)&lt;/script&gt;" in html
    csp = comment_page.headers["content-security-policy"]
    assert "script-src 'self'" in csp and "frame-ancestors 'none'" in csp
    assert comment_page.headers["x-content-type-options"] == "nosniff"


async def test_the_participation_ledger_names_a_p_member_that_missed_a_dis(client: Any, clock: Any) -> None:
    w, emails = await committee(client, clock, stage="40.00")
    ballot_id = await w.ballot("DIS")
    await w.vote(ballot_id, "DE", "approve", 201)
    await w.vote(ballot_id, "JP", "approve", 201)
    clock.advance(weeks=13)  # closed at its deadline: FR had all the time it was given
    await w.close(ballot_id)
    await sign_in(client, emails["secretary"])
    ledger = await client.get(f"/committees/{w.committee_id}/participation")
    assert ledger.status_code == 200
    candidates_section = ledger.text.split("Candidates for O-membership")[1].split("</section>")[0]
    assert "FR" in candidates_section and "did not vote on the DIS ballot" in candidates_section
    # Read as a person does: the words shown, not the form's hidden values (a random CSRF token
    # may hold the letters "DE").
    shown = re.sub(r"<[^>]*>", " ", candidates_section)
    assert re.search(r"\bDE\b", shown) is None
    # The secretary applies it from the ledger (the membership use case, an event), after a
    # confirmation that asks for the reason.
    form = {"member_code": "FR", "member_status": "O", "_csrf": token(ledger.text)}
    asked = await client.post(f"/committees/{w.committee_id}/members", data=form)
    assert asked.status_code == 200 and "Change FR from P-member to O-member?" in asked.text
    changed = await client.post(
        f"/committees/{w.committee_id}/members",
        data={**form, "confirm": "yes", "member_reason": "Missed the DIS ballot."},
    )
    assert changed.status_code == 200 and "FR is now O-member" in changed.text
    committee_json = await ok(await client.get(f"/api/v1/committees/{w.committee_id}", headers=ADMIN))
    assert {m["code"]: m["status"] for m in committee_json["members"]}["FR"] == "O"
    await client.post("/logout", data={"_csrf": token(ledger.text)})
    await sign_in(client, emails["DE"])
    assert (await client.get(f"/committees/{w.committee_id}/participation")).status_code == 403


def test_the_internal_ballot_share_is_compared_in_integers() -> None:
    closed = datetime(2026, 1, 10, tzinfo=UTC)
    internal = frozenset({BallotType.CD, BallotType.NP})

    def entries(missed: int, total: int) -> list[LedgerEntry]:
        return [LedgerEntry(i, BallotType.CD, closed, "DE", voted=i >= missed) for i in range(total)]

    now = closed + timedelta(days=30)
    assert candidates(entries(1, 5), ["DE"], now, internal) == []  # exactly one fifth is not more than it
    assert [c.body for c in candidates(entries(2, 5), ["DE"], now, internal)] == ["DE"]
    # Outside the twelve months nothing counts; a former P-member is not listed.
    assert candidates(entries(5, 5), ["DE"], closed + timedelta(days=400), internal) == []
    assert candidates(entries(5, 5), ["FR"], now, internal) == []
    strict = ParticipationRule(share_numerator=0, share_denominator=1)
    assert [c.body for c in candidates(entries(1, 5), ["DE"], now, internal, strict)] == ["DE"]


async def test_demo_users_sign_in_with_the_passwords_printed_at_start_up(client: Any, db: Any) -> None:
    assert await demo.load(db, utcnow())
    passwords = await demo.issue_passwords(db, utcnow())
    assert set(passwords) == {u.key for u in demo.DEMO_USERS}
    signed = await sign_in(client, "de@demo.ballotdesk.org", passwords["delegate-de"])
    assert signed.status_code == 303
    dashboard = await client.get("/")
    assert "ISO/CD TS 19387" in dashboard.text
    # A new start-up issues new passwords; sessions signed in with the old one end.
    await demo.issue_passwords(db, utcnow())
    assert (await client.get("/", follow_redirects=False)).status_code == 303


async def test_unknown_pages_and_ballots_answer_in_html(client: Any, clock: Any) -> None:
    _, emails = await committee(client, clock)
    await sign_in(client, emails["DE"])
    missing = await client.get("/ballots/999")
    assert missing.status_code == 404 and "There is no ballot 999." in missing.text
    assert missing.headers["content-type"].startswith("text/html")


async def test_the_secretary_creates_opens_extends_closes_reopens_and_cancels_from_the_pages(
    client: Any, clock: Any
) -> None:
    w, emails = await committee(client, clock)
    await sign_in(client, emails["secretary"])
    project = await client.get(f"/projects/{w.project_id}")
    csrf = token(project.text)
    closes = (clock.now + timedelta(weeks=8)).strftime("%Y-%m-%dT%H:%M")
    created = await client.post(
        f"/projects/{w.project_id}/ballots", data={"type": "CD", "closes_at": closes, "open_now": "yes", "_csrf": csrf}
    )
    assert created.status_code == 200 and "The ballot is created and open." in created.text
    ballot_id = int(re.search(r"/ballots/(\d+)/close", created.text).group(1))  # type: ignore[union-attr]
    past = (clock.now - timedelta(days=1)).strftime("%Y-%m-%dT%H:%M")
    refused = await client.post(f"/ballots/{ballot_id}/extend", data={"extend_closes_at": past, "_csrf": csrf})
    # The use case names `closes_at`; the page puts it beside the extend form's own field.
    assert refused.status_code == 422 and re.search(r'id="extend_closes_at-error">.*in the future', refused.text)
    later = (clock.now + timedelta(weeks=10)).strftime("%Y-%m-%dT%H:%M")
    extended = await client.post(f"/ballots/{ballot_id}/extend", data={"extend_closes_at": later, "_csrf": csrf})
    assert "The deadline is changed." in extended.text
    status = await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=ADMIN))
    assert status["closes_at"].startswith((clock.now + timedelta(weeks=10)).strftime("%Y-%m-%dT%H:%M"))
    closed = await client.post(f"/ballots/{ballot_id}/close", data={"_csrf": csrf, "confirm": "yes"})
    assert "The ballot is closed" in closed.text and "Result:" in closed.text
    # Only the decisions the rules allow for a CD are offered.
    offered = set(re.findall(r'name="decision" value="([0-9.]+)"', closed.text))
    assert offered == {
        d["code"]
        for d in (await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=ADMIN)))["decisions_allowed"]
    }
    no_reason = await client.post(
        f"/ballots/{ballot_id}/reopen", data={"reopen_closes_at": later, "confirm": "yes", "_csrf": csrf}
    )
    assert no_reason.status_code == 422 and re.search(r'id="reopen_reason-error">.*Say why', no_reason.text)
    reopened = await client.post(
        f"/ballots/{ballot_id}/reopen",
        data={"reopen_closes_at": later, "reopen_reason": "A late vote.", "confirm": "yes", "_csrf": csrf},
    )
    assert "The ballot is open again." in reopened.text
    cancelled = await client.post(
        f"/ballots/{ballot_id}/cancel", data={"cancel_reason": "Withdrawn draft.", "confirm": "yes", "_csrf": csrf}
    )
    assert "The ballot is cancelled." in cancelled.text
    assert (await ok(await client.get(f"/api/v1/ballots/{ballot_id}", headers=ADMIN)))["status"] == "cancelled"


async def test_the_secretary_manages_members_and_liaisons_and_others_cannot(client: Any, clock: Any) -> None:
    w, emails = await committee(client, clock)
    await w.body("SE")
    await sign_in(client, emails["secretary"])
    page = await client.get(f"/committees/{w.committee_id}")
    csrf = token(page.text)
    added = await client.post(
        f"/committees/{w.committee_id}/members", data={"member_code": "SE", "member_status": "O", "_csrf": csrf}
    )
    assert "SE is now O-member." in added.text
    liaison = await client.post(
        f"/committees/{w.committee_id}/liaisons",
        data={"liaison_code": "CEN/TC 465", "liaison_name": "Smart cities", "liaison_category": "D", "_csrf": csrf},
    )
    assert liaison.status_code == 422 and re.search(
        r'id="liaison_category-error">.*Choose category A, B or C', liaison.text
    )
    liaison = await client.post(
        f"/committees/{w.committee_id}/liaisons",
        data={"liaison_code": "CEN/TC 465", "liaison_name": "Smart cities", "liaison_category": "A", "_csrf": csrf},
    )
    assert "CEN/TC 465 is a category A liaison." in liaison.text
    out = await ok(await client.get(f"/api/v1/committees/{w.committee_id}", headers=ADMIN))
    assert {m["code"]: m["status"] for m in out["members"]}["SE"] == "O"
    assert [li["code"] for li in out["liaisons"]] == ["CEN/TC 465"]
    await client.post("/logout", data={"_csrf": csrf})
    await sign_in(client, emails["convenor"])
    page = await client.get(f"/committees/{w.committee_id}")
    assert "Change a membership" not in page.text
    refused = await client.post(
        f"/committees/{w.committee_id}/members",
        data={"member_code": "SE", "member_status": "P", "_csrf": token(page.text)},
    )
    assert refused.status_code == 403
