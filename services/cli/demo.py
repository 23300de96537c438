"""Demo data (SPEC §7): ISO/TC 312 Service excellence, its members, projects and ballots.

Loaded through the same use cases as real data, so the demo's event log tells a true story.
Committee and WG titles other than the TC's are illustrative.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas import api
from schemas.enums import BallotType, CommentType, Deliverable, LiaisonCategory, Position, Role
from schemas.tables import ApiToken, Committee, User
from services.platform.db import Database
from services.platform.identity import principal_for_user
from services.platform.settings import Settings
from services.rules.actors import DEMO, Principal
from services.usecases import ballots, comments, committees, projects, users, votes

TOKEN_LABEL = "demo start-up"

BODIES = [
    ("DE", "DIN", "Deutsches Institut für Normung"),
    ("IN", "BIS", "Bureau of Indian Standards"),
    ("CY", "CYS", "Cyprus Organisation for Standardisation"),
    ("ES", "UNE", "Asociación Española de Normalización"),
    ("BB", "BNSI", "Barbados National Standards Institution"),
    ("RU", "GOST R", "Federal Agency on Technical Regulating and Metrology"),
    ("JP", "JISC", "Japanese Industrial Standards Committee"),
    ("CN", "SAC", "Standardization Administration of China"),
    ("KR", "KATS", "Korean Agency for Technology and Standards"),
    ("FR", "AFNOR", "Association Française de Normalisation"),
    ("GB", "BSI", "British Standards Institution"),
    ("SE", "SIS", "Swedish Institute for Standards"),
    ("CH", "SNV", "Swiss Association for Standardization"),
    ("NL", "NEN", "Royal Netherlands Standardization Institute"),
    ("US", "ANSI", "American National Standards Institute"),
    ("CA", "SCC", "Standards Council of Canada"),
    ("AU", "SA", "Standards Australia"),
    ("BR", "ABNT", "Associação Brasileira de Normas Técnicas"),
    ("KE", "KEBS", "Kenya Bureau of Standards"),
    ("**", "ISO/CS", "ISO Central Secretariat editing unit"),
]
P_MEMBERS = ["DE", "IN", "CY", "ES", "BB", "RU", "JP", "CN", "KR"]
O_MEMBERS = ["FR", "GB", "SE", "CH", "NL"]
SUBGROUPS = [
    ("WG 1", "Fundamentals and terminology"),
    ("WG 2", "Service excellence maturity"),
    ("WG 4", "Service excellence in public service organizations"),
    ("WG 5", "Digital approaches to service excellence"),
    ("TG 1", "Communication and outreach"),
    ("TG 2", "Alignment with ISO 9001"),
]


@dataclass(frozen=True)
class DemoUser:
    key: str
    name: str
    email: str
    roles: tuple[tuple[Role, str | None], ...]  # (role, member body code or None for the TC)


DEMO_USERS = [
    DemoUser("admin", "Ada Admin", "admin@demo.ballotdesk.org", ((Role.ADMIN, None),)),
    DemoUser("secretary", "Sam Secretary", "secretary@demo.ballotdesk.org", ((Role.SECRETARY, None),)),
    DemoUser("convenor", "Cora Convenor", "convenor@demo.ballotdesk.org", ((Role.CONVENOR, None),)),
    DemoUser("delegate-de", "Dieter Delegate (DIN)", "de@demo.ballotdesk.org", ((Role.DELEGATE, "DE"),)),
    DemoUser("delegate-jp", "Junko Delegate (JISC)", "jp@demo.ballotdesk.org", ((Role.DELEGATE, "JP"),)),
    DemoUser("delegate-fr", "Fanny Delegate (AFNOR)", "fr@demo.ballotdesk.org", ((Role.DELEGATE, "FR"),)),
    DemoUser("commenter-es", "Elena Commenter (UNE)", "es@demo.ballotdesk.org", ((Role.COMMENTER, "ES"),)),
    DemoUser("observer", "Omar Observer", "observer@demo.ballotdesk.org", ((Role.OBSERVER, None),)),
]

TC = "ISO/TC 312"


async def is_loaded(session: AsyncSession) -> bool:
    return (await session.execute(select(Committee).where(Committee.reference == TC))).first() is not None


async def load(db: Database, now: datetime) -> bool:
    """Load the demo once; returns False when it was already there."""
    async with db.transaction() as session:
        if await is_loaded(session):
            return False
        await _directory(session, now - timedelta(days=400))
    tc_id = await _committee_id(db, TC)
    async with db.transaction() as session:
        await _users(session, tc_id, now - timedelta(days=400))
        ids = await _projects(session, tc_id, now - timedelta(days=300))
    await _dis_voted(db, ids["ISO 11367"], now)
    await _cd_open(db, ids["ISO/TS 19387"], now)
    return True


async def _committee_id(db: Database, reference: str) -> int:
    async with db.transaction() as session:
        committee = (await session.execute(select(Committee).where(Committee.reference == reference))).scalar_one()
        assert committee.id is not None
        return committee.id


async def _directory(session: AsyncSession, t: datetime) -> None:
    for code, acronym, name in BODIES:
        await committees.create_body(session, DEMO, api.MemberBodyCreate(code=code, acronym=acronym, name=name), t)
    tc = await committees.create_committee(
        session, DEMO, api.CommitteeCreate(reference=TC, title="Service excellence", secretariat="DE"), t
    )
    assert tc.id is not None
    for ref, title in SUBGROUPS:
        await committees.create_committee(
            session, DEMO, api.CommitteeCreate(reference=f"{TC}/{ref}", title=title, parent_id=tc.id), t
        )
    for code in P_MEMBERS:
        await committees.set_membership(session, DEMO, tc.id, code, "P", t)
    for code in O_MEMBERS:
        await committees.set_membership(session, DEMO, tc.id, code, "O", t)
    for code, name in (
        ("CEN/TC 465", "Sustainable and smart cities and communities"),
        ("ISO/TC 342", "Management of the service processes"),
    ):
        await committees.set_liaison(
            session, DEMO, tc.id, code, api.LiaisonPut(code=code, category=LiaisonCategory.A, name=name), t
        )


async def _users(session: AsyncSession, tc_id: int, t: datetime) -> None:
    for u in DEMO_USERS:
        roles = [
            api.RoleIn(role=role, member_body=body)
            if body
            else api.RoleIn(role=role, committee_id=None if role in (Role.ADMIN, Role.OBSERVER) else tc_id)
            for role, body in u.roles
        ]
        if any(r.role is Role.OBSERVER for r in roles):
            roles = [api.RoleIn(role=Role.OBSERVER, committee_id=tc_id)]
        await users.create_user(session, DEMO, api.UserCreate(name=u.name, email=u.email, roles=roles), t)


async def _projects(session: AsyncSession, tc_id: int, t: datetime) -> dict[str, int]:
    specs = [
        ("ISO 23592", "Service excellence — Principles and model", Deliverable.IS, "60.60", 2021),
        ("ISO/TS 19387", "Service excellence — Maturity model", Deliverable.TS, "30.00", None),
        ("ISO/TS 19390", "Service excellence — Implementation approach for ISO 23592", Deliverable.TS, "20.00", None),
        (
            "ISO 11367",
            "Service excellence — Principles and model for public service organizations",
            Deliverable.IS,
            "40.00",
            None,
        ),
        (
            "ISO/TS 19384",
            "Service excellence — Guidelines for the application of digital approaches to achieve service excellence",
            Deliverable.TS,
            "20.00",
            None,
        ),
    ]
    ids: dict[str, int] = {}
    for reference, title, deliverable, stage, year in specs:
        project = await projects.create_project(
            session,
            DEMO,
            api.ProjectCreate(
                committee_id=tc_id,
                reference=reference,
                title=title,
                deliverable=deliverable,
                stage=stage,
                published_year=year,
            ),
            t,
        )
        assert project.id is not None
        ids[reference] = project.id
    return ids


async def _principal(session: AsyncSession, email: str) -> Principal:
    user = (await session.execute(select(User).where(User.email == email))).scalar_one()
    return await principal_for_user(session, user)


DIS_VOTES: list[tuple[str, Position, str]] = [
    ("DE", Position.APPROVE, ""),
    ("IN", Position.APPROVE, ""),
    ("CY", Position.APPROVE, ""),
    ("ES", Position.DISAPPROVE, "Clause 5 mixes requirements and guidance; see comments ES-001 to ES-002."),
    ("BB", Position.ABSTAIN, ""),
    ("RU", Position.APPROVE, ""),
    ("JP", Position.APPROVE, ""),
    ("CN", Position.APPROVE, ""),
    ("FR", Position.APPROVE, ""),
    ("GB", Position.DISAPPROVE, "The model in clause 4 is not consistent with ISO 23592."),
    ("SE", Position.APPROVE, ""),
    ("US", Position.APPROVE, ""),
    ("CA", Position.ABSTAIN, ""),
]
DIS_COMMENTS: dict[str, list[api.CommentIn]] = {
    "DE": [
        api.CommentIn(
            clause="General",
            type=CommentType.ED,
            comment="Use 'public service organization' consistently.",
            proposed_change="Replace 'public organization' throughout.",
        ),
        api.CommentIn(
            clause="3.2",
            line="112",
            type=CommentType.TE,
            comment="The definition of 'citizen' excludes residents.",
            proposed_change="Use 'service user'.",
        ),
    ],
    "ES": [
        api.CommentIn(
            clause="5.1",
            line="240",
            type=CommentType.TE,
            comment="Requirements and recommendations are mixed in 5.1.",
            proposed_change="Move recommendations to Annex A.",
        ),
        api.CommentIn(
            clause="5.10",
            line="410-415",
            type=CommentType.TE,
            comment="The maturity levels repeat ISO/TS 19387.",
            proposed_change="Refer to ISO/TS 19387 instead.",
        ),
    ],
    "GB": [
        api.CommentIn(
            clause="4",
            line="150",
            type=CommentType.TE,
            comment="Figure 2 does not match the model of ISO 23592.",
            proposed_change="Align Figure 2 with ISO 23592, Figure 1.",
        ),
        api.CommentIn(
            clause="Annex A",
            type=CommentType.ED,
            comment="Annex A is informative but uses 'shall'.",
            proposed_change="Replace 'shall' by 'should'.",
        ),
    ],
    "JP": [
        api.CommentIn(
            clause="3.10", line="130", type=CommentType.ED, comment="Typo: 'excelence'.", proposed_change="'excellence'"
        ),
    ],
}


async def _dis_voted(db: Database, project_id: int, now: datetime) -> None:
    opened = now - timedelta(weeks=14)
    async with db.transaction() as session:
        ballot, _ = await ballots.create_ballot(
            session,
            DEMO,
            api.BallotCreate(project_id=project_id, type=BallotType.DIS, closes_at=opened + timedelta(weeks=12)),
            opened - timedelta(days=1),
        )
        assert ballot.id is not None
        ballot_id = ballot.id
        await ballots.open_ballot(session, DEMO, ballot_id, opened)
    for day, (code, position, reasons) in enumerate(DIS_VOTES, start=3):
        t = opened + timedelta(days=day * 5)
        await votes.take_vote(db, DEMO, ballot_id, code, api.VotePut(position=position, reasons=reasons or None), t)
        async with db.transaction() as session:
            if code in DIS_COMMENTS:
                await comments.replace_comments(
                    session,
                    DEMO,
                    ballot_id,
                    code,
                    [comments.NewComment.from_api(c) for c in DIS_COMMENTS[code]],
                    t,
                )
    async with db.transaction() as session:
        await ballots.close_ballot(session, DEMO, ballot_id, opened + timedelta(weeks=12))


async def _cd_open(db: Database, project_id: int, now: datetime) -> None:
    opened = now - timedelta(days=10)
    async with db.transaction() as session:
        ballot, _ = await ballots.create_ballot(
            session,
            DEMO,
            api.BallotCreate(project_id=project_id, type=BallotType.CD, closes_at=opened + timedelta(weeks=8)),
            opened - timedelta(days=1),
        )
        assert ballot.id is not None
        ballot_id = ballot.id
        await ballots.open_ballot(session, DEMO, ballot_id, opened)
        de = await _principal(session, "de@demo.ballotdesk.org")
    voted = opened + timedelta(days=2)
    await votes.take_vote(db, de, ballot_id, "DE", api.VotePut(position=Position.APPROVE_WITH_COMMENTS), voted)
    async with db.transaction() as session:
        await comments.replace_comments(
            session,
            de,
            ballot_id,
            "DE",
            [
                comments.NewComment(
                    clause="6.3",
                    line="301",
                    type=CommentType.TE.value,
                    comment="Level 3 and level 4 criteria overlap.",
                    proposed_change="Merge the criteria of 6.3.2 into 6.3.1.",
                )
            ],
            opened + timedelta(days=2),
        )


async def issue_passwords(db: Database, now: datetime) -> dict[str, str]:
    """Fresh passwords for the demo users' sign-in to the web pages, printed beside the tokens."""
    passwords = {u.key: f"{u.key.split('-')[0]}-{secrets.token_urlsafe(6)}" for u in DEMO_USERS}
    # Hashed before the transaction, so argon2 never holds the write lock.
    hashes = {key: await users.new_password(password) for key, password in passwords.items()}
    issued: dict[str, str] = {}
    async with db.transaction() as session:
        for u in DEMO_USERS:
            user = (await session.execute(select(User).where(User.email == u.email))).scalar_one_or_none()
            if user is None or user.id is None:
                continue
            await users.set_password(session, DEMO, user.id, hashes[u.key], now)
            issued[u.key] = passwords[u.key]
    return issued


async def issue_tokens(db: Database, now: datetime, days: int = Settings.token_days) -> list[tuple[DemoUser, str]]:
    """Fresh tokens for the demo users (the default lifetime); the previous start-up's are revoked."""
    issued: list[tuple[DemoUser, str]] = []
    async with db.transaction() as session:
        for u in DEMO_USERS:
            user = (await session.execute(select(User).where(User.email == u.email))).scalar_one_or_none()
            if user is None or user.id is None:
                continue
            previous = select(ApiToken.id).where(
                col(ApiToken.user_id) == user.id,
                col(ApiToken.label) == TOKEN_LABEL,
                col(ApiToken.revoked_at).is_(None),
            )
            for token_id in list((await session.execute(previous)).scalars()):
                assert token_id is not None
                await users.revoke_token(session, DEMO, token_id, now)  # recorded, as any revocation
            _, plain = await users.issue_token(session, DEMO, user.id, TOKEN_LABEL, now, days=days, max_days=days)
            issued.append((u, plain))
    return issued
