"""A ballot's page: the delegate's vote, comments and template upload; the secretary's controls,
the result with its arithmetic and the decision step."""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Annotated, Any

from litestar import get, post
from litestar.datastructures import UploadFile
from litestar.params import QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from schemas.comments import MAX_PER_SET, WRITTEN
from schemas.enums import Position
from schemas.tables import Comment, Project, Vote
from services.http.downloads import UPLOAD_LIMIT
from services.http.pages.common import (
    FormErrors,
    WebRequest,
    as_docx,
    confirmation_page,
    confirmed,
    convert,
    database,
    field_errors,
    flash,
    now,
    page,
    parse_utc,
    read,
    redirect,
    run,
    text,
)
from services.http.pages.words import position as position_words
from services.rules.actors import Principal
from services.rules.errors import DomainError
from services.usecases import ballots, comments, imports, projects, votes
from services.views import ballot_page as ballot_page_view
from services.views import confirmations

BLANK_ROWS = 3
_EXPERT = re.compile(r"^\s*(?P<name>[^<,;]+?)\s*(?:[<,;]\s*(?P<email>[^>\s]+)\s*>?)?\s*$")


def _rows_from_comments(current: list[Comment]) -> list[dict[str, str]]:
    return [{"reference": c.reference, **{name: getattr(c, name) for name in WRITTEN}} for c in current] + [
        dict.fromkeys(WRITTEN, "") for _ in range(BLANK_ROWS)
    ]


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
    view = await read(request, lambda s: ballot_page_view.read_ballot(s, viewer, ballot_id, body, now(request)))
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
        vote, _ = await votes.take_vote(database(request), viewer, ballot_id, body, data, now(request))
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
        f"{body}'s vote is recorded: {position_words(data.position.value)}."
        + (f" {vote.warning}" if vote.warning else ""),
    )
    return redirect(f"/ballots/{ballot_id}?body={body}#vote")


def parse_rows(form: Any) -> tuple[list[dict[str, str]], list[tuple[int, dict[str, str]]]]:
    """All rows as typed (to show again) and the rows to keep (not removed, not blank)."""
    try:
        count = min(int(text(form, "row_count") or 0), MAX_PER_SET)
    except ValueError:
        count = 0
    typed: list[dict[str, str]] = []
    keep: list[tuple[int, dict[str, str]]] = []
    for i in range(count):
        row = {name: text(form, f"rows-{i}-{name}") for name in WRITTEN}
        row["reference"] = text(form, f"rows-{i}-reference")
        removed = text(form, f"rows-{i}-remove") == "yes"
        if removed:
            continue
        typed.append(row)
        if any(row[name].strip() for name in WRITTEN):
            keep.append((len(typed) - 1, row))
    return typed, keep


@post("/ballots/{ballot_id:int}/comments")
async def save_comments(request: WebRequest, viewer: Principal, ballot_id: int) -> Template | Redirect:
    form = await request.form()
    body = text(form, "body").strip()
    typed, keep = parse_rows(form)
    if text(form, "action") == "add":
        rows = [r for r in typed if any(r[n].strip() for n in WRITTEN)]
        rows += [dict.fromkeys(WRITTEN, "") for _ in range(BLANK_ROWS + 2)]
        return await render_ballot(request, viewer, ballot_id, body, rows=rows)
    try:
        new = []
        for index, row in keep:
            fields: dict[str, str | None] = {k: row[k].strip() for k in WRITTEN}
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
            rows=[*typed, dict.fromkeys(WRITTEN, "")],
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
    limits = imports.upload_limits(request.app.state.settings)
    try:
        docx = await as_docx(request, content)
        imported, _ = await run(
            request, lambda s: imports.import_national(s, viewer, ballot_id, body, docx.data, now(request), limits)
        )
    except DomainError as exc:
        problems = exc.extra.get("problems")
        report = UploadReport(filename, problems if isinstance(problems, list) else [], exc.detail, [])
        view = await read(request, lambda s: ballot_page_view.read_ballot(s, viewer, ballot_id, body, now(request)))
        return page(request, "upload_report.html", viewer, _status(exc), v=view, report=report, body=body)
    view = await read(request, lambda s: ballot_page_view.read_ballot(s, viewer, ballot_id, body, now(request)))
    converted = f" (the file was {docx.note})" if docx.note else ""
    report = UploadReport(
        filename,
        [],
        f"{len(imported)} comments imported{converted}; they replace {body}'s earlier comments.",
        imported,
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


async def _closing(request: WebRequest, viewer: Principal, ballot_id: int) -> tuple[Any, bool]:
    async def view(s: AsyncSession) -> tuple[Any, bool]:
        ballot = await ballots.get_ballot(s, ballot_id)
        return await confirmations.closing(s, viewer, ballot_id, now(request)), confirmations.closes_early(
            ballot, now(request)
        )

    return await read(request, view)


@get("/ballots/{ballot_id:int}/close", name="confirm-close")
async def confirm_close(request: WebRequest, viewer: Principal, ballot_id: int) -> Template | Redirect:
    confirmation, early = await _closing(request, viewer, ballot_id)
    if not early:  # nothing to confirm: the ballot's page has the control (or says why there is none)
        return redirect(f"/ballots/{ballot_id}")
    return confirmation_page(
        request, viewer, confirmation, action=f"/ballots/{ballot_id}/close", button="Close the ballot now"
    )


@post("/ballots/{ballot_id:int}/close")
async def close_ballot(request: WebRequest, viewer: Principal, ballot_id: int) -> Template | Redirect:
    form = await request.form()
    if not confirmed(form):
        confirmation, early = await _closing(request, viewer, ballot_id)
        if early:
            return confirmation_page(
                request, viewer, confirmation, action=f"/ballots/{ballot_id}/close", button="Close the ballot now"
            )

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


def _reopen_page(
    request: WebRequest,
    viewer: Principal,
    ballot_id: int,
    confirmation: Any,
    values: dict[str, str],
    errors: dict[str, str] | None,
    status: int = 422,
) -> Template:
    return confirmation_page(
        request,
        viewer,
        confirmation,
        action=f"/ballots/{ballot_id}/reopen",
        button="Re-open the ballot",
        deadline={"name": "reopen_closes_at", "label": "New deadline (UTC)", "value": values["reopen_closes_at"]},
        reason={
            "name": "reopen_reason",
            "label": "Reason for re-opening",
            "value": values["reopen_reason"],
            "hint": "The committee is told why, e.g. to record a late vote.",
        },
        errors=errors,
        status=status,
    )


@post("/ballots/{ballot_id:int}/reopen")
async def reopen_ballot(request: WebRequest, viewer: Principal, ballot_id: int) -> Template | Redirect:
    form = await request.form()
    values = {"reopen_closes_at": text(form, "reopen_closes_at"), "reopen_reason": text(form, "reopen_reason")}
    confirmation = await read(request, lambda s: confirmations.reopening(s, viewer, ballot_id, now(request)))
    if not confirmed(form):
        return _reopen_page(request, viewer, ballot_id, confirmation, values, None)
    try:
        closes_at = parse_utc(values["reopen_closes_at"], "reopen_closes_at")
        if not values["reopen_reason"].strip():
            raise FormErrors({"reopen_reason": "Say why the ballot is re-opened; the committee is told."})
        data = convert(
            {"closes_at": closes_at, "reason": values["reopen_reason"].strip()}, api.BallotReopen, prefix="reopen_"
        )
        await run(request, lambda s: ballots.reopen_ballot(s, viewer, ballot_id, data, now(request)))
    except DomainError as exc:
        errors = field_errors(exc, "form", "reopen_")
        return _reopen_page(request, viewer, ballot_id, confirmation, values, errors, _status(exc))
    flash(request, "The ballot is open again.")
    return redirect(f"/ballots/{ballot_id}")


@post("/ballots/{ballot_id:int}/cancel")
async def cancel_ballot(request: WebRequest, viewer: Principal, ballot_id: int) -> Template | Redirect:
    form = await request.form()
    values = {"cancel_reason": text(form, "cancel_reason")}
    confirmation = await read(request, lambda s: confirmations.cancelling(s, viewer, ballot_id, now(request)))

    def again(errors: dict[str, str] | None, status: int = 422) -> Template:
        return confirmation_page(
            request,
            viewer,
            confirmation,
            action=f"/ballots/{ballot_id}/cancel",
            button="Cancel the ballot",
            reason={
                "name": "cancel_reason",
                "label": "Reason for cancelling",
                "value": values["cancel_reason"],
                "hint": "It is kept in the ballot's record and shown to the committee.",
            },
            errors=errors,
            status=status,
        )

    if not confirmed(form):
        return again(None)
    try:
        if not values["cancel_reason"].strip():
            raise FormErrors({"cancel_reason": "Say why the ballot is cancelled; the record keeps the reason."})
        data = convert({"reason": values["cancel_reason"].strip()}, api.BallotCancel, prefix="cancel_")
        await run(request, lambda s: ballots.cancel_ballot(s, viewer, ballot_id, data.reason, now(request)))
    except DomainError as exc:
        return again(field_errors(exc, "form", "cancel_"), _status(exc))
    flash(request, "The ballot is cancelled.")
    return redirect(f"/ballots/{ballot_id}")


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
    confirm_close,
    close_ballot,
    extend_ballot,
    reopen_ballot,
    cancel_ballot,
    decide,
]
