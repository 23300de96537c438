"""The convenor's comment list: a ballot's comments, filtered by clause, type and body."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession

from schemas.tables import Ballot, Comment, Project
from services.rules import draft_names
from services.rules.actors import Principal, is_committee_officer
from services.usecases import ballots, committees, projects, similar
from services.usecases.similar import Earlier


@dataclass
class SimilarGroup:
    references: tuple[str, ...]
    clause: str
    score: float
    comments: list[Comment]
    key: str  # names the group's form fields


@dataclass
class CommentsView:
    ballot: Ballot
    project: Project
    document: str
    comments: list[Comment]
    total: int
    observed: int
    bodies: list[str]
    officer: bool
    similar: list[SimilarGroup] | None  # None: the viewer may not compare every body's comments
    earlier: dict[str, list[Earlier]]  # reference -> what its body said the same before


def _matches(c: Comment, clause: str, type_: str, member: str) -> bool:
    if member and c.body != member:
        return False
    if type_ and c.type != type_:
        return False
    if clause:
        wanted, have = clause.strip().lower(), c.clause.strip().lower()
        # "5" finds 5, 5.1 and 5.10, not 50: a clause and its subclauses.
        if not (have == wanted or have.startswith(wanted + ".") or (not wanted[-1:].isdigit() and wanted in have)):
            return False
    return True


async def read_comments(
    session: AsyncSession,
    principal: Principal,
    ballot_id: int,
    order: str,
    clause: str,
    type_: str,
    member: str,
    repeated: bool = False,
) -> CommentsView:
    ballot = await ballots.get_ballot(session, ballot_id)
    project = await projects.get_project(session, ballot.project_id)
    with_earlier = await similar.comments_with_earlier(session, principal, ballot_id, order)
    every = [c for c, _ in with_earlier]
    earlier = {c.reference: e for c, e in with_earlier if e}
    groups = await similar.visible_groups(session, principal, ballot_id)
    by_reference = {c.reference: c for c in every}
    return CommentsView(
        ballot=ballot,
        project=project,
        document=draft_names.of_ballot(ballot, project),
        comments=[c for c in every if _matches(c, clause, type_, member) and (not repeated or c.reference in earlier)],
        total=len(every),
        observed=sum(1 for c in every if c.observation or c.disposition),
        bodies=sorted({c.body for c in every}),
        officer=is_committee_officer(principal, await committees.chain(session, ballot.committee_id)),
        similar=None
        if groups is None
        else [
            SimilarGroup(g.references, g.clause, g.score, [by_reference[r] for r in g.references], f"g{n}")
            for n, g in enumerate(groups, start=1)
        ],
        earlier=earlier,
    )
