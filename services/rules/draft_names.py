"""The names drafts carry from stage to stage, e.g. ISO/DIS 12345 or ISO/CD TS 19387.2."""

from __future__ import annotations

import re

from schemas.enums import BallotType, Deliverable
from schemas.tables import Ballot, Project
from services.rules import stages

_STAGE_RE = re.compile(r"^\s*([0-9]{2})\.([0-9]{2})\s*$")
_AMD_RE = re.compile(
    r"^(?P<base>.+?)\s*/\s*(?:(?:PWI|NP|AWI|WD|CD|PRF)\s+)?(?:FD|D)?"
    r"(?P<kind>amd|cor)\s*(?P<num>[0-9]+)(?:\.[0-9]+)?(?::(?P<year>[0-9]{4}))?\s*$",
    re.IGNORECASE,
)
_NUMBER_RE = re.compile(r"^(?P<num>[0-9][0-9A-Za-z\-]*)(?:\.(?P<iter>[0-9]+))?(?::(?P<year>[0-9]{4}))?(?P<rest>.*)$")
# Words a reference may already carry from an earlier stage; they are replaced, not repeated.
_STAGE_WORDS = frozenset(
    {
        "PWI",
        "NP",
        "NWIP",
        "AWI",
        "WD",
        "CD",
        "DIS",
        "FDIS",
        "PRF",
        "IS",
        "DTS",
        "DTR",
        "DPAS",
        "FDTS",
        "FDTR",
        "FDPAS",
        "TS",
        "TR",
        "PAS",
    }
)
_KINDS = {Deliverable.TS: "TS", Deliverable.TR: "TR", Deliverable.PAS: "PAS"}


def _phase(stage: str) -> str | None:
    """The document's phase for naming: PWI, NP, AWI, WD, CD, DIS, FDIS, PRF or PUB."""
    m = _STAGE_RE.match(stage or "")
    if not m:
        return None
    major, minor = int(m.group(1)), int(m.group(2))
    if major < 10:
        return "PWI"
    if major < 20:
        # An approved new project is an approved work item (pubid-iso: AWI = 10.99 and 20.00).
        return "AWI" if minor == 99 else "NP"
    if major < 30:
        return "AWI" if minor == 0 else "WD"
    if major < 40:
        return "CD"
    if major < 50:
        return "DIS"
    if major < 60:
        return "FDIS"
    if major == 60 and minor < 60:
        return "PRF"
    return "PUB"


def _suffix(phase: str, iteration: int) -> str:
    return f".{iteration}" if iteration > 1 and phase in {"WD", "CD", "DIS", "FDIS"} else ""


def _amendment_name(
    reference: str, deliverable: Deliverable, phase: str, iteration: int, year: int | None
) -> str | None:
    m = _AMD_RE.match(reference)
    if not m:
        return None
    base = m.group("base").strip()
    kind = "Amd" if deliverable == Deliverable.AMD else "Cor"
    num = m.group("num")
    it = _suffix(phase, iteration)
    if phase == "DIS":
        return f"{base}/D{kind} {num}{it}"
    if phase == "FDIS":
        return f"{base}/FD{kind} {num}{it}"
    if phase == "PUB":
        y = year if year is not None else m.group("year")
        return f"{base}/{kind} {num}" + (f":{y}" if y else "")
    return f"{base}/{phase} {kind} {num}{it}"


def document_name(
    reference: str,
    deliverable: Deliverable,
    stage: str,
    iteration: int = 1,
    year: int | None = None,
) -> str:
    """The name a draft carries at `stage`, e.g. ISO/CD TS 19387.2; never raises."""
    try:
        return _document_name(reference, Deliverable(deliverable), stage, iteration, year)
    except (ValueError, TypeError, AttributeError, IndexError):
        # A display name must never break a page or a report.
        return reference if isinstance(reference, str) else str(reference)


def _document_name(reference: str, deliverable: Deliverable, stage: str, iteration: int, year: int | None) -> str:
    ref = " ".join(reference.split())
    phase = _phase(stage)
    if phase is None or not ref:
        return ref
    if deliverable in (Deliverable.AMD, Deliverable.COR):
        named = _amendment_name(ref, deliverable, phase, iteration, year)
        if named is not None:
            return named

    head_end = next((i for i, ch in enumerate(ref) if ch.isascii() and ch.isdigit()), len(ref))
    head, tail = ref[:head_end], ref[head_end:]
    m = _NUMBER_RE.match(tail)
    if not m:
        return ref if phase == "PUB" else f"{ref} ({phase})"
    words = [w for w in re.split(r"[/\s]+", head) if w]
    org = "/".join(w for w in words if w.upper() not in _STAGE_WORDS)
    kind = _KINDS.get(deliverable, "")
    num = m.group("num")
    rest = m.group("rest")
    # ISO/DIS 11367 but ISO/IEC DIS 27001: a joint publisher is followed by a space.
    lead = (f"{org} " if "/" in org else f"{org}/") if org else ""

    if phase == "PUB":
        y = year if year is not None else m.group("year")
        dated = f"{num}:{y}" if y else num
        if kind:
            return f"{lead}{kind} {dated}{rest}"
        return f"{org} {dated}{rest}" if org else f"{dated}{rest}"

    it = _suffix(phase, iteration)
    if kind and phase in {"DIS", "FDIS"}:
        # TS, TR and PAS drafts are named DTS, DTR, DPAS at the ballot stages.
        return f"{lead}D{kind} {num}{it}{rest}"
    kind_part = f" {kind}" if kind else ""
    return f"{lead}{phase}{kind_part} {num}{it}{rest}"


def of_ballot(ballot: Ballot, project: Project) -> str:
    """The balloted draft's name, from the stage the ballot runs at: a DIS stays 'ISO/DIS …'
    after the project has moved on."""
    stage = stages.stage_on_open_code(BallotType(ballot.type)) or project.stage
    return document_name(project.reference, Deliverable(project.deliverable), stage, ballot.iteration)


def of_project(project: Project, iteration: int = 1) -> str:
    """The project's current document name (the latest draft, or the published standard)."""
    deliverable = Deliverable(project.deliverable)
    return document_name(project.reference, deliverable, project.stage, iteration, project.published_year)
