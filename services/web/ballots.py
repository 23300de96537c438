"""A ballot's page: the delegate's vote, comments and template upload; the secretary's controls,
the result with its arithmetic and the decision step."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Annotated, Any

from litestar import get, post
from litestar.datastructures import UploadFile
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from schemas.enums import BallotStatus, BallotType, Position, Role
from schemas.tables import Ballot, Comment, Eligibility, Project, Vote
from services import ballots, comments, committees, imports, projects, votes
from services.auth import Principal, is_committee_officer, require_secretary
from services.errors import DomainError, Forbidden
from services.http.documents import UPLOAD_LIMIT
from services.rules import ballot_types
from services.visibility import readable_bodies
from services.web.pages import (
    FormErrors,
    WebRequest,
    convert,
    field_errors,
    flash,
    now,
    page,
    parse_utc,
    redirect,
    run,
    text,
)
from services.web.words import position as position_words

BLANK_ROWS = 3
MAX_ROWS = 5000
ROW_FIELDS = ("line", "clause", "element", "type", "comment", "proposed_change")
_EXPERT = re.compile(r"^\s*(?P<name>[^<,;]+?)\s*(?:[<,;]\s*(?P<email>[^>\s]+)\s*>?)?\s*$")


def is_secretary(principal: Principal, chain: list[int]) -> bool:
    try:
        require_secretary(principal, chain)
    except Forbidden:
        return False
    return True


@dataclass
class BallotView:
    """Everything the ballot page shows, read in one transaction."""

    ballot: Ballot
    out: api.BallotOut
    project: Project
    committee: str
    officer: bool
    secretary: bool
    np: bool
    writable: bool
    my_rows: list[Eligibility]
    body: str | None
    may_vote: bool
    may_comment: bool
    body_votes: bool
    my_vote: Vote | None
    my_comments: list[Comment]
    snapshot: list[Eligibility]
    all_votes: dict[str, Vote] | None  # every body's vote, when this reader may see them
    comment_counts: dict[str, int] = field(default_factory=dict)
    o_members: set[str] = field(default_factory=set)


async def read_ballot(
    session: AsyncSession, principal: Principal, ballot_id: int, wanted_body: str | None, request: WebRequest
) -> BallotView:
    at = now(request)
    ballot = await ballots.get_ballot(session, ballot_id)
    project = await projects.get_project(session, ballot.project_id)
    out = await ballots.ballot_out(session, ballot, at, project=project)
    chain = await committees.chain(session, ballot.committee_id)
    committee = await committees.get_committee(session, ballot.committee_id)
    snapshot = await ballots.eligibility(session, ballot_id)
    mine = principal.bodies(Role.DELEGATE, Role.COMMENTER)
    my_rows = [e for e in snapshot if e.party in mine and (e.may_vote or e.may_comment)]
    chosen = next((e for e in my_rows if e.party == wanted_body), my_rows[0] if my_rows else None)
    body = chosen.party if chosen else None
    readable = readable_bodies(principal, ballot, chain, snapshot)
    all_votes = None
    counts: dict[str, int] = {}
    if readable is None:
        all_votes = {v.body: v for v in await votes.list_votes(session, principal, ballot_id)}
        for c in await comments.list_comments(session, principal, ballot_id, "member"):
            counts[c.body] = counts.get(c.body, 0) + 1
    return BallotView(
        ballot=ballot,
        out=out,
        project=project,
        committee=committee.reference,
        officer=is_committee_officer(principal, chain),
        secretary=is_secretary(principal, chain),
        np=ballot_types.spec(BallotType(ballot.type)).np_participation,
        writable=ballot.status == BallotStatus.OPEN.value and not out.deadline_passed,
        my_rows=my_rows,
        body=body,
        may_vote=bool(chosen and chosen.may_vote and body in principal.bodies(Role.DELEGATE)),
        may_comment=bool(chosen and chosen.may_comment),
        body_votes=bool(chosen and chosen.may_vote),
        my_vote=await votes.latest_vote(session, ballot_id, chosen.party) if chosen and chosen.may_vote else None,
        my_comments=await comments.list_comments(session, principal, ballot_id, "member", body) if body else [],
        snapshot=snapshot,
        all_votes=all_votes,
        comment_counts=counts,
        o_members={m.body for m in await committees.current_members(session, ballot.committee_id) if m.status == "O"},
    )


def _rows_from_comments(current: list[Comment]) -> list[dict[str, str]]:
    return [
        {
            "reference": c.reference,
            "line": c.line,
            "clause": c.clause,
            "element": c.element,
            "type": c.type,
            "comment": c.comment,
            "proposed_change": c.proposed_change,
        }
        for c in current
    ] + [dict.fromkeys(ROW_FIELDS, "") for _ in range(BLANK_ROWS)]


def _vote_values(vote: Vote | None) -> dict[str, Any]:
    if vote is None:
        return {"position": "", "reasons": "", "participate": False, "experts": ""}
    experts = "\n".join(
        f"{e.get('name', '')} <{e['email']}>" if e.get("email") else str(e.get("name", "")) for e in vote.experts or []
    )
    return {
        "position": vote.position,
        "reasons": vote.reasons,
        "participate": bool(vote.participate),
        "experts": experts,
    }


async def render_ballot(
    request: WebRequest,
    viewer: Principal,
    ballot_id: int,
    body: str | None = None,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    vote_values: dict[str, Any] | None = None,
    rows: list[dict[str, str]] | None = None,
    values: dict[str, str] | None = None,
) -> Template:
    view = await run(request, lambda s: read_ballot(s, viewer, ballot_id, body, request))
    return page(
        request,
        "ballot.html",
        viewer,
        status,
        v=view,
        errors=errors or {},
        vote=vote_values if vote_values is not None else _vote_values(view.my_vote),
        rows=rows if rows is not None else _rows_from_comments(view.my_comments),
        values=values or {},
        status_words={"draft": "Draft", "open": "Open", "closed": "Closed", "cancelled": "Cancelled"},
    )


@get("/ballots/{ballot_id:int}", name="ballot")
async def ballot_page(
    request: WebRequest,
    viewer: Principal,
    ballot_id: int,
    for_body: Annotated[str | None, QueryParameter(name="body")] = None,
) -> Template:
    return await render_ballot(request, viewer, ballot_id, for_body)


def _status(exc: DomainError) -> int:
    return exc.status if exc.status != 400 else 422


# --- the delegate's forms ---------------------------------------------------------------------


def parse_experts(raw: str) -> list[dict[str, str]]:
    """One expert a line: `Name`, `Name <e-mail>` or `Name, e-mail`."""
    experts: list[dict[str, str]] = []
    for number, line in enumerate(raw.splitlines(), start=1):
        if not line.strip():
            continue
        match = _EXPERT.match(line)
        if not match:
            raise FormErrors({"experts": f"Line {number}: write one expert a line, as “Name <e-mail>”."})
        entry = {"name": match.group("name").strip()}
        if match.group("email"):
            entry["email"] = match.group("email").strip()
        experts.append(entry)
    return experts


@post("/ballots/{ballot_id:int}/vote")
async def cast_vote(request: WebRequest, viewer: Principal, ballot_id: int) -> Template | Redirect:
    form = await request.form()
    body = text(form, "body").strip()
    position, reasons, experts = text(form, "position"), text(form, "reasons"), text(form, "experts")
    participate = text(form, "participate") == "yes"
    values: dict[str, Any] = {"position": position, "reasons": reasons, "participate": participate, "experts": experts}
    try:
        errors: dict[str, str] = {}
        if not position:
            errors["position"] = "Choose your body's vote."
        elif position == Position.DISAPPROVE.value and not reasons.strip():
            # SPEC §3.4: the API records such a vote (and the tally leaves it out at DIS/FDIS);
            # the form asks for the reasons, so a delegate never sends an uncounted vote by mistake.
            errors["reasons"] = "Give the technical reasons for disapproving: without them the vote is not counted."
        if errors:
            raise FormErrors(errors)
        np = text(form, "np") == "1"
        data = convert(
            {
                "position": position,
                "reasons": reasons.strip() or None,
                "participate": participate if np else None,
                "experts": (parse_experts(experts) or None) if np else None,
            },
            api.VotePut,
            hints={
                "position": "Choose one of the positions offered for this ballot.",
                "experts": "Each expert needs a name; an e-mail address looks like name@example.org.",
            },
        )
        _, _, warning = await run(request, lambda s: votes.cast_vote(s, viewer, ballot_id, body, data, now(request)))
    except DomainError as exc:
        return await render_ballot(
            request,
            viewer,
            ballot_id,
            body,
            status=_status(exc),
            errors=field_errors(exc, "position"),
            vote_values=values,
        )
    flash(
        request,
        f"{body}'s vote is recorded: {position_words(data.position.value)}." + (f" {warning}" if warning else ""),
    )
    return redirect(f"/ballots/{ballot_id}?body={body}#vote")


def parse_rows(form: Any) -> tuple[list[dict[str, str]], list[tuple[int, dict[str, str]]]]:
    """All rows as typed (to show again) and the rows to keep (not removed, not blank)."""
    try:
        count = min(int(text(form, "row_count") or 0), MAX_ROWS)
    except ValueError:
        count = 0
    typed: list[dict[str, str]] = []
    keep: list[tuple[int, dict[str, str]]] = []
    for i in range(count):
        row = {name: text(form, f"rows-{i}-{name}") for name in ROW_FIELDS}
        row["reference"] = text(form, f"rows-{i}-reference")
        removed = text(form, f"rows-{i}-remove") == "yes"
        if removed:
            continue
        typed.append(row)
        if any(row[name].strip() for name in ROW_FIELDS):
            keep.append((len(typed) - 1, row))
    return typed, keep


@post("/ballots/{ballot_id:int}/comments")
async def save_comments(request: WebRequest, viewer: Principal, ballot_id: int) -> Template | Redirect:
    form = await request.form()
    body = text(form, "body").strip()
    typed, keep = parse_rows(form)
    if text(form, "action") == "add":
        rows = [r for r in typed if any(r[n].strip() for n in ROW_FIELDS)]
        rows += [dict.fromkeys(ROW_FIELDS, "") for _ in range(BLANK_ROWS + 2)]
        return await render_ballot(request, viewer, ballot_id, body, rows=rows)
    try:
        new = []
        for index, row in keep:
            fields: dict[str, str | None] = {k: row[k].strip() for k in ROW_FIELDS}
            fields["type"] = fields["type"] or None
            checked = convert(fields, api.CommentIn, prefix=f"rows-{index}-", hints={"type": "Choose ge, te or ed."})
            new.append(comments.NewComment.from_api(checked))
        rows_saved, _ = await run(
            request, lambda s: comments.replace_comments(s, viewer, ballot_id, body, new, now(request))
        )
    except DomainError as exc:
        return await render_ballot(
            request,
            viewer,
            ballot_id,
            body,
            status=_status(exc),
            errors=field_errors(exc, "comments"),
            rows=[*typed, dict.fromkeys(ROW_FIELDS, "")],
        )
    flash(request, f"{body}'s comments are saved: {len(rows_saved)} comment{'s' if len(rows_saved) != 1 else ''}.")
    return redirect(f"/ballots/{ballot_id}?body={body}#comments")


@dataclass
class UploadReport:
    filename: str
    problems: list[dict[str, Any]]
    message: str
    imported: list[Comment]


@post("/ballots/{ballot_id:int}/upload", request_max_body_size=UPLOAD_LIMIT)
async def upload_template(request: WebRequest, viewer: Principal, ballot_id: int) -> Template:
    form = await request.form()
    body = text(form, "body").strip()
    upload = form.get("file")
    filename = upload.filename if isinstance(upload, UploadFile) and upload.filename else ""
    content = await upload.read() if isinstance(upload, UploadFile) else b""
    if not content:
        return await render_ballot(
            request,
            viewer,
            ballot_id,
            body,
            status=422,
            errors={"file": "Choose the filled commenting template (.docx)."},
        )
    try:
        imported, _ = await run(
            request, lambda s: imports.import_national(s, viewer, ballot_id, body, content, now(request))
        )
    except DomainError as exc:
        problems = exc.extra.get("problems")
        report = UploadReport(filename, problems if isinstance(problems, list) else [], exc.detail, [])
        view = await run(request, lambda s: read_ballot(s, viewer, ballot_id, body, request))
        return page(request, "upload_report.html", viewer, _status(exc), v=view, report=report, body=body)
    view = await run(request, lambda s: read_ballot(s, viewer, ballot_id, body, request))
    report = UploadReport(
        filename, [], f"{len(imported)} comments imported; they replace {body}'s earlier comments.", imported
    )
    return page(request, "upload_report.html", viewer, v=view, report=report, body=body)


# --- the secretary's controls -----------------------------------------------------------------


async def _control(
    request: WebRequest,
    viewer: Principal,
    ballot_id: int,
    action: Any,
    done: str,
    values: dict[str, str],
    prefix: str = "",
) -> Template | Redirect:
    try:
        result = await action()
    except DomainError as exc:
        errors = field_errors(exc, "control", prefix)
        return await render_ballot(request, viewer, ballot_id, status=_status(exc), errors=errors, values=values)
    message = done
    warning = result[1] if isinstance(result, tuple) else None
    flash(request, message + (f" Note: {warning}" if warning else ""))
    return redirect(f"/ballots/{ballot_id}")


@post("/ballots/{ballot_id:int}/open")
async def open_ballot(request: WebRequest, viewer: Principal, ballot_id: int) -> Template | Redirect:
    async def act() -> Any:
        return await run(request, lambda s: ballots.open_ballot(s, viewer, ballot_id, now(request)))

    return await _control(request, viewer, ballot_id, act, "The ballot is open; the bodies can vote now.", {})


@post("/ballots/{ballot_id:int}/close")
async def close_ballot(request: WebRequest, viewer: Principal, ballot_id: int) -> Template | Redirect:
    async def act() -> Any:
        return await run(request, lambda s: ballots.close_ballot(s, viewer, ballot_id, now(request)))

    return await _control(request, viewer, ballot_id, act, "The ballot is closed and its result counted.", {})


@post("/ballots/{ballot_id:int}/extend")
async def extend_ballot(request: WebRequest, viewer: Principal, ballot_id: int) -> Template | Redirect:
    form = await request.form()
    values = {"extend_closes_at": text(form, "extend_closes_at")}

    async def act() -> Any:
        closes_at = parse_utc(values["extend_closes_at"], "extend_closes_at")
        assert closes_at is not None
        return await run(request, lambda s: ballots.extend_ballot(s, viewer, ballot_id, closes_at, now(request)))

    return await _control(request, viewer, ballot_id, act, "The deadline is changed.", values, prefix="extend_")


@post("/ballots/{ballot_id:int}/reopen")
async def reopen_ballot(request: WebRequest, viewer: Principal, ballot_id: int) -> Template | Redirect:
    form = await request.form()
    values = {"reopen_closes_at": text(form, "reopen_closes_at"), "reopen_reason": text(form, "reopen_reason")}

    async def act() -> Any:
        closes_at = parse_utc(values["reopen_closes_at"], "reopen_closes_at")
        if not values["reopen_reason"].strip():
            raise FormErrors({"reopen_reason": "Say why the ballot is re-opened; the committee is told."})
        data = convert(
            {"closes_at": closes_at, "reason": values["reopen_reason"].strip()}, api.BallotReopen, prefix="reopen_"
        )
        return await run(request, lambda s: ballots.reopen_ballot(s, viewer, ballot_id, data, now(request)))

    return await _control(request, viewer, ballot_id, act, "The ballot is open again.", values, prefix="reopen_")


@post("/ballots/{ballot_id:int}/cancel")
async def cancel_ballot(request: WebRequest, viewer: Principal, ballot_id: int) -> Template | Redirect:
    form = await request.form()
    values = {"cancel_reason": text(form, "cancel_reason")}

    async def act() -> Any:
        data = convert({"reason": values["cancel_reason"].strip()}, api.BallotCancel, prefix="cancel_")
        return await run(request, lambda s: ballots.cancel_ballot(s, viewer, ballot_id, data.reason, now(request)))

    return await _control(request, viewer, ballot_id, act, "The ballot is cancelled.", values)


@post("/ballots/{ballot_id:int}/decision")
async def decide(request: WebRequest, viewer: Principal, ballot_id: int) -> Template | Redirect:
    form = await request.form()
    values = {"decision": text(form, "decision"), "decision_reason": text(form, "decision_reason")}

    async def act() -> Any:
        errors = {}
        if not values["decision"]:
            errors["decision"] = "Choose the decision."
        if not values["decision_reason"].strip():
            errors["decision_reason"] = "Give the reason for the decision (e.g. the resolution it follows)."
        if errors:
            raise FormErrors(errors)
        data = convert(
            {"decision": values["decision"], "reason": values["decision_reason"].strip(), "ballot_id": ballot_id},
            api.DecisionCreate,
            hints={"decision": "Choose one of the decisions offered."},
        )

        async def use_case(s: AsyncSession) -> Project:
            ballot = await ballots.get_ballot(s, ballot_id)
            return await projects.decide(s, viewer, ballot.project_id, data, now(request))

        return await run(request, use_case)

    return await _control(
        request, viewer, ballot_id, act, "The decision is recorded and the project's stage moved.", values
    )


HANDLERS: list[Any] = [
    ballot_page,
    cast_vote,
    save_comments,
    upload_template,
    open_ballot,
    close_ballot,
    extend_ballot,
    reopen_ballot,
    cancel_ballot,
    decide,
]
