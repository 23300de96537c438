"""Compiled comment tables and results reports: requesting, building and serving them.

A document records the last event whose content it reflects (`source_event_id`). A download
finds the newest ready document that is still current, or requests a build (an event the
builder consumes); a change to the comments makes every older document stale.
"""

from __future__ import annotations

import asyncio
import hashlib
import tempfile
import time
from collections.abc import Iterator, Sequence
from datetime import datetime
from itertools import groupby
from operator import itemgetter
from typing import Any

from sqlalchemy import Table, bindparam, func, update
from sqlalchemy import select as sa_select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas.comments import CompiledRow
from schemas.enums import BallotStatus, Role
from schemas.events import DocumentFailed, DocumentGenerated, DocumentRequested
from schemas.routing import COMMENT_CONTENT
from schemas.tables import Ballot, Comment, Committee, Document, Eligibility, Event, MemberBody, Project
from schemas.types import utcnow
from services.documents.comment_table import write_comment_table
from services.documents.report import ReportInfo, ReportParty, Standing, write_results_report
from services.documents.table_frame import TableInfo
from services.documents.table_rows import TableRow
from services.platform import events, heap
from services.platform.db import Database
from services.rules import clauses, draft_names
from services.rules.actors import COLLATION, Principal, is_committee_officer, require_body
from services.rules.errors import Conflict, Forbidden
from services.rules.visibility import readable_bodies
from services.usecases import ballots, comments, committees

COMMENT_TABLE = "comment_table"
REPORT = "report"
VARIANTS = ("clause", "member")


async def content_version(session: AsyncSession, ballot_id: int) -> int:
    """The id of the last event that changed what the ballot's comment table shows (0: none)."""
    query = select(func.max(Event.id)).where(
        Event.aggregate == f"ballot:{ballot_id}", col(Event.type).in_(sorted(COMMENT_CONTENT))
    )
    return int((await session.execute(query)).scalar_one() or 0)


async def close_version(session: AsyncSession, ballot_id: int) -> int:
    query = select(func.max(Event.id)).where(Event.aggregate == f"ballot:{ballot_id}", Event.type == "ballot.closed")
    return int((await session.execute(query)).scalar_one() or 0)


async def _latest(session: AsyncSession, ballot_id: int, kind: str, variant: str) -> Document | None:
    query = (
        select(Document)
        .where(Document.ballot_id == ballot_id, Document.kind == kind, Document.variant == variant)
        .order_by(col(Document.source_event_id).desc(), col(Document.id).desc())
        .limit(1)
    )
    return (await session.execute(query)).scalar_one_or_none()


async def request(
    session: AsyncSession, actor: Principal, ballot: Ballot, kind: str, variant: str, now: datetime
) -> Document:
    """The current document of this kind, or a new build request for it (never two for one version)."""
    assert ballot.id is not None
    version = await (
        content_version(session, ballot.id) if kind == COMMENT_TABLE else close_version(session, ballot.id)
    )
    latest = await _latest(session, ballot.id, kind, variant)
    if latest is not None and latest.source_event_id >= version and latest.status in ("ready", "requested"):
        return latest
    document = Document(
        ballot_id=ballot.id, kind=kind, variant=variant, source_event_id=version, status="requested", requested_at=now
    )
    try:
        async with session.begin_nested():
            session.add(document)
            await session.flush()
    except IntegrityError:
        # Another process (a download, a worker) requested this version at the same moment: theirs stands.
        latest = await _latest(session, ballot.id, kind, variant)
        if latest is None:
            raise
        return latest
    assert document.id is not None
    await events.on_ballot(
        session,
        ballot,
        DocumentRequested(
            ballot_id=ballot.id, document_id=document.id, kind=kind, variant=variant, source_event_id=version
        ),
        actor=actor,
        now=now,
    )
    return document


async def may_download(session: AsyncSession, principal: Principal, ballot: Ballot) -> None:
    """Officers at any time ("comments so far"); the committee's participants once it closed."""
    chain = await committees.chain(session, ballot.committee_id)
    if is_committee_officer(principal, chain):
        return
    if ballot.status == BallotStatus.CLOSED.value:
        assert ballot.id is not None
        if readable_bodies(principal, ballot, chain, await ballots.eligibility(session, ballot.id)) is None:
            return
    raise Forbidden("The compiled comments are available to the committee's members once the ballot has closed.")


async def comment_table(
    session: AsyncSession, principal: Principal, ballot_id: int, variant: str, now: datetime
) -> Document:
    ballot = await ballots.get_ballot(session, ballot_id)
    await may_download(session, principal, ballot)
    return await request(session, principal, ballot, COMMENT_TABLE, variant, now)


async def report(session: AsyncSession, principal: Principal, ballot_id: int, now: datetime) -> Document:
    ballot = await ballots.get_ballot(session, ballot_id)
    await may_download(session, principal, ballot)
    if ballot.status != BallotStatus.CLOSED.value:
        raise Conflict("The results report exists once the ballot has closed.")
    return await request(session, principal, ballot, REPORT, "", now)


# --- building (the builder consumer) -------------------------------------------------------------


async def _context(session: AsyncSession, ballot: Ballot) -> tuple[Project, Committee, str]:
    project = await session.get(Project, ballot.project_id)
    committee = await session.get(Committee, ballot.committee_id)
    assert project is not None and committee is not None
    return project, committee, draft_names.of_ballot(ballot, project)


_COMMENT: Table = Comment.__table__  # type: ignore[attr-defined]
# The table's columns, not the ORM attributes: a Core select skips the ORM's per-row loading,
# about half the time of reading 20,000 comments.
_TABLE_ROWS = sa_select(*(_COMMENT.c[name] for name in CompiledRow._fields)).where(
    _COMMENT.c.ballot_id == bindparam("ballot_id"), _COMMENT.c.superseded.is_(False)
)


def _by_clause(rows: list[CompiledRow]) -> list[CompiledRow]:
    """`clauses.comment_order_key` order, with the reference's natural key computed only where it
    decides: between rows of the same clause, line and body. Same order as sorting on the whole
    key, which spent most of a 20,000-row read on the natural keys of unique references."""
    keyed = sorted(((clauses.comment_order_prefix(r.clause, r.line, r.body), r) for r in rows), key=itemgetter(0))
    ordered: list[CompiledRow] = []
    for _, group in groupby(keyed, key=itemgetter(0)):
        tied = [r for _, r in group]
        if len(tied) > 1:
            tied.sort(key=lambda r: clauses.reference_key(r.reference))
        ordered.extend(tied)
    return ordered


async def table_rows(session: AsyncSession, ballot_id: int, variant: str) -> list[CompiledRow]:
    """The current comments as plain rows (light: 20,000 ORM objects would cost far more memory)."""
    result = await session.execute(_TABLE_ROWS, {"ballot_id": ballot_id})
    with heap.collection_paused():  # no await inside: the loop's other tasks keep their collector
        make = tuple.__new__  # a third of CompiledRow(*row)'s time
        rows: list[CompiledRow] = [make(CompiledRow, r) for r in result.all()]
        if variant == "member":
            rows.sort(key=lambda r: clauses.member_order_key(r.body, r.reference, r.clause, r.line))
            return rows
        return _by_clause(rows)


async def downloadable_rows(
    session: AsyncSession, principal: Principal, ballot_id: int, variant: str
) -> list[CompiledRow]:
    """The rows of the CSV and XLSX downloads, for those who may download them."""
    await may_download(session, principal, await ballots.get_ballot(session, ballot_id))
    return await table_rows(session, ballot_id, variant)


def _as_table_rows(rows: Sequence[CompiledRow]) -> Iterator[TableRow]:
    for r in rows:
        yield TableRow(
            body=r.body,
            reference=r.reference,
            line=r.line,
            clause=r.clause,
            element=r.element,
            type=r.shown_type,
            comment=r.comment,
            proposed_change=r.proposed_change,
            observation=r.observation,
            disposition=r.disposition,
        )


_BLANK_ROW = TableRow("", "", "", "", "", "", "", "", "", None)


async def body_template(
    session: AsyncSession, principal: Principal, ballot_id: int, body: str, now: datetime
) -> tuple[TableInfo, list[TableRow], str]:
    """A body's own filled template: the ISO form with the header filled and the body's current
    comments in its rows, to work on offline and upload back (unchanged, it records nothing).

    The MB/NC cell holds the body's own reference where its comments came with one, else the
    body's code, so the upload reads each row back as it is stored. No observations: those are
    the secretariat's. A body without comments gets the form with one empty row to fill."""
    ballot = await ballots.get_ballot(session, ballot_id)
    require_body(principal, body, Role.DELEGATE, Role.COMMENTER)
    project, _committee, name = await _context(session, ballot)
    stored = await comments.current_set(session, ballot_id, body)
    rows = [
        TableRow(
            body=body,
            reference=c.original_reference,
            line=c.line,
            clause=c.clause,
            element=c.element,
            type=c.type_as_written or c.type,
            comment=c.comment,
            proposed_change=c.proposed_change,
            observation="",
            disposition=None,
        )
        for c in stored
    ]
    info = TableInfo(date=now.date().isoformat(), document=name, project=project.reference, project_title=project.title)
    filename = f"{name.replace('/', '-').replace(' ', '_')}_{body}_comments.docx"
    return info, rows or [_BLANK_ROW], filename


def _render(writer: Any, *args: Any) -> tuple[bytes, int]:
    with tempfile.TemporaryFile() as out:
        count = writer(*args, out)
        out.seek(0)
        return out.read(), int(count or 0)


def _standing(e: Eligibility, members: dict[str, str]) -> Standing:
    if e.kind == "liaison":
        return "liaison"
    if e.is_p_member:
        return "P"
    return "O" if members.get(e.party) == "O" else "outside"


async def _parties(session: AsyncSession, ballot: Ballot) -> list[ReportParty]:
    assert ballot.id is not None
    names = {b.code: b.acronym for b in (await session.execute(select(MemberBody))).scalars()}
    votes = {v.body: v for v in await ballots.current_votes(session, ballot.id)}
    # The eligibility snapshot knows P-members; O-members are told from the bodies outside the
    # committee (who vote at DIS/FDIS) by the memberships when the ballot opened.
    members = await committees.members_at(session, ballot.committee_id, ballot.opened_at or utcnow())
    parties = []
    for e in await ballots.eligibility(session, ballot.id):
        if not e.may_vote and e.party not in votes:
            continue
        vote = votes.get(e.party)
        parties.append(
            ReportParty(
                party=e.party,
                name=names.get(e.party, e.party),
                standing=_standing(e, members),
                may_vote=e.may_vote,
                position=vote.position if vote else None,
                reasons=vote.reasons if vote else "",
                participate=vote.participate if vote else None,
                experts=tuple(x.get("name", "") for x in (vote.experts or [])) if vote else (),
            )
        )
    return parties


async def build(db: Database, document_id: int) -> Document | None:
    """Build a requested document. Reads in one short transaction, renders outside any transaction
    (seconds for a large table; SQLite would otherwise hold its write lock), stores in another.
    Idempotent: the store is conditional on the request still being open."""
    started = time.perf_counter()
    async with db.transaction() as session:
        document = await session.get(Document, document_id)
        if document is None or document.status != "requested":
            return document
        newer = await _latest(session, document.ballot_id, document.kind, document.variant)
        if newer is not None and newer.source_event_id > document.source_event_id:
            # A burst of observations requests a build each; only the newest is worth building.
            document.status = "superseded"
            session.add(document)
            return document
        ballot = await ballots.get_ballot(session, document.ballot_id)
        project, committee, name = await _context(session, ballot)
        now = utcnow()
        if document.kind == COMMENT_TABLE:
            rows = await table_rows(session, ballot.id or 0, document.variant)
            closed = ballot.status == BallotStatus.CLOSED.value and ballot.closed_at is not None
            info = TableInfo(
                # A closed ballot's table is dated by its close; an open one's by the day it was built.
                date=(ballot.closed_at if closed and ballot.closed_at else now).date().isoformat(),
                document=name,
                project=project.reference,
                project_title=project.title,
                comments_so_far=not closed,
            )
            job: tuple[Any, ...] = (write_comment_table, info, _as_table_rows(rows))
            suffix = "_by_member" if document.variant == "member" else ""
            filename = f"{name.replace('/', '-').replace(' ', '_')}_comments{suffix}.docx"
        else:
            parties = await _parties(session, ballot)
            info_r = ReportInfo(
                ballot_type=ballot.type,
                rulebook=ballot.rulebook,
                document=name,
                project_reference=project.reference,
                project_title=project.title,
                committee=committee.reference,
                opened_at=ballot.opened_at,
                closes_at=ballot.closes_at,
                closed_at=ballot.closed_at,
            )
            job = (write_results_report, info_r, ballot.result or {}, parties)
            filename = f"{name.replace('/', '-').replace(' ', '_')}_result.docx"
    try:
        content, count = await asyncio.to_thread(_render, *job)
    except Exception as exc:
        await _fail(db, document_id, f"{type(exc).__name__}: {exc}")
        raise
    seconds = round(time.perf_counter() - started, 3)
    checksum = hashlib.sha256(content).hexdigest()
    async with db.transaction() as session:
        now = utcnow()
        stored = await session.execute(
            update(Document)
            .where(col(Document.id) == document_id, col(Document.status) == "requested")
            .values(
                status="ready",
                content=content,
                checksum=checksum,
                size=len(content),
                rows=count,
                filename=filename,
                built_at=now,
                build_seconds=seconds,
            )
        )
        if stored.rowcount == 1:  # type: ignore[attr-defined]
            await events.on_ballot(
                session,
                ballot,
                DocumentGenerated(
                    ballot_id=ballot.id or 0,
                    document_id=document_id,
                    kind=document.kind,
                    variant=document.variant,
                    checksum=checksum,
                    size=len(content),
                    rows=count,
                    seconds=seconds,
                ),
                actor=COLLATION,
                now=now,
            )
        return await session.get(Document, document_id)


async def _fail(db: Database, document_id: int, error: str) -> None:
    """Record the failure; the next download requests a fresh build."""
    async with db.transaction() as session:
        document = await session.get(Document, document_id)
        if document is None or document.status != "requested":
            return
        document.status = "failed"
        document.error = error[:2000]
        session.add(document)
        ballot = await ballots.get_ballot(session, document.ballot_id)
        await events.on_ballot(
            session,
            ballot,
            DocumentFailed(ballot_id=ballot.id or 0, document_id=document_id, kind=document.kind, error=error[:500]),
            actor=COLLATION,
            now=utcnow(),
        )
