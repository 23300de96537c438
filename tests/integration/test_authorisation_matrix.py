"""The whole authorisation matrix of the API (issue 7, item 5), on both databases.

Thirteen people (every role, in and out of the committee, a revoked token, nobody) against every
write the API offers and every read of votes and comments while a ballot is open. The expected
cell of each is written below; the test sends each request as each person, on a fresh target,
and checks the status, that a refusal is a problem+json that wrote nothing (the event log did not
grow), that an allowed write was logged, and for reads exactly which bodies' votes and comments
came back. A companion test checks that tokens and passwords are stored only hashed.

The committee ISO/TC 999 has P-members DE and FR and O-member SE; BR is a member body outside
it. The ballots are CDs (P-members vote, O-members and liaisons comment).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import text

from services.platform.db import Database
from tests.docx_factory import comment_docx, row8
from tests.world import ADMIN, World, bearer, iso, ok

PROBLEM = "application/problem+json"
DOCX = "application/vnd.openxmlformats-officedocument.wordprocessingml.document"

ROLES = (
    "admin",
    "secretary",  # of ISO/TC 999
    "other_secretary",  # of ISO/TC 998
    "convenor",  # of ISO/TC 999
    "delegate_DE",  # P-member
    "delegate_FR",  # another P-member
    "delegate_SE",  # O-member
    "delegate_BR",  # a body outside the committee
    "commenter_DE",  # commenter for a P-member
    "commenter_SE",  # commenter for an O-member
    "observer",  # of ISO/TC 999
    "anonymous",  # no token
    "revoked",  # DE's delegate with a revoked token
)

# fmt: off
WRITES: dict[str, tuple[int, ...]] = {
    #                          admin sec other conv  DE   FR   SE   BR  cDE  cSE  obs anon revk
    "create member body":     (201, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "create committee":       (201, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "create working group":   (201, 201, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "set membership":         (200, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "end membership":         (200, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "add liaison":            (200, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "end liaison":            (200, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "create user":            (201, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "issue token for FR":     (201, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "revoke FR's token":      (204, 403, 403, 403, 403, 204, 403, 403, 403, 403, 403, 401, 401),
    "create project":         (201, 201, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "create ballot":          (201, 201, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "open ballot":            (200, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "extend ballot":          (200, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "close ballot":           (200, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "reopen ballot":          (200, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "cancel ballot":          (200, 200, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "record decision":        (201, 201, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "vote for DE":            (201, 403, 403, 403, 201, 403, 403, 403, 403, 403, 403, 401, 401),
    "vote for SE (O-member)": (403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "comment for DE":         (201, 403, 403, 403, 201, 403, 403, 403, 201, 403, 403, 401, 401),
    "comment for SE":         (201, 403, 403, 403, 403, 403, 201, 403, 403, 201, 403, 401, 401),
    "comment for BR":         (403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "upload comments for DE": (201, 403, 403, 403, 201, 403, 403, 403, 201, 403, 403, 401, 401),
    "record observation":     (200, 200, 403, 200, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "upload observations":    (200, 200, 403, 200, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "record group observation": (200, 200, 403, 200, 403, 403, 403, 403, 403, 403, 403, 401, 401),
    "upload compiled table":  (201, 201, 403, 403, 403, 403, 403, 403, 403, 403, 403, 401, 401),
}

# While the CD is open, DE and FR have voted and DE, FR and SE have commented. A cell is the
# bodies whose votes (comments) come back, or the refusal's status.
V, C, NONE = ("DE", "FR"), ("DE", "FR", "SE"), ()
DE, FR, SE = ("DE",), ("FR",), ("SE",)
READS: dict[str, tuple[Any, ...]] = {
    #                 admin sec  other conv  DE    FR    SE    BR    cDE   cSE   obs   anon revk
    "votes":         (V,    V,   NONE, V,    DE,   FR,   NONE, NONE, DE,   NONE, NONE, 401, 401),
    "comments":      (C,    C,   NONE, C,    DE,   FR,   SE,   NONE, DE,   SE,   NONE, 401, 401),
    # Another body's comments asked for by name: still only what the reader may see.
    "FR's comments": (FR,   FR,  NONE, FR,   NONE, FR,   NONE, NONE, NONE, NONE, NONE, 401, 401),
    # Vote and comment events in the project's history and in the event log.
    "history":       (C,    C,   NONE, C,    DE,   FR,   SE,   NONE, DE,   SE,   NONE, 401, 401),
    # The same rule for the event log, the live stream and webhooks (services.rules.event_visibility).
    "event log":     (C,    C,   NONE, C,    DE,   FR,   SE,   NONE, DE,   SE,   NONE, 401, 401),
    # The compiled comments while open ("comments so far") are for the officers.
    "comments.csv":  (200,  200, 403,  200,  403,  403,  403,  403,  403,  403,  403,  401, 401),
    "comments.xlsx": (200,  200, 403,  200,  403,  403,  403,  403,  403,  403,  403,  401, 401),
    "comment table": (202,  202, 403,  202,  403,  403,  403,  403,  403,  403,  403,  401, 401),
    # Groups across bodies need every body's comments.
    "similar comments": (200, 200, 403, 200,  403,  403,  403,  403,  403,  403,  403,  401, 401),
}
# fmt: on


@dataclass
class Committee:
    w: World
    headers: dict[str, dict[str, str]]
    fr_user: int = 0
    counter: int = 0
    notes: list[str] = field(default_factory=list)

    def next(self) -> int:
        self.counter += 1
        return self.counter

    @property
    def sec(self) -> dict[str, str]:
        return self.w.headers["secretary"]

    async def project(self, stage: str = "30.00") -> int:
        body = {
            "committee_id": self.w.committee_id,
            "reference": f"ISO {70000 + self.next()}",
            "title": "A project",
            "deliverable": "IS",
            "stage": stage,
        }
        return int((await ok(await self.w.client.post("/api/v1/projects", json=body, headers=self.sec), 201))["id"])

    async def ballot(self, *, open: bool = True) -> int:
        """A CD on a project of its own (one CD runs at a time on a project)."""
        self.w.project_id = await self.project()
        return await self.w.ballot("CD", open=open)

    async def comments(self, ballot_id: int, code: str, who: str | None = None) -> None:
        rows = {"comments": [{"clause": "3.1", "type": "te", "comment": f"{code} finds 3.1 unclear."}]}
        headers = self.w.headers[who or code]
        await ok(
            await self.w.client.put(f"/api/v1/ballots/{ballot_id}/comments/{code}", json=rows, headers=headers), 201
        )


async def committee_with_every_role(client: Any, clock: Any) -> Committee:
    w = await World(client, clock).build(p=["DE", "FR"], o=["SE"], others=["BR"], stage="30.00")
    await w.user("commenter_DE", [{"role": "commenter", "member_body": "DE"}])
    await w.user("commenter_SE", [{"role": "commenter", "member_body": "SE"}])
    await w.user("observer", [{"role": "observer", "committee_id": w.committee_id}])
    other = await ok(
        await client.post("/api/v1/committees", json={"reference": "ISO/TC 998", "title": "Elsewhere"}, headers=ADMIN),
        201,
    )
    await w.user("other_secretary", [{"role": "secretary", "committee_id": other["id"]}])
    await ok(
        await client.post(
            f"/api/v1/committees/{w.committee_id}/liaisons", json={"code": "CEN/TC 465", "category": "A"}, headers=ADMIN
        )
    )
    de = await ok(await client.get("/api/v1/me", headers=w.headers["DE"]))
    revoked = await ok(await client.post(f"/api/v1/users/{de['id']}/tokens", json={}, headers=ADMIN), 201)
    assert (await client.delete(f"/api/v1/tokens/{revoked['id']}", headers=ADMIN)).status_code == 204
    fr = await ok(await client.get("/api/v1/me", headers=w.headers["FR"]))
    headers = {
        "admin": ADMIN,
        "secretary": w.headers["secretary"],
        "other_secretary": w.headers["other_secretary"],
        "convenor": w.headers["convenor"],
        "delegate_DE": w.headers["DE"],
        "delegate_FR": w.headers["FR"],
        "delegate_SE": w.headers["SE"],
        "delegate_BR": w.headers["BR"],
        "commenter_DE": w.headers["commenter_DE"],
        "commenter_SE": w.headers["commenter_SE"],
        "observer": w.headers["observer"],
        "anonymous": {},
        "revoked": bearer(revoked["token"]),
    }
    return Committee(w=w, headers=headers, fr_user=int(fr["id"]))


# --- the writes: each prepares a fresh target and returns the request ----------------------------

Request = dict[str, Any]  # method, url, and json= or files= for the client
Prepare = Callable[[Committee], Awaitable[Request]]


def _future(c: Committee, weeks: int) -> str:
    return iso(c.w.clock.now + timedelta(weeks=weeks))


async def _create_member_body(c: Committee) -> Request:
    code = "X" + "".join(chr(65 + int(d)) for d in f"{c.next():03d}")
    return {"method": "POST", "url": "/api/v1/member-bodies", "json": {"code": code, "acronym": code, "name": code}}


async def _create_committee(c: Committee) -> Request:
    body = {"reference": f"ISO/TC {500 + c.next()}", "title": "New"}
    return {"method": "POST", "url": "/api/v1/committees", "json": body}


async def _create_working_group(c: Committee) -> Request:
    body = {"reference": f"ISO/TC 999/WG {c.next()}", "title": "A WG", "parent_id": c.w.committee_id}
    return {"method": "POST", "url": "/api/v1/committees", "json": body}


async def _set_membership(c: Committee) -> Request:
    code = "XM" + chr(65 + c.next() % 26) + chr(65 + c.counter // 26)
    await c.w.body(code)
    return {"method": "PUT", "url": f"/api/v1/committees/{c.w.committee_id}/members/{code}", "json": {"status": "O"}}


async def _end_membership(c: Committee) -> Request:
    request = await _set_membership(c)
    await ok(await c.w.client.put(request["url"], json={"status": "O"}, headers=c.sec))
    return {"method": "DELETE", "url": request["url"]}


async def _add_liaison(c: Committee) -> Request:
    body = {"code": f"ISO/TC {300 + c.next()}", "category": "A"}
    return {"method": "POST", "url": f"/api/v1/committees/{c.w.committee_id}/liaisons", "json": body}


async def _end_liaison(c: Committee) -> Request:
    request = await _add_liaison(c)
    await ok(await c.w.client.post(request["url"], json=request["json"], headers=c.sec))
    return {"method": "DELETE", "url": request["url"], "params": {"code": request["json"]["code"]}}


async def _create_user(c: Committee) -> Request:
    n = c.next()
    body = {
        "name": f"Person {n}",
        "email": f"person{n}@example.org",
        "roles": [{"role": "delegate", "member_body": "DE"}],
    }
    return {"method": "POST", "url": "/api/v1/users", "json": body}


async def _issue_token(c: Committee) -> Request:
    return {"method": "POST", "url": f"/api/v1/users/{c.fr_user}/tokens", "json": {"label": "spare"}}


async def _revoke_token(c: Committee) -> Request:
    token = await ok(await c.w.client.post(f"/api/v1/users/{c.fr_user}/tokens", json={}, headers=ADMIN), 201)
    return {"method": "DELETE", "url": f"/api/v1/tokens/{token['id']}"}


async def _create_project(c: Committee) -> Request:
    body = {
        "committee_id": c.w.committee_id,
        "reference": f"ISO {80000 + c.next()}",
        "title": "New",
        "deliverable": "IS",
        "stage": "20.00",
    }
    return {"method": "POST", "url": "/api/v1/projects", "json": body}


async def _create_ballot(c: Committee) -> Request:
    project_id = await c.project()
    body = {"project_id": project_id, "type": "CD", "closes_at": _future(c, 8)}
    return {"method": "POST", "url": "/api/v1/ballots", "json": body}


async def _open_ballot(c: Committee) -> Request:
    return {"method": "POST", "url": f"/api/v1/ballots/{await c.ballot(open=False)}/open"}


async def _extend_ballot(c: Committee) -> Request:
    ballot_id = await c.ballot()
    return {"method": "POST", "url": f"/api/v1/ballots/{ballot_id}/extend", "json": {"closes_at": _future(c, 10)}}


async def _close_ballot(c: Committee) -> Request:
    ballot_id = await c.ballot()
    await c.w.vote(ballot_id, "DE", "approve", 201)
    return {"method": "POST", "url": f"/api/v1/ballots/{ballot_id}/close"}


async def _closed(c: Committee) -> int:
    ballot_id = await c.ballot()
    for code in ["DE", "FR"]:
        await c.w.vote(ballot_id, code, "approve", 201)
    await c.w.close(ballot_id)
    return ballot_id


async def _reopen_ballot(c: Committee) -> Request:
    ballot_id = await _closed(c)
    body = {"closes_at": _future(c, 2), "reason": "FR's vote was lost in the mail."}
    return {"method": "POST", "url": f"/api/v1/ballots/{ballot_id}/reopen", "json": body}


async def _cancel_ballot(c: Committee) -> Request:
    return {"method": "POST", "url": f"/api/v1/ballots/{await c.ballot()}/cancel", "json": {"reason": "Wrong draft."}}


async def _record_decision(c: Committee) -> Request:
    ballot_id = await _closed(c)
    ballot = await ok(await c.w.client.get(f"/api/v1/ballots/{ballot_id}", headers=ADMIN))
    decision = ballot["decisions_allowed"][0]["code"]
    body = {"decision": decision, "reason": "As the ballot says.", "ballot_id": ballot_id}
    return {"method": "POST", "url": f"/api/v1/projects/{ballot['project_id']}/decisions", "json": body}


async def _vote(c: Committee, code: str) -> Request:
    ballot_id = await c.ballot()
    return {"method": "PUT", "url": f"/api/v1/ballots/{ballot_id}/votes/{code}", "json": {"position": "approve"}}


async def _comment(c: Committee, code: str) -> Request:
    ballot_id = await c.ballot()
    body = {"comments": [{"clause": "5", "type": "ed", "comment": "Typo in 5."}]}
    return {"method": "PUT", "url": f"/api/v1/ballots/{ballot_id}/comments/{code}", "json": body}


async def _upload_comments(c: Committee) -> Request:
    ballot_id = await c.ballot()
    data = comment_docx([row8("DE-1", "10", "5", "", "ed", "Typo in 5.", "Fix it.")])
    return {
        "method": "POST",
        "url": f"/api/v1/ballots/{ballot_id}/comments/DE/upload",
        "files": {"file": ("de.docx", data, DOCX)},
    }


async def _observation(c: Committee) -> Request:
    ballot_id = await c.ballot()
    await c.comments(ballot_id, "DE")
    body = {"observation": "Accepted.", "disposition": "accepted"}
    return {"method": "PUT", "url": f"/api/v1/ballots/{ballot_id}/observations/DE-001", "json": body}


async def _group_observation(c: Committee) -> Request:
    ballot_id = await c.ballot()
    await c.comments(ballot_id, "DE")
    await c.comments(ballot_id, "FR")
    body = {"references": ["DE-001", "FR-001"], "observation": "Accepted.", "disposition": "accepted"}
    return {"method": "PUT", "url": f"/api/v1/ballots/{ballot_id}/observations", "json": body}


async def _upload_observations(c: Committee) -> Request:
    ballot_id = await c.ballot()
    await c.comments(ballot_id, "DE")
    data = comment_docx([row8("DE-001", "", "3.1", "", "te", "DE finds 3.1 unclear.", "", "Accepted\nClarified.")])
    return {
        "method": "POST",
        "url": f"/api/v1/ballots/{ballot_id}/observations/upload",
        "files": {"file": ("resolved.docx", data, DOCX)},
    }


async def _upload_compiled(c: Committee) -> Request:
    ballot_id = await c.ballot()
    data = comment_docx(
        [row8("DE-001", "1", "3.1", "", "te", "Unclear.", "Clarify."), row8("FR-001", "2", "4", "", "ed", "Typo.")]
    )
    return {
        "method": "POST",
        "url": f"/api/v1/ballots/{ballot_id}/compiled/upload",
        "files": {"file": ("compiled.docx", data, DOCX)},
    }


PREPARE: dict[str, Prepare] = {
    "create member body": _create_member_body,
    "create committee": _create_committee,
    "create working group": _create_working_group,
    "set membership": _set_membership,
    "end membership": _end_membership,
    "add liaison": _add_liaison,
    "end liaison": _end_liaison,
    "create user": _create_user,
    "issue token for FR": _issue_token,
    "revoke FR's token": _revoke_token,
    "create project": _create_project,
    "create ballot": _create_ballot,
    "open ballot": _open_ballot,
    "extend ballot": _extend_ballot,
    "close ballot": _close_ballot,
    "reopen ballot": _reopen_ballot,
    "cancel ballot": _cancel_ballot,
    "record decision": _record_decision,
    "vote for DE": lambda c: _vote(c, "DE"),
    "vote for SE (O-member)": lambda c: _vote(c, "SE"),
    "comment for DE": lambda c: _comment(c, "DE"),
    "comment for SE": lambda c: _comment(c, "SE"),
    "comment for BR": lambda c: _comment(c, "BR"),
    "upload comments for DE": _upload_comments,
    "record observation": _observation,
    "upload observations": _upload_observations,
    "record group observation": _group_observation,
    "upload compiled table": _upload_compiled,
}


async def last_event(client: Any) -> int:
    page = await ok(await client.get("/api/v1/events?after=0&limit=1000", headers=ADMIN))
    after = int(page["next_after"])
    while page["items"]:
        page = await ok(await client.get(f"/api/v1/events?after={after}&limit=1000", headers=ADMIN))
        after = int(page["next_after"])
    return after


def test_the_tables_cover_every_role_and_every_action() -> None:
    assert set(PREPARE) == set(WRITES)
    assert all(len(row) == len(ROLES) for row in [*WRITES.values(), *READS.values()])


async def test_every_role_may_write_exactly_what_the_table_says(client: Any, clock: Any) -> None:
    c = await committee_with_every_role(client, clock)
    seen: dict[str, list[int]] = {}
    problems: list[str] = []
    for action, expected_row in WRITES.items():
        seen[action] = []
        for role, expected in zip(ROLES, expected_row, strict=True):
            request = await PREPARE[action](c)
            before = await last_event(client)
            method, url = request.pop("method"), request.pop("url")
            response = await client.request(method, url, headers=c.headers[role], **request)
            seen[action].append(response.status_code)
            after = await last_event(client)
            if response.status_code >= 400:
                if not response.headers.get("content-type", "").startswith(PROBLEM):
                    problems.append(f"{action} by {role}: {response.status_code} is not a problem+json")
                if after != before:
                    problems.append(f"{action} by {role}: refused with {response.status_code} but logged events")
            elif after == before:
                problems.append(f"{action} by {role}: allowed but not logged")
            if response.status_code != expected:
                problems.append(
                    f"{action} by {role}: {response.status_code}, expected {expected}: {response.text[:200]}"
                )
    assert problems == [], "\n".join(problems) + "\n\nseen:\n" + "\n".join(f"{a}: {s}" for a, s in seen.items())


async def _bodies(response: Any, key: str = "body") -> Any:
    if response.status_code != 200:
        return response.status_code
    return tuple(sorted({item[key] for item in response.json()}))


async def test_while_a_ballot_is_open_every_role_reads_exactly_what_the_table_says(client: Any, clock: Any) -> None:
    c = await committee_with_every_role(client, clock)
    ballot_id = await c.ballot()
    for code in ["DE", "FR"]:
        await c.w.vote(ballot_id, code, "approve", 201)
    for code in ["DE", "FR", "SE"]:
        await c.comments(ballot_id, code)
    project_id = c.w.project_id
    private = ("vote.", "comments.")

    async def history(headers: dict[str, str]) -> Any:
        response = await client.get(f"/api/v1/projects/{project_id}/history", headers=headers)
        if response.status_code != 200:
            return response.status_code
        found = {e["on_behalf_of"] for e in response.json()["events"] if e["type"].startswith(private)}
        return tuple(sorted(found))

    async def event_log(headers: dict[str, str]) -> Any:
        response = await client.get(f"/api/v1/events?aggregate=ballot:{ballot_id}&limit=1000", headers=headers)
        if response.status_code != 200:
            return response.status_code
        return tuple(sorted({e["on_behalf_of"] for e in response.json()["items"] if e["type"].startswith(private)}))

    async def status(path: str, headers: dict[str, str]) -> int:
        return int((await client.get(f"/api/v1/ballots/{ballot_id}/{path}", headers=headers)).status_code)

    reads: dict[str, Callable[[dict[str, str]], Awaitable[Any]]] = {
        "votes": lambda h: _get_bodies(client, f"/api/v1/ballots/{ballot_id}/votes", h),
        "comments": lambda h: _get_bodies(client, f"/api/v1/ballots/{ballot_id}/comments", h),
        "FR's comments": lambda h: _get_bodies(client, f"/api/v1/ballots/{ballot_id}/comments?body=FR", h),
        "history": history,
        "event log": event_log,
        "comments.csv": lambda h: status("comments.csv", h),
        "comments.xlsx": lambda h: status("comments.xlsx", h),
        "comment table": lambda h: status("comment-table.docx", h),
        "similar comments": lambda h: status("comments/similar", h),
    }
    assert set(reads) == set(READS)
    seen = {name: tuple([await read(c.headers[role]) for role in ROLES]) for name, read in reads.items()}
    differences = [
        f"{name} by {role}: {got}, expected {want}"
        for name in READS
        for role, got, want in zip(ROLES, seen[name], READS[name], strict=True)
        if got != want
    ]
    assert differences == [], "\n".join(differences)


async def _get_bodies(client: Any, url: str, headers: dict[str, str]) -> Any:
    return await _bodies(await client.get(url, headers=headers))


# --- secrets at rest -----------------------------------------------------------------------------


async def test_tokens_and_passwords_are_stored_only_hashed(client: Any, clock: Any, db: Database) -> None:
    password = "correct horse battery staple 42"
    user = await ok(
        await client.post(
            "/api/v1/users",
            json={"name": "Hashed", "email": "hashed@example.org", "roles": [], "password": password},
            headers=ADMIN,
        ),
        201,
    )
    token = (await ok(await client.post(f"/api/v1/users/{user['id']}/tokens", json={}, headers=ADMIN), 201))["token"]
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 200
    async with db.transaction() as session:
        stored_hash = (
            await session.execute(text("SELECT password_hash FROM app_user WHERE id = :id"), {"id": user["id"]})
        ).scalar_one()
        token_hashes = list((await session.execute(text("SELECT token_hash FROM api_token"))).scalars())
        # Every text the database holds, in every table: neither secret may appear anywhere.
        everything: list[str] = []
        for table in ["app_user", "api_token", "event", "idempotent_request", "role_grant"]:
            rows = (await session.execute(text(f"SELECT * FROM {table}"))).all()
            everything.extend(str(value) for row in rows for value in row)
    assert stored_hash.startswith("$argon2"), stored_hash[:10]
    assert hashlib.sha256(token.encode()).hexdigest() in token_hashes
    dump = "\n".join(everything)
    assert password not in dump
    assert token not in dump
    assert token[len("bd_") :][:20] not in dump


class Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


async def test_no_token_or_password_reaches_the_logs(client: Any, clock: Any) -> None:
    root, collect = logging.getLogger(), Collect()
    level = root.level
    root.addHandler(collect)
    root.setLevel(logging.DEBUG)
    try:
        secrets = await _use_secrets(client)
    finally:
        root.removeHandler(collect)
        root.setLevel(level)
    logged = "\n".join(f"{r.getMessage()} {r.__dict__}" for r in collect.records)
    assert collect.records, "nothing was logged at all: the check would prove nothing"
    for secret in [*secrets, "test-admin-token-0123456789"]:
        assert secret not in logged, f"{secret[:6]}… appears in the logs"


async def _use_secrets(client: Any) -> list[str]:
    """Sign in, fail, get refused and revoke with a fresh token; returns the secrets used."""
    password = "another horse battery staple 77"
    user = await ok(
        await client.post(
            "/api/v1/users",
            json={"name": "Logged", "email": "logged@example.org", "roles": [], "password": password},
            headers=ADMIN,
        ),
        201,
    )
    issued = await ok(await client.post(f"/api/v1/users/{user['id']}/tokens", json={}, headers=ADMIN), 201)
    token = issued["token"]
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 200
    assert (await client.get("/api/v1/me", headers=bearer(token + "x"))).status_code == 401
    assert (await client.post("/api/v1/member-bodies", json={"code": 1}, headers=bearer(token))).status_code == 400
    assert (await client.delete(f"/api/v1/tokens/{issued['id']}", headers=bearer(token))).status_code == 204
    assert (await client.get("/api/v1/me", headers=bearer(token))).status_code == 401
    return [token, token[3:23], password]
