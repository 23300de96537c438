"""The convenor's comment list: filters, observations and dispositions, downloads and the upload
of a table with the observations filled in."""

from __future__ import annotations

import re
from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from litestar import Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import Parameter, QueryParameter
from litestar.response import Redirect, Template

from schemas import api
from schemas.tables import Document
from services.http import downloads
from services.http.downloads import UPLOAD_LIMIT
from services.http.pages.common import (
    WebRequest,
    as_docx,
    convert,
    field_errors,
    flash,
    now,
    page,
    read,
    redirect,
    run,
    text,
)
from services.rules.actors import Principal
from services.rules.errors import DomainError
from services.usecases import collation, comments, imports, similar
from services.views import comments as comment_views

_GROUP_KEY = re.compile(r"g[0-9]{1,4}")


def _filters(order: str, clause: str, type_: str, member: str, repeated: bool = False) -> dict[str, str]:
    chosen = {"order": order, "clause": clause, "type": type_, "body": member, "repeated": "true" if repeated else ""}
    return {k: v for k, v in chosen.items() if v}


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
    view = await read(
        request,
        lambda s: comment_views.read_comments(
            s,
            viewer,
            ballot_id,
            order,
            filters.get("clause", ""),
            filters.get("type", ""),
            filters.get("body", ""),
            filters.get("repeated") == "true",
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
    repeated: bool = False,
) -> Template:
    return await render_comments(request, viewer, ballot_id, _filters(order, clause, type, member, repeated))


@post("/ballots/{ballot_id:int}/observations/{reference:str}")
async def record_observation(
    request: WebRequest, viewer: Principal, ballot_id: int, reference: str
) -> Template | Redirect:
    form = await request.form()
    filters = {k: text(form, f"f_{k}") for k in ("order", "clause", "type", "body", "repeated") if text(form, f"f_{k}")}
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


@post("/ballots/{ballot_id:int}/observations/group")
async def record_group_observation(request: WebRequest, viewer: Principal, ballot_id: int) -> Template | Redirect:
    """One observation and disposition for a group of similar comments, each recorded as its own."""
    form = await request.form()
    references = [r for r in form.getall("references", []) if isinstance(r, str)]
    key = text(form, "group") if _GROUP_KEY.fullmatch(text(form, "group")) else "g0"
    typed = {"observation": text(form, "observation"), "disposition": text(form, "disposition")}
    try:
        data = convert(
            {
                "references": references,
                "observation": typed["observation"].strip(),
                "disposition": typed["disposition"] or None,
            },
            api.ObservationsPut,
            prefix=f"{key}-",
            hints={"disposition": "Choose one of the dispositions offered."},
        )
        saved = await run(request, lambda s: similar.record_group_observation(s, viewer, ballot_id, data, now(request)))
    except DomainError as exc:
        found = field_errors(exc, default_field=f"{key}-observation", prefix=f"{key}-")
        errors = {f"{key}-observation" if k == f"{key}-references" else k: m for k, m in found.items()}
        return await render_comments(
            request, viewer, ballot_id, {}, status=exc.status, errors=errors, typed={key: typed}
        )
    flash(request, f"The observation is saved on {len(saved)} comments: {', '.join(c.reference for c in saved)}.")
    return redirect(f"/ballots/{ballot_id}/comments#similar-title")


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
    limits = imports.upload_limits(request.app.state.settings)
    try:
        docx = await as_docx(request, content)
        updated = await run(
            request,
            lambda s: imports.import_observations(s, viewer, ballot_id, docx.data, filename, now(request), limits),
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
    converted = f" ({docx.note})" if docx.note else ""
    flash(request, f"{len(updated)} observation{'s' if len(updated) != 1 else ''} recorded from {filename}{converted}.")
    return redirect(f"/ballots/{ballot_id}/comments")


# --- downloads --------------------------------------------------------------------------------


async def _document(request: WebRequest, viewer: Principal, ballot_id: int, document: Document) -> Response[Any]:
    if document.status == "ready" and document.content is not None:
        return downloads.attachment(document.content, document.filename, downloads.DOCX)
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


@get("/ballots/{ballot_id:int}/files/comment-table.docx", opt={"writes": True})
async def comment_table(
    request: WebRequest, viewer: Principal, ballot_id: int, order: Literal["clause", "member"] = "clause"
) -> Response[Any]:
    document = await run(request, lambda s: collation.comment_table(s, viewer, ballot_id, order, now(request)))
    return await _document(request, viewer, ballot_id, document)


@get("/ballots/{ballot_id:int}/files/report.docx", opt={"writes": True})
async def report(request: WebRequest, viewer: Principal, ballot_id: int) -> Response[Any]:
    document = await run(request, lambda s: collation.report(s, viewer, ballot_id, now(request)))
    return await _document(request, viewer, ballot_id, document)


@get("/ballots/{ballot_id:int}/files/comments.csv")
async def comments_csv(
    request: WebRequest, viewer: Principal, ballot_id: int, order: Literal["clause", "member"] = "clause"
) -> Response[bytes]:
    rows = await run(request, lambda s: collation.downloadable_rows(s, viewer, ballot_id, order))
    return await downloads.comments_sheet(rows, ballot_id, "csv")


@get("/ballots/{ballot_id:int}/files/comments.xlsx")
async def comments_xlsx(
    request: WebRequest, viewer: Principal, ballot_id: int, order: Literal["clause", "member"] = "clause"
) -> Response[bytes]:
    rows = await run(request, lambda s: collation.downloadable_rows(s, viewer, ballot_id, order))
    return await downloads.comments_sheet(rows, ballot_id, "xlsx")


@get("/ballots/{ballot_id:int}/files/{code:str}/template.docx")
async def body_template(request: WebRequest, viewer: Principal, ballot_id: int, code: str) -> Response[bytes]:
    info, rows, filename = await read(
        request, lambda s: collation.body_template(s, viewer, ballot_id, code, now(request))
    )
    return await downloads.body_template(info, rows, filename)


HANDLERS: list[Any] = [
    body_template,
    comment_list,
    record_observation,
    record_group_observation,
    upload_observations,
    comment_table,
    report,
    comments_csv,
    comments_xlsx,
]
