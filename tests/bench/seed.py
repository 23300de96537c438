"""Data set-up through Core inserts (fast), and ballots opened through the real use cases."""

from __future__ import annotations

import itertools
import random
import string
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any

from sqlalchemy import insert, select

from schemas import api
from schemas.enums import BallotType, Role
from schemas.events import VoteCast, VoteChanged
from schemas.tables import (
    ApiToken,
    Ballot,
    Comment,
    Committee,
    Event,
    MemberBody,
    Membership,
    Project,
    RoleGrant,
    User,
    Vote,
)
from schemas.types import utcnow
from services.platform import events
from services.platform.db import Database
from services.platform.identity import hash_token
from services.rules import digests
from services.rules.actors import ENV_ADMIN, Grant, Principal
from services.usecases import ballots

WORDS = [
    "the",
    "clause",
    "requirement",
    "shall",
    "should",
    "may",
    "document",
    "organization",
    "service",
    "process",
    "quality",
    "customer",
    "annex",
    "table",
    "figure",
    "note",
    "definition",
    "term",
    "scope",
    "normative",
    "reference",
    "informative",
    "consistent",
    "unclear",
    "ambiguous",
    "wording",
    "replace",
    "delete",
    "insert",
    "align",
    "terminology",
    "editorial",
    "technical",
    "measure",
    "performance",
    "evaluation",
    "criteria",
    "stakeholder",
    "interested",
    "party",
    "outcome",
]


def body_codes(n: int) -> list[str]:
    """`n` letter-only codes (AAA, AAB, …): plain codes the template reader resolves as is."""
    return ["".join(t) for t in itertools.islice(itertools.product(string.ascii_uppercase, repeat=3), n)]


def _text(rng: random.Random, low: int, high: int) -> str:
    target = rng.randint(low, high)
    out: list[str] = []
    size = 0
    while size < target:
        word = rng.choice(WORDS)
        out.append(word)
        size += len(word) + 1
    text = " ".join(out)[:target].rstrip()
    return text[:1].upper() + text[1:] + "."


def comment_rows(n: int, bodies: list[str], seed: int = 5) -> list[dict[str, Any]]:
    """`n` comments of realistic size: comment 200–600 chars, proposed change 30–400, an
    observation in 40 % of rows; row 1 holds characters that need escaping."""
    rng = random.Random(seed)
    rows = []
    per_body: dict[str, int] = {}
    for i in range(n):
        body = bodies[i % len(bodies)]
        seq = per_body[body] = per_body.get(body, 0) + 1
        comment = _text(rng, 200, 600)
        if i == 0:
            comment = "Use \" < > & ' consistently. " + comment
        rows.append(
            {
                "body": body,
                "seq": seq,
                "reference": f"{body}-{seq:03d}",
                "line": str(rng.randint(1, 900)),
                "clause": f"{rng.randint(1, 9)}.{rng.randint(1, 6)}.{rng.randint(1, 4)}",
                "element": rng.choice(("", "", "Table 4", "Figure 2", "Note 1", "a)")),
                "type": rng.choice(("ge", "te", "ed")),
                "comment": comment,
                "proposed_change": _text(rng, 30, 400),
                "observation": _text(rng, 20, 150) if rng.random() < 0.4 else "",
            }
        )
    return rows


@dataclass
class World:
    url: str
    committee_id: int = 0
    codes: list[str] = field(default_factory=list)
    tokens: dict[str, str] = field(default_factory=dict)
    user_ids: dict[str, int] = field(default_factory=dict)
    secretary: Principal | None = None
    projects: int = 0

    def delegate(self, code: str) -> Principal:
        return Principal(
            user_id=self.user_ids[code],
            name=f"Delegate {code}",
            email=f"{code.lower()}@bench.example",
            grants=(Grant(Role.DELEGATE, member_body=code),),
        )


async def seed_world(db: Database, n_bodies: int = 170, p_members: int = 60) -> World:
    """A committee with `n_bodies` member bodies (the first `p_members` P, the rest O), a
    secretary and one delegate with an API token per body."""
    now = utcnow()
    world = World(url=db.url, codes=body_codes(n_bodies))
    async with db.transaction() as s:
        await s.execute(
            insert(MemberBody),
            [{"code": c, "acronym": f"{c}SI", "name": f"Standards {c}", "created_at": now} for c in world.codes],
        )
        world.committee_id = (
            await s.execute(
                insert(Committee)
                .values(reference="ISO/TC 999", title="Benchmarks", created_at=now)
                .returning(Committee.id)  # type: ignore[arg-type]
            )
        ).scalar_one()
        await s.execute(
            insert(Membership),
            [
                {
                    "committee_id": world.committee_id,
                    "body": c,
                    "status": "P" if i < p_members else "O",
                    "valid_from": now,
                }
                for i, c in enumerate(world.codes)
            ],
        )
        people = [("secretary", "Secretary")] + [(c, f"Delegate {c}") for c in world.codes]
        for key, name in people:
            uid = (
                await s.execute(
                    insert(User)
                    .values(name=name, email=f"{key.lower()}@bench.example", active=True, created_at=now)
                    .returning(User.id)  # type: ignore[arg-type]
                )
            ).scalar_one()
            world.user_ids[key] = uid
        grants = [{"user_id": world.user_ids["secretary"], "role": "secretary", "committee_id": world.committee_id}]
        grants += [{"user_id": world.user_ids[c], "role": "delegate", "member_body": c} for c in world.codes]
        await s.execute(insert(RoleGrant), grants)
        tokens = []
        for key, _ in people:
            token = f"bd_bench_{key}_{random.getrandbits(128):032x}"
            world.tokens[key] = token
            tokens.append(
                {
                    "user_id": world.user_ids[key],
                    "token_hash": hash_token(token),
                    "label": "bench",
                    "created_at": now,
                    "expires_at": now + timedelta(days=90),
                }
            )
        await s.execute(insert(ApiToken), tokens)
    world.secretary = Principal(
        user_id=world.user_ids["secretary"],
        name="Secretary",
        email="secretary@bench.example",
        grants=(Grant(Role.SECRETARY, committee_id=world.committee_id),),
    )
    return world


async def open_ballot(
    db: Database, world: World, type_: str = "DIS", *, open_for: timedelta = timedelta(weeks=12)
) -> int:
    """A new project at 40.00 with a ballot of `type_` closing `open_for` from now, created and
    opened by the use cases."""
    world.projects += 1
    now = utcnow()
    async with db.transaction() as s:
        project_id = (
            await s.execute(
                insert(Project)
                .values(
                    committee_id=world.committee_id,
                    reference=f"ISO {90000 + world.projects}",
                    title="Benchmark project",
                    deliverable="IS",
                    stage="40.00",
                    created_at=now,
                )
                .returning(Project.id)  # type: ignore[arg-type]
            )
        ).scalar_one()
    async with db.transaction() as s:
        ballot, _ = await ballots.create_ballot(
            s,
            ENV_ADMIN,
            api.BallotCreate(project_id=project_id, type=BallotType(type_), closes_at=now + open_for),
            now,
        )
        ballot_id = ballot.id
    assert ballot_id is not None
    async with db.transaction() as s:
        await ballots.open_ballot(s, ENV_ADMIN, ballot_id, utcnow())
    return ballot_id


async def insert_comments(db: Database, ballot_id: int, rows: list[dict[str, Any]], batch: int = 2000) -> None:
    now = utcnow()
    async with db.transaction() as s:
        for start in range(0, len(rows), batch):
            chunk = [
                {
                    **r,
                    "ballot_id": ballot_id,
                    "set_version": 1,
                    "superseded": False,
                    "original_reference": "",
                    "type_as_written": "",
                    "disposition": None,
                    "actor": "bench",
                    "submitted_at": now,
                }
                for r in rows[start : start + batch]
            ]
            await s.execute(insert(Comment), chunk)


async def insert_votes(db: Database, world: World, ballot_id: int, changes: int = 1) -> None:
    """Each body votes; `changes` > 1 adds earlier votes that the latest one overrides. Each vote
    gets the authenticated event the application would write, so a close counts it."""
    now = utcnow()
    positions = ("approve", "disapprove", "abstain")
    async with db.transaction() as s:
        key = events.key_of(s)
        ballot = await s.get(Ballot, ballot_id)
        assert ballot is not None
        for round_ in range(changes):
            rows = []
            for i, code in enumerate(world.codes):
                position = positions[(i + round_) % 3]
                rows.append(
                    {
                        "ballot_id": ballot_id,
                        "body": code,
                        "position": position,
                        "reasons": "Clause 5 conflicts with ISO 9001." if position == "disapprove" else "",
                        "actor_id": world.user_ids[code],
                        "actor": f"Delegate {code}",
                        "on_behalf_of": code,
                        "cast_at": now,
                    }
                )
            ids = (await s.execute(insert(Vote).returning(Vote.id), rows)).scalars().all()
            recorded = []
            for i, (vote_id, r) in enumerate(zip(ids, rows, strict=True)):
                digest = digests.vote(r["position"], r["reasons"], None, [])
                common = {"ballot_id": ballot_id, "vote_id": vote_id, "body": r["body"], "position": r["position"]}
                payload: VoteCast | VoteChanged = (
                    VoteCast(**common, reasons=bool(r["reasons"]), digest=digest)
                    if round_ == 0
                    else VoteChanged(
                        **common,
                        previous_position=positions[(i + round_ - 1) % 3],
                        reasons=bool(r["reasons"]),
                        digest=digest,
                    )
                )
                recorded.append(
                    events.row(
                        payload,
                        key=key,
                        aggregate=f"ballot:{ballot_id}",
                        actor=ENV_ADMIN,
                        now=now,
                        committee_id=ballot.committee_id,
                        on_behalf_of=r["body"],
                    )
                )
            await s.execute(insert(Event), recorded)


async def count(db: Database, query: Any) -> int:
    async with db.transaction() as s:
        return int((await s.execute(query)).scalar_one())


__all__ = [
    "World",
    "body_codes",
    "comment_rows",
    "count",
    "insert_comments",
    "insert_votes",
    "open_ballot",
    "seed_world",
    "select",
]
