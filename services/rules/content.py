"""Rows against the events that recorded them: a ballot's votes, comment sets and observations
must be what its events say, with nothing added, changed or missing. Pure; the use case
(`services.usecases.ledger`) checks the stored rows, `services.views.record` an exported record.

Events written before content digests existed (an empty digest) are not compared for content.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from services.rules import digests
from services.rules.chain import VOTE_TYPES, Finding

SET_TYPES = ("comments.submitted", "comments.replaced")
IMPORT_TYPE = "comments.imported"
OBSERVATION_TYPES = ("comment.observation_recorded", "comment.observations_imported")


@dataclass(frozen=True)
class RecordedSet:
    event_id: int
    body: str
    set_version: int
    references: list[str]
    digest: str  # "" before digests
    observations: dict[str, str]


def _ordered(events: Iterable[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    return sorted(events, key=lambda e: int(e["id"]))


def recorded_sets(events: Iterable[Mapping[str, Any]]) -> list[RecordedSet]:
    """Every comment set the events record, oldest first."""
    found: list[RecordedSet] = []
    for e in _ordered(events):
        p = e["payload"]
        if e["type"] in SET_TYPES:
            found.append(
                RecordedSet(
                    int(e["id"]),
                    p["body"],
                    int(p["set_version"]),
                    list(p["references"]),
                    p.get("digest", ""),
                    dict(p.get("observations") or {}),
                )
            )
        elif e["type"] == IMPORT_TYPE:
            for body, s in sorted((p.get("sets") or {}).items()):
                found.append(
                    RecordedSet(
                        int(e["id"]),
                        body,
                        int(s["set_version"]),
                        list(s["references"]),
                        s["digest"],
                        dict(s.get("observations") or {}),
                    )
                )
    return found


def expected_observations(events: Iterable[Mapping[str, Any]]) -> dict[str, str | None]:
    """reference -> digest of the observation its current comment must hold (None: not known, an
    event from before digests)."""
    expected: dict[str, str | None] = {}
    references_of: dict[str, list[str]] = {}
    sets = {(s.event_id, s.body): s for s in recorded_sets(events)}
    for e in _ordered(events):
        p = e["payload"]
        if e["type"] in (*SET_TYPES, IMPORT_TYPE):
            bodies = [p["body"]] if e["type"] in SET_TYPES else sorted(p.get("sets") or {})
            for body in bodies:
                s = sets[(int(e["id"]), body)]
                for ref in references_of.pop(body, []):
                    expected.pop(ref, None)
                references_of[body] = s.references
                for ref in s.references:
                    expected[ref] = s.observations.get(ref, digests.NO_OBSERVATION) if s.digest else None
        elif e["type"] == "comment.observation_recorded":
            expected[p["reference"]] = p.get("digest") or None
        elif e["type"] == "comment.observations_imported":
            given = p.get("digests") or {}
            for ref in p["references"]:
                expected[ref] = given.get(ref)
    return expected


def check_votes(subject: str, events: Iterable[Mapping[str, Any]], rows: Iterable[Mapping[str, Any]]) -> list[Finding]:
    """Stored vote rows (with their `id`) against the vote events, one event per row."""
    findings: list[Finding] = []
    by_vote: dict[int, Mapping[str, Any]] = {}
    for e in _ordered(events):
        if e["type"] not in VOTE_TYPES:
            continue
        vote_id = int(e["payload"]["vote_id"])
        if vote_id in by_vote:
            findings.append(Finding("votes", subject, f"vote {vote_id} is recorded by two events ({e['id']} too)"))
        by_vote[vote_id] = e
    seen: set[int] = set()
    for row in rows:
        vote_id = int(row["id"])
        seen.add(vote_id)
        event = by_vote.get(vote_id)
        what = f"vote {vote_id} of {row['body']}"
        if event is None:
            findings.append(Finding("votes", subject, f"{what} has no event: it was written outside the application"))
            continue
        p = event["payload"]
        if p["body"] != row["body"]:
            findings.append(Finding("votes", subject, f"{what} is recorded by event {event['id']} as {p['body']}'s"))
        elif p.get("digest") and p["digest"] != _vote_digest(row):
            findings.append(
                Finding(
                    "votes",
                    subject,
                    f"{what} differs from event {event['id']} that recorded it: its position, reasons or experts "
                    "were changed outside the application",
                )
            )
    for vote_id in sorted(set(by_vote) - seen):
        findings.append(
            Finding("votes", subject, f"vote {vote_id} recorded by event {by_vote[vote_id]['id']} is missing")
        )
    return findings


def check_current_votes(
    subject: str, events: Iterable[Mapping[str, Any]], current: Iterable[Mapping[str, Any]]
) -> list[Finding]:
    """Each body's current vote (as exported, without ids) against its latest vote event."""
    latest: dict[str, Mapping[str, Any]] = {}
    for e in _ordered(events):
        if e["type"] in VOTE_TYPES:
            held = latest.get(e["payload"]["body"])
            if held is None or int(e["payload"]["vote_id"]) > int(held["payload"]["vote_id"]):
                latest[e["payload"]["body"]] = e
    findings = []
    for row in current:
        event = latest.get(row["body"])
        digest = event["payload"].get("digest") if event else None
        if digest and digest != _vote_digest(row):
            findings.append(Finding("votes", subject, f"the vote of {row['body']} differs from its event"))
    return findings


def check_comments(
    subject: str,
    events: Sequence[Mapping[str, Any]],
    rows: Iterable[Mapping[str, Any]],
    *,
    every_version: bool,
) -> list[Finding]:
    """Comment rows against the sets their events record, and the current rows' observations
    against the observation events. `every_version`: the rows are all the ballot's, superseded sets
    included (the database); otherwise only the current ones (an exported record)."""
    findings: list[Finding] = []
    sets = recorded_sets(events)
    latest = {s.body: s for s in sets}
    recorded = {(s.body, s.set_version): s for s in sets}
    grouped: dict[tuple[str, int], list[Mapping[str, Any]]] = {}
    current: list[Mapping[str, Any]] = []
    for row in rows:
        if every_version:
            version = int(row["set_version"])
        else:
            version = latest[row["body"]].set_version if row["body"] in latest else 0
        grouped.setdefault((row["body"], version), []).append(row)
        if not row.get("superseded", False):
            current.append(row)
    for (body, version), group in sorted(grouped.items()):
        s = recorded.get((body, version))
        what = f"the comments of {body}" + (f" (set {version})" if every_version else "")
        if s is None:
            findings.append(Finding("comments", subject, f"{what} have no event: written outside the application"))
        elif sorted(str(r["reference"]) for r in group) != sorted(s.references):
            findings.append(Finding("comments", subject, f"{what} are not the ones event {s.event_id} recorded"))
        elif s.digest and s.digest != digests.comment_set(group):
            findings.append(
                Finding(
                    "comments",
                    subject,
                    f"{what} differ from event {s.event_id} that recorded them: changed outside the application",
                )
            )
    wanted = sets if every_version else list(latest.values())
    for s in wanted:
        if s.references and (s.body, s.set_version) not in grouped:
            findings.append(Finding("comments", subject, f"the comments event {s.event_id} recorded are missing"))
    expected = expected_observations(events)
    for row in current:
        digest = expected.get(str(row["reference"]))
        if digest and digest != digests.observation(row.get("observation") or "", row.get("disposition")):
            findings.append(
                Finding(
                    "observations",
                    subject,
                    f"the observation on {row['reference']} differs from the event that recorded it",
                )
            )
    return findings


def _vote_digest(row: Mapping[str, Any]) -> str:
    return digests.vote(row["position"], row["reasons"] or "", row["participate"], row["experts"])
