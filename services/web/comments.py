"""The convenor's comment list: filters, observations and dispositions, downloads and the upload
of a table with the observations filled in."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import Parameter, QueryParameter
from litestar.response import Redirect, Template
from sqlalchemy.ext.asyncio import AsyncSession

from schemas import api
from schemas.tables import Ballot, Comment, Document, Project
from services import ballots, collation, comments, committees, exports, imports, projects
from services.auth import Principal, is_committee_officer
from services.errors import DomainError
from services.http.documents import DOCX, UPLOAD_LIMIT, XLSX
from services.web.pages import WebRequest, convert, field_errors, flash, now, page, redirect, run, text


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
    session: AsyncSession, principal: Principal, ballot_id: int, order: str, clause: str, type_: str, member: str
) -> CommentsView:
    ballot = await ballots.get_ballot(session, ballot_id)
    project = await projects.get_project(session, ballot.project_id)
    every = await comments.list_comments(session, principal, ballot_id, order)
    return CommentsView(
        ballot=ballot,
        project=project,
        document=ballots.draft_name(ballot, project),
        comments=[c for c in every if _matches(c, clause, type_, member)],
        total=len(every),
        observed=sum(1 for c in every if c.observation or c.disposition),
        bodies=sorted({c.body for c in every}),
        officer=is_committee_officer(principal, await committees.chain(session, ballot.committee_id)),
    )


def _filters(order: str, clause: str, type_: str, member: str) -> dict[str, str]:
    return {k: v for k, v in {"order": order, "clause": clause, "type": type_, "body": member}.items() if v}


async def render_comments(
    request: WebRequest,
    viewer: Principal,
    ballot_id: int,
    filters: dict[str, str],
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    problems: list[dict[str, Any]] | None = None,
    typed: dict[str, dict[str, str]] | None = None,
) -> Template:
    order = filters.get("order", "clause")
    view = await run(
        request,
        lambda s: read_comments(
            s, viewer, ballot_id, order, filters.get("clause", ""), filters.get("type", ""), filters.get("body", "")
        ),
    )
    return page(
        request,
        "comments.html",
        viewer,
        status,
        v=view,
        filters=filters,
        order=order,
        query=urlencode(filters),
        errors=errors or {},
        problems=problems or [],
        typed=typed or {},
    )


@get("/ballots/{ballot_id:int}/comments", name="ballot_comments")
async def comment_list(
    request: WebRequest,
    viewer: Principal,
    ballot_id: int,
    order: Literal["clause", "member"] = "clause",
    clause: Annotated[str, Parameter(max_length=200)] = "",
    type: Literal["", "ge", "te", "ed"] = "",
    member: Annotated[str, QueryParameter(name="body", max_length=40)] = "",
) -> Template:
    return await render_comments(request, viewer, ballot_id, _filters(order, clause, type, member))


@post("/ballots/{ballot_id:int}/observations/{reference:str}")
async def record_observation(
    request: WebRequest, viewer: Principal, ballot_id: int, reference: str
) -> Template | Redirect:
    form = await request.form()
    filters = {k: text(form, f"f_{k}") for k in ("order", "clause", "type", "body") if text(form, f"f_{k}")}
    typed = {"observation": text(form, "observation"), "disposition": text(form, "disposition")}
    try:
        data = convert(
            {"observation": typed["observation"].strip(), "disposition": typed["disposition"] or None},
            api.ObservationPut,
            prefix=f"{reference}-",
            hints={"disposition": "Choose one of the dispositions offered."},
        )
        await run(request, lambda s: comments.record_observation(s, viewer, ballot_id, reference, data, now(request)))
    except DomainError as exc:
        errors = {f"{reference}-observation" if k == "form" else k: m for k, m in field_errors(exc).items()}
        return await render_comments(
            request, viewer, ballot_id, filters, status=exc.status, errors=errors, typed={reference: typed}
        )
    flash(request, f"The observation on {reference} is saved.")
    return redirect(f"/ballots/{ballot_id}/comments?{urlencode(filters)}#c-{reference}")


@post("/ballots/{ballot_id:int}/observations/upload", request_max_body_size=UPLOAD_LIMIT)
async def upload_observations(request: WebRequest, viewer: Principal, ballot_id: int) -> Template | Redirect:
    form = await request.form()
    upload = form.get("file")
    content = await upload.read() if isinstance(upload, UploadFile) else b""
    filename = upload.filename if isinstance(upload, UploadFile) and upload.filename else "upload.docx"
    if not content:
        return await render_comments(
            request,
            viewer,
            ballot_id,
            {},
            status=422,
            errors={"file": "Choose the comment table with the observations."},
        )
    try:
        updated = await run(
            request, lambda s: imports.import_observations(s, viewer, ballot_id, content, filename, now(request))
        )
    except DomainError as exc:
        problems = exc.extra.get("problems")
        return await render_comments(
            request,
            viewer,
            ballot_id,
            {},
            status=exc.status if exc.status != 400 else 422,
            errors={"file": exc.detail},
            problems=problems if isinstance(problems, list) else [],
        )
    flash(request, f"{len(updated)} observation{'s' if len(updated) != 1 else ''} recorded from {filename}.")
    return redirect(f"/ballots/{ballot_id}/comments")


# --- downloads --------------------------------------------------------------------------------


def _file(content: bytes, filename: str, media_type: str) -> Response[bytes]:
    return Response(
        content, media_type=media_type, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


async def _document(request: WebRequest, viewer: Principal, ballot_id: int, document: Document) -> Response[Any]:
    if document.status == "ready" and document.content is not None:
        return _file(document.content, document.filename, DOCX)
    # Built by a worker in a moment; the page asks again by itself (no script needed).
    template = page(
        request,
        "building.html",
        viewer,
        202,
        ballot_id=ballot_id,
        failed=document.status == "failed",
        error=document.error,
    )
    template.headers["Refresh"] = "3"
    return template


@get("/ballots/{ballot_id:int}/files/comment-table.docx")
async def comment_table(
    request: WebRequest, viewer: Principal, ballot_id: int, order: Literal["clause", "member"] = "clause"
) -> Response[Any]:
    document = await run(request, lambda s: collation.comment_table(s, viewer, ballot_id, order, now(request)))
    return await _document(request, viewer, ballot_id, document)


@get("/ballots/{ballot_id:int}/files/report.docx")
async def report(request: WebRequest, viewer: Principal, ballot_id: int) -> Response[Any]:
    document = await run(request, lambda s: collation.report(s, viewer, ballot_id, now(request)))
    return await _document(request, viewer, ballot_id, document)


async def _rows(session: AsyncSession, viewer: Principal, ballot_id: int, order: str) -> list[tuple[Any, ...]]:
    ballot = await ballots.get_ballot(session, ballot_id)
    await collation.may_download(session, viewer, ballot)
    return await collation.table_rows(session, ballot_id, order)


@get("/ballots/{ballot_id:int}/files/comments.csv")
async def comments_csv(
    request: WebRequest, viewer: Principal, ballot_id: int, order: Literal["clause", "member"] = "clause"
) -> Response[bytes]:
    rows = await run(request, lambda s: _rows(s, viewer, ballot_id, order))
    return _file(exports.to_csv(rows), f"ballot-{ballot_id}-comments.csv", "text/csv; charset=utf-8")


@get("/ballots/{ballot_id:int}/files/comments.xlsx")
async def comments_xlsx(
    request: WebRequest, viewer: Principal, ballot_id: int, order: Literal["clause", "member"] = "clause"
) -> Response[bytes]:
    rows = await run(request, lambda s: _rows(s, viewer, ballot_id, order))
    return _file(exports.to_xlsx(rows, f"Ballot {ballot_id}"), f"ballot-{ballot_id}-comments.xlsx", XLSX)


HANDLERS: list[Any] = [
    comment_list,
    record_observation,
    upload_observations,
    comment_table,
    report,
    comments_csv,
    comments_xlsx,
]
