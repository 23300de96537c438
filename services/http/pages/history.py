"""A project's history told from its events, in plain words."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from litestar import get
from litestar.response import Template

from schemas.tables import Event, Project, StageChange
from services.http.pages.common import WebRequest, page, run
from services.http.pages.words import BALLOT_TYPES, DISPOSITIONS
from services.http.pages.words import position as said
from services.rules import draft_names, stage_codes
from services.rules.actors import Principal
from services.views import history


def person(actor: str) -> str:
    """`Name <e-mail>` → `Name`: the page names people, the record keeps their address."""
    name = actor.split(" <", 1)[0].strip()
    return name or actor


def _stage_words(code: str | None) -> str:
    name = stage_codes.STAGE_NAMES.get(code or "", "")
    # "Close of voting" → "close of voting", but "DIS ballot initiated" keeps its capitals.
    return name[:1].lower() + name[1:] if name[1:2].islower() else name


def _first_up(text: str) -> str:
    return text[:1].upper() + text[1:]


def _time(value: object) -> str:
    return str(value or "")[:16].replace("T", " ")


def _plural(n: int, word: str) -> str:
    if n == 1:
        return f"{n} {word}"
    return f"{n} {word[:-1]}ies" if word.endswith("y") else f"{n} {word}s"


Describer = Callable[[Event, dict[str, Any], Mapping[int, str]], str]


def _ballot(payload: dict[str, Any], names: Mapping[int, str]) -> str:
    ballot_id = payload.get("ballot_id")
    return names.get(int(ballot_id), f"ballot {ballot_id}") if isinstance(ballot_id, int) else "the ballot"


def _stage_changed(e: Event, p: dict[str, Any], names: Mapping[int, str]) -> str:
    before, after = p.get("from_stage"), p.get("to_stage")
    head = f"Stage {before} → {after}" if before else f"Registered at stage {after}"
    cause = str(p.get("cause", ""))
    what = _stage_words(after)
    text = f"{head}: {what}" if what else head
    if cause and cause != "decision":
        text += f" ({cause})"
    text += f", by {person(e.actor)}"
    if p.get("reason"):
        text += f" — “{p['reason']}”"
    return text


def _vote_cast(e: Event, p: dict[str, Any], names: Mapping[int, str]) -> str:
    text = f"{p.get('body')} voted {said(p.get('position')).lower()} on {_ballot(p, names)}"
    if p.get("position") == "disapprove" and not p.get("reasons"):
        text += " (without technical reasons)"
    return text


def _vote_changed(e: Event, p: dict[str, Any], names: Mapping[int, str]) -> str:
    return (
        f"{p.get('body')} changed its vote from {said(p.get('previous_position')).lower()} "
        f"to {said(p.get('position')).lower()} on {_ballot(p, names)}"
    )


def _closed(e: Event, p: dict[str, Any], names: Mapping[int, str]) -> str:
    outcome = "approved" if p.get("approved") else "not approved"
    how = "at its deadline" if p.get("by_deadline") else f"by {person(e.actor)}"
    return f"{_first_up(_ballot(p, names))} closed {how}: {outcome}"


def _observation(e: Event, p: dict[str, Any], names: Mapping[int, str]) -> str:
    disposition = DISPOSITIONS.get(str(p.get("disposition")), "")
    return f"{person(e.actor)} recorded the observation on {p.get('reference')}" + (
        f" ({disposition.lower()})" if disposition else ""
    )


DESCRIBE: dict[str, Describer] = {
    "project.created": lambda e, p, n: f"Project {p.get('reference')} registered by {person(e.actor)}",
    "project.stage_changed": _stage_changed,
    "ballot.created": lambda e, p, n: (
        f"{BALLOT_TYPES.get(str(p.get('ballot_type')), p.get('ballot_type'))} ballot {p.get('ballot_id')} "
        f"created by {person(e.actor)}, closing {_time(p.get('closes_at'))} UTC"
    ),
    "ballot.opened": lambda e, p, n: (
        f"{_first_up(_ballot(p, n))} opened by {person(e.actor)}: "
        f"{_plural(len(p.get('voters', [])), 'body')} may vote, {_plural(len(p.get('p_members', [])), 'P-member')}"
    ),
    "ballot.extended": lambda e, p, n: (
        f"{_first_up(_ballot(p, n))}: deadline moved from {_time(p.get('previous_closes_at'))} "
        f"to {_time(p.get('closes_at'))} UTC by {person(e.actor)}"
    ),
    "ballot.closed": _closed,
    "ballot.reopened": lambda e, p, n: (
        f"{_first_up(_ballot(p, n))} re-opened by {person(e.actor)} until "
        f"{_time(p.get('closes_at'))} UTC — “{p.get('reason', '')}”"
    ),
    "ballot.cancelled": lambda e, p, n: (
        f"{_first_up(_ballot(p, n))} cancelled by {person(e.actor)}"
        + (f" — “{p['reason']}”" if p.get("reason") else "")
    ),
    "ballot.decided": lambda e, p, n: (
        f"Decision on {_ballot(p, n)} by {person(e.actor)}: {p.get('decision')}"
        + (f" — “{p['reason']}”" if p.get("reason") else "")
    ),
    "vote.cast": _vote_cast,
    "vote.changed": _vote_changed,
    "comments.submitted": lambda e, p, n: (
        f"{p.get('body')} submitted {_plural(int(p.get('count', 0)), 'comment')} on {_ballot(p, n)}"
    ),
    "comments.replaced": lambda e, p, n: (
        f"{p.get('body')} replaced its comments on {_ballot(p, n)}: {p.get('previous_count')} → {p.get('count')}"
    ),
    "comments.imported": lambda e, p, n: (
        f"{person(e.actor)} imported a compiled table of {_plural(int(p.get('count', 0)), 'comment')} "
        f"into {_ballot(p, n)}"
    ),
    "comment.observation_recorded": _observation,
    "comment.observations_imported": lambda e, p, n: (
        f"{person(e.actor)} uploaded {_plural(int(p.get('count', 0)), 'observation')} for {_ballot(p, n)}"
    ),
    "ballot.reminder_due": lambda e, p, n: f"Reminder sent for {_ballot(p, n)}: {p.get('days_before')} days left",
    "document.generated": lambda e, p, n: (
        f"Comment table of {_ballot(p, n)} built ({_plural(int(p.get('rows', 0)), 'row')})"
        if p.get("kind") == "comment_table"
        else f"Results report of {_ballot(p, n)} built"
    ),
}
# Plumbing, not history: requests for documents, notifications, failed builds retried later.
QUIET = frozenset({"document.requested", "document.failed", "notification.sent", "notification.failed"})


def describe(event: Event, names: Mapping[int, str]) -> str:
    describer = DESCRIBE.get(event.type)
    if describer is None:
        return f"{event.type.replace('.', ' ').replace('_', ' ')} by {person(event.actor)}"
    return describer(event, event.payload or {}, names)


@dataclass
class Line:
    when: Any
    text: str
    kind: str


@dataclass
class HistoryView:
    project: Project
    document: str
    stages: list[StageChange]
    lines: list[Line]


def told(found: history.ProjectHistory) -> HistoryView:
    """The history in words, one line an event."""
    project = found.project
    names = {
        b.id: f"the {BALLOT_TYPES.get(b.type, b.type)} ballot {b.id} ({draft_names.of_ballot(b, project)})"
        for b in found.ballots
        if b.id is not None
    }
    lines = [Line(e.occurred_at, describe(e, names), e.type.split(".")[0]) for e in found.events if e.type not in QUIET]
    return HistoryView(project, draft_names.of_project(project), found.stages, lines)


@get("/projects/{project_id:int}/history", name="history")
async def history_page(request: WebRequest, viewer: Principal, project_id: int) -> Template:
    view = told(await run(request, lambda s: history.read_history(s, viewer, project_id)))
    return page(request, "history.html", viewer, v=view, person=person)


HANDLERS: list[Any] = [history_page]
