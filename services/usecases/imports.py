"""Word files coming in: a body's filled template, a compiled table, the convenor's observations.

Every import is all-or-nothing: the file is parsed and checked first, and only a clean file is
written, in one transaction with its events.
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas.comments import MAX_PER_SET, fields_of
from schemas.enums import BallotStatus, Role
from schemas.events import CommentsImported, ImportedSet, ObservationsImported
from schemas.tables import Ballot, Comment, MemberBody
from services.documents import reader, safety
from services.documents.safety import UploadLimits, UploadRejected
from services.platform import events
from services.platform.settings import Settings
from services.rules import digests
from services.rules.actors import Principal, require_body, require_committee_officer, require_secretary
from services.rules.errors import Conflict, InvalidInput, UnsupportedUpload, UploadTooLarge
from services.usecases import ballots, comments, committees

MAX_PARTY = 40
# Word files parsed at once by this process: each may hold its upload limits' worth of parts in
# memory, so concurrent uploads wait their turn rather than add up.
PARSING = threading.BoundedSemaphore(2)
Parsed = tuple[list[reader.CommentRow], list[reader.RowProblem]]


def upload_limits(settings: Settings) -> UploadLimits:
    return UploadLimits(
        max_parts=settings.upload_max_parts,
        max_inflated_bytes=settings.upload_max_inflated_bytes,
        max_part_bytes=settings.upload_max_part_bytes,
    )


async def aliases(session: AsyncSession) -> dict[str, str]:
    """Codes and acronyms → codes, as national bodies write them in the MB/NC column."""
    found: dict[str, str] = {}
    for body in (await session.execute(select(MemberBody))).scalars():
        found[body.code.upper()] = body.code
        found.setdefault(body.acronym.upper(), body.code)
    return found


def _problems(problems: Sequence[reader.RowProblem], what: str) -> InvalidInput:
    listed = [{"row": p.row, "message": p.message} for p in problems]
    first = problems[0]
    where = f"row {first.row}: " if first.row else ""
    more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
    return InvalidInput(f"{what} was not imported: {where}{first.message}{more}", problems=listed)


def _parse_in_turn(parse: Callable[[], Parsed]) -> Parsed:
    with PARSING:
        return parse()


async def _parse(parse: Callable[[], Parsed]) -> Parsed:
    """Parse off the event loop, one of PARSING's turns at a time."""
    try:
        return await asyncio.to_thread(_parse_in_turn, parse)
    except safety.UploadTooLarge as exc:
        raise UploadTooLarge(str(exc), limit=exc.limit, limit_value=exc.value) from exc
    except UploadRejected as exc:
        raise UnsupportedUpload(str(exc)) from exc


def _new(row: reader.CommentRow, reference: str = "") -> comments.NewComment:
    return comments.NewComment(**fields_of(row), reference=reference)


async def import_national(
    session: AsyncSession,
    principal: Principal,
    ballot_id: int,
    body: str,
    data: bytes,
    now: datetime,
    limits: UploadLimits | None = None,
) -> tuple[list[Comment], bool]:
    """A body's filled commenting template replaces its comment set (SPEC §4.3)."""
    await ballots.get_ballot(session, ballot_id)
    require_body(principal, body, Role.DELEGATE, Role.COMMENTER)
    known = await aliases(session)
    rows, problems = await _parse(lambda: reader.parse_national_comments(data, body, known, limits))
    if problems:
        raise _problems(problems, "The file")
    if not rows:
        raise InvalidInput("The file holds no comments.")
    if len(rows) > MAX_PER_SET:
        raise InvalidInput(
            f"The file holds {len(rows):,} comments; a body's set has at most {MAX_PER_SET:,}, as in the API.",
            field="file",
        )
    # The body's own numbering is kept as the original reference; observations are ours to write.
    new = [replace(_new(r), observation="", disposition=None) for r in rows]
    return await comments.replace_comments(session, principal, ballot_id, body, new, now)


async def import_compiled(
    session: AsyncSession,
    principal: Principal,
    ballot_id: int,
    data: bytes,
    filename: str,
    now: datetime,
    limits: UploadLimits | None = None,
) -> tuple[int, list[reader.RowProblem]]:
    """A compiled table made elsewhere: every body's rows, with their references (SPEC §4.4).

    Tolerant: rows with nothing in them are skipped and reported; a row whose body cannot be
    told (an MB cell of `-009`) is kept under its reference with an empty body code.
    """
    ballot = await ballots.get_ballot(session, ballot_id)
    require_secretary(principal, await committees.chain(session, ballot.committee_id))
    known = await aliases(session)
    rows, skipped = await _parse(lambda: reader.parse_compiled_table(data, known, limits))
    if not rows:
        raise _problems(skipped, "The compiled table") if skipped else InvalidInput("The table holds no comments.")
    too_long = [r for r in rows if len(r.body) > MAX_PARTY]
    if too_long:
        raise InvalidInput(f"Row {too_long[0].row}: the MB/NC value is longer than {MAX_PARTY} characters.")
    by_body: dict[str, list[reader.CommentRow]] = {}
    for r in rows:
        by_body.setdefault(r.body, []).append(r)
    crowded = sorted(b or "(rows without a body)" for b, found in by_body.items() if len(found) > MAX_PER_SET)
    if crowded:
        raise InvalidInput(
            f"The table holds more than {MAX_PER_SET:,} comments of {', '.join(crowded)}; a body's set has at "
            "most that many, as in the API."
        )
    taken = set(
        (
            await session.execute(
                select(Comment.reference).where(
                    Comment.ballot_id == ballot_id,
                    col(Comment.superseded).is_(False),
                    col(Comment.body).not_in(list(by_body)),
                )
            )
        ).scalars()
    )
    counts = [r.original_reference for r in rows if r.original_reference]
    planned: dict[str, list[comments.NewComment]] = {}
    for body, body_rows in by_body.items():
        new: list[comments.NewComment] = []
        for r in body_rows:
            keep = (
                r.original_reference and counts.count(r.original_reference) == 1 and r.original_reference not in taken
            )
            fallback = "" if body else f"?-{len(new) + 1:03d}"
            new.append(_new(r, r.original_reference if keep else fallback))
        taken.update(n.reference or comments.reference(body, seq) for seq, n in enumerate(new, start=1))
        planned[body] = new
    changes = await _changes(session, ballot, planned)
    total = 0
    sets: dict[str, ImportedSet] = {}
    for body in changes.write:
        written = await comments.write_set(session, ballot_id, body, planned[body], principal.label, now, imported=True)
        total += len(written.references)
        sets[body] = ImportedSet(
            set_version=written.version,
            references=written.references,
            digest=written.digest,
            observations=written.observations,
        )
    await events.on_ballot(
        session,
        ballot,
        CommentsImported(
            ballot_id=ballot_id,
            count=total,
            bodies=sorted(changes.write),
            filename=filename[:200],
            replaced=sorted(changes.replaced),
            sets=sets,
        ),
        actor=principal,
        now=now,
    )
    return total, skipped


@dataclass(frozen=True)
class _Changes:
    write: list[str]  # bodies whose set the import writes
    replaced: list[str]  # of those, bodies whose earlier imported set it replaces


async def _changes(session: AsyncSession, ballot: Ballot, planned: dict[str, list[comments.NewComment]]) -> _Changes:
    """Which sets the import writes, refused whole when it would replace a body's own comments or
    change a comment's text after close."""
    current: dict[str, list[Comment]] = {}
    query = select(Comment).where(
        Comment.ballot_id == ballot.id, col(Comment.superseded).is_(False), col(Comment.body).in_(list(planned))
    )
    for c in (await session.execute(query.order_by(col(Comment.seq)))).scalars():
        current.setdefault(c.body, []).append(c)

    def named(bodies: list[str]) -> str:
        return ", ".join(b or "(rows without a body)" for b in sorted(bodies))

    own = [body for body, stored in current.items() if any(not c.imported for c in stored)]
    if own:
        raise Conflict(
            f"The table holds comments of {named(own)}, submitted by the bodies themselves: an import never "
            "replaces what a body submitted. Take those rows out of the table and upload it again."
        )
    unchanged = {body for body, stored in current.items() if comments.same_set(body, stored, planned[body])}
    replaced = [body for body in current if body not in unchanged]
    if replaced and ballot.status == BallotStatus.CLOSED.value:
        raise Conflict(
            f"The ballot is closed and its comments' text no longer changes: the table differs from the "
            f"comments of {named(replaced)} imported before. Bodies without comments may still be added."
        )
    return _Changes(write=[b for b in planned if b not in unchanged], replaced=replaced)


async def import_observations(
    session: AsyncSession,
    principal: Principal,
    ballot_id: int,
    data: bytes,
    filename: str,
    now: datetime,
    limits: UploadLimits | None = None,
) -> list[Comment]:
    """Observations filled into a compiled table (ours or another's), matched by reference."""
    ballot = await ballots.get_ballot(session, ballot_id)
    require_committee_officer(principal, await committees.chain(session, ballot.committee_id))
    known = await aliases(session)
    rows, problems = await _parse(lambda: reader.parse_compiled_table(data, known, limits))
    if problems:
        raise _problems(problems, "The table")
    current = list(
        (
            await session.execute(
                select(Comment).where(Comment.ballot_id == ballot_id, col(Comment.superseded).is_(False))
            )
        ).scalars()
    )
    by_ref = {c.reference: c for c in current}
    by_original: dict[str, Comment] = {}
    for c in current:
        if c.original_reference:
            by_original.setdefault(c.original_reference, c)
    unmatched: list[reader.RowProblem] = []
    updates: list[tuple[Comment, reader.CommentRow]] = []
    for r in rows:
        if not (r.observation or r.disposition):
            continue
        target = by_ref.get(r.original_reference) or by_original.get(r.original_reference)
        if target is None:
            shown = r.original_reference or "(no reference)"
            unmatched.append(reader.RowProblem(r.row, f"there is no comment {shown} on this ballot."))
        else:
            updates.append((target, r))
    if unmatched:
        raise _problems(unmatched, "The table")
    for target, r in updates:
        target.observation = r.observation
        target.disposition = r.disposition
        target.observed_at = now
        session.add(target)
    # One event for the whole file: it names every comment it changed.
    await events.on_ballot(
        session,
        ballot,
        ObservationsImported(
            ballot_id=ballot_id,
            count=len(updates),
            references=[t.reference for t, _ in updates],
            filename=filename[:200],
            digests={t.reference: digests.observation(t.observation, t.disposition) for t, _ in updates},
        ),
        actor=principal,
        now=now,
    )
    return [t for t, _ in updates]
