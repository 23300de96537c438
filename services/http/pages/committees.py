"""Committees, their members and liaisons, projects, new ballots and the participation ledger."""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

from litestar import get, post
from litestar.response import Redirect, Template

from schemas import api
from schemas.enums import Deliverable
from services.http.pages.common import (
    FormErrors,
    WebRequest,
    confirmation_page,
    confirmed,
    convert,
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
from services.rules import ballot_types, stage_codes, stage_decisions, stages
from services.rules.actors import Principal
from services.rules.errors import DomainError
from services.usecases import ballots, committees, projects
from services.views import committees as committee_views
from services.views import confirmations


@get("/committees", name="committees")
async def committee_list(request: WebRequest, viewer: Principal) -> Template:
    found, counts = await read(request, committee_views.committee_list)
    return page(request, "committees.html", viewer, committees=found, counts=counts)


async def render_committee(
    request: WebRequest,
    viewer: Principal,
    committee_id: int,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Template:
    view = await read(request, lambda s: committee_views.read_committee(s, viewer, committee_id))
    return page(
        request,
        "committee.html",
        viewer,
        status,
        v=view,
        errors=errors or {},
        values=values or {},
        deliverables=[d.value for d in Deliverable],
    )


@get("/committees/{committee_id:int}", name="committee")
async def committee_page(request: WebRequest, viewer: Principal, committee_id: int) -> Template:
    return await render_committee(request, viewer, committee_id)


def _status(exc: DomainError) -> int:
    return exc.status if exc.status != 400 else 422


@post("/committees/{committee_id:int}/members")
async def set_member(request: WebRequest, viewer: Principal, committee_id: int) -> Template | Redirect:
    form = await request.form()
    values = {k: text(form, k) for k in ("member_code", "member_status", "member_reason")}
    status = values["member_status"] or None
    code, new = values["member_code"], None if status == "end" else status
    reason = values["member_reason"].strip()
    try:
        if not code:
            raise FormErrors({"member_code": "Choose the member body."})
        if status not in (None, "P", "O", "end"):
            raise FormErrors({"member_status": "Choose P-member, O-member or end the membership."})
        confirmation = await read(
            request, lambda s: confirmations.losing_p_membership(s, viewer, committee_id, code, new)
        )
    except DomainError as exc:
        errors = field_errors(exc, "member_code")
        return await render_committee(request, viewer, committee_id, status=_status(exc), errors=errors, values=values)
    if confirmation is not None and not (confirmed(form) and reason):
        return confirmation_page(
            request,
            viewer,
            confirmation,
            action=f"/committees/{committee_id}/members",
            button=f"Change {code} to {'O-member' if new else 'no membership'}",
            hidden={"member_code": code, "member_status": values["member_status"]},
            reason={
                "name": "member_reason",
                "label": "Reason",
                "value": values["member_reason"],
                "hint": "For example the participation ledger's finding or the body's own request.",
            },
            errors={"member_reason": "Give the reason for the change; the committee's record keeps it."}
            if confirmed(form)
            else None,
        )
    try:
        await run(
            request,
            lambda s: committees.set_membership(s, viewer, committee_id, code, new, now(request), reason=reason),
        )
    except DomainError as exc:
        errors = field_errors(exc, "member_code")
        return await render_committee(request, viewer, committee_id, status=_status(exc), errors=errors, values=values)
    flash(request, f"{code} is now {'no longer a member' if new is None else new + '-member'}.")
    return redirect(f"/committees/{committee_id}#members")


@post("/committees/{committee_id:int}/liaisons")
async def set_liaison(request: WebRequest, viewer: Principal, committee_id: int) -> Template | Redirect:
    form = await request.form()
    values = {k: text(form, k) for k in ("liaison_code", "liaison_name", "liaison_category", "liaison_end")}
    try:
        code = values["liaison_code"].strip()
        if values["liaison_end"] == "yes":
            await run(request, lambda s: committees.set_liaison(s, viewer, committee_id, code, None, now(request)))
            message = f"{code} is no longer a liaison."
        else:
            data = convert(
                {"code": code, "name": values["liaison_name"].strip(), "category": values["liaison_category"]},
                api.LiaisonPut,
                prefix="liaison_",
                hints={"category": "Choose category A, B or C."},
            )
            await run(request, lambda s: committees.set_liaison(s, viewer, committee_id, code, data, now(request)))
            message = f"{code} is a category {data.category.value} liaison."
    except DomainError as exc:
        errors = field_errors(exc, "liaison_code")
        return await render_committee(request, viewer, committee_id, status=_status(exc), errors=errors, values=values)
    flash(request, message)
    return redirect(f"/committees/{committee_id}#liaisons")


@post("/committees/{committee_id:int}/projects")
async def create_project(request: WebRequest, viewer: Principal, committee_id: int) -> Template | Redirect:
    form = await request.form()
    values = {k: text(form, k) for k in ("reference", "title", "deliverable", "stage")}
    try:
        data = convert(
            {
                "committee_id": committee_id,
                "reference": values["reference"].strip(),
                "title": values["title"].strip(),
                "deliverable": values["deliverable"],
                "stage": values["stage"].strip(),
            },
            api.ProjectCreate,
            hints={
                "stage": "Write a harmonized stage code such as 20.00.",
                "deliverable": "Choose the deliverable.",
                "reference": "Write the reference, e.g. ISO/TS 19387.",
            },
        )
        project = await run(request, lambda s: projects.create_project(s, viewer, data, now(request)))
    except DomainError as exc:
        return await render_committee(
            request, viewer, committee_id, status=_status(exc), errors=field_errors(exc, "reference"), values=values
        )
    flash(request, f"Project {project.reference} is registered at stage {project.stage}.")
    return redirect(f"/projects/{project.id}")


# --- projects ---------------------------------------------------------------------------------


async def render_project(
    request: WebRequest,
    viewer: Principal,
    project_id: int,
    *,
    status: int = 200,
    errors: dict[str, str] | None = None,
    values: dict[str, str] | None = None,
) -> Template:
    view = await read(request, lambda s: committee_views.read_project(s, viewer, project_id))
    default_close = now(request) + timedelta(weeks=8)
    offered = stages.offered_now(Deliverable(view.project.deliverable), view.project.stage)
    types = [
        (t.value, f"{ballot_types.spec(t).label or t.value} (usually {ballot_types.spec(t).default_weeks} weeks)")
        for t, why in offered
        if why is None
    ]
    absent = [(ballot_types.spec(t).label or t.value, why) for t, why in offered if why is not None]
    moves = stage_decisions.allowed_moves(Deliverable(view.project.deliverable), view.project.stage)
    shown = {"closes_at": f"{default_close:%Y-%m-%dT12:00}", **(values or {})}
    # A fresh one-time key per form shown: a second press of the same form makes no second ballot.
    shown = {**shown, "form_key": shown.get("form_key") or secrets.token_urlsafe(18)}
    return page(
        request,
        "project.html",
        viewer,
        status,
        v=view,
        errors=errors or {},
        values=shown,
        types=types,
        absent=absent,
        moves=moves,
        stage_names=stage_codes.STAGE_NAMES,
    )


@get("/projects/{project_id:int}", name="project")
async def project_page(request: WebRequest, viewer: Principal, project_id: int) -> Template:
    return await render_project(request, viewer, project_id)


@post("/projects/{project_id:int}/ballots")
async def create_ballot(request: WebRequest, viewer: Principal, project_id: int) -> Template | Redirect:
    form = await request.form()
    values = {
        k: text(form, k) for k in ("type", "closes_at", "opens_at", "rulebook", "question", "open_now", "form_key")
    }
    try:
        closes_at = parse_utc(values["closes_at"], "closes_at")
        opens_at = parse_utc(values["opens_at"], "opens_at", required=False)
        if not values["type"]:
            raise FormErrors({"type": "Choose the ballot type."})
        data = convert(
            {
                "project_id": project_id,
                "type": values["type"],
                "closes_at": closes_at,
                "opens_at": opens_at,
                "rulebook": values["rulebook"] or "iso",
                "question": values["question"].strip(),
            },
            api.BallotCreate,
            hints={"type": "Choose one of the ballot types offered.", "rulebook": "Choose ISO or IEC."},
        )
        open_now, form_key = values["open_now"] == "yes", values["form_key"][:64]
        made = await run(
            request,
            lambda s: ballots.create_from_form(s, viewer, data, now(request), open_now=open_now, form_key=form_key),
        )
    except DomainError as exc:
        return await render_project(
            request, viewer, project_id, status=_status(exc), errors=field_errors(exc, "type"), values=values
        )
    assert made.ballot.id is not None
    if made.again:
        flash(request, "This form was already sent; here is the ballot it created.")
    else:
        flash(
            request,
            "The ballot is created"
            + (" and open." if made.opened else ".")
            + (f" Note: {made.warning}" if made.warning else ""),
        )
    return redirect(f"/ballots/{made.ballot.id}")


@post("/projects/{project_id:int}/stage")
async def decide_stage(request: WebRequest, viewer: Principal, project_id: int) -> Template | Redirect:
    form = await request.form()
    values = {"stage_decision": text(form, "stage_decision"), "stage_reason": text(form, "stage_reason")}
    try:
        if not values["stage_decision"]:
            raise FormErrors({"stage_decision": "Choose the decision."})
        code, reason = values["stage_decision"], values["stage_reason"]
        chosen = await run(request, lambda s: projects.decide_stage(s, viewer, project_id, code, reason, now(request)))
    except DomainError as exc:
        errors = field_errors(exc, "stage_decision", "stage_")
        return await render_project(request, viewer, project_id, status=_status(exc), errors=errors, values=values)
    flash(request, f"The decision {chosen.code} is recorded; the project is at stage {chosen.path[-1]}.")
    return redirect(f"/projects/{project_id}")


# --- participation ----------------------------------------------------------------------------


@get("/committees/{committee_id:int}/participation", name="participation")
async def participation_page(request: WebRequest, viewer: Principal, committee_id: int) -> Template:
    result, committee, secretary = await read(
        request, lambda s: committee_views.read_participation(s, viewer, committee_id, now(request))
    )
    return page(request, "participation.html", viewer, ledger=result, committee=committee, secretary=secretary)


HANDLERS: list[Any] = [
    committee_list,
    committee_page,
    set_member,
    set_liaison,
    create_project,
    project_page,
    create_ballot,
    decide_stage,
    participation_page,
]
