"""The moves ballot events make through the harmonized stages (SPEC §3.1, iso-rules §1).

The moves are one table per ballot type (`_FLOWS`): where a ballot may open from, what it
opens and closes, and which decisions a result allows. Code below only reads the table.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Literal

from schemas.enums import BallotType, Deliverable
from services.rules.stage_codes import STAGE_NAMES


class StageError(ValueError):
    """A stage move the rules do not allow; the message is meant for the secretary."""


@dataclass(frozen=True)
class Decision:
    code: str
    label: str
    path: tuple[str, ...]
    requires: Literal["approved", "not_approved", "any"]


Requires = Literal["approved", "not_approved", "any"]

_ALL = frozenset(Deliverable)
_ENQUIRY_PATH = frozenset({Deliverable.IS, Deliverable.AMD, Deliverable.COR})
_SKIPS_ENQUIRY = frozenset({Deliverable.TS, Deliverable.PAS, Deliverable.TR})


@dataclass(frozen=True)
class _Rule:
    """One decision as data; `paths` overrides `path` for the deliverables it names."""

    code: str
    label: str
    path: tuple[str, ...]
    requires: Requires
    paths: tuple[tuple[Deliverable, tuple[str, ...], str], ...] = ()

    def for_deliverable(self, deliverable: Deliverable) -> Decision:
        for d, path, label in self.paths:
            if d == deliverable:
                return Decision(self.code, label, path, self.requires)
        return Decision(self.code, self.label, self.path, self.requires)


@dataclass(frozen=True)
class _Flow:
    opens_from: tuple[str, ...]
    opens: str | None
    closes: str | None
    deliverables: frozenset[Deliverable]
    decisions: tuple[_Rule, ...]
    comment_only: bool = False


_CD_PROCEED_SKIP = tuple(
    (d, ("30.99", "50.00"), f"CD approved for registration as D{d.value}") for d in sorted(_SKIPS_ENQUIRY)
)
# A WD or CD consultation has no vote: moving on is the committee's consensus call, so every
# decision is offered whatever the (non-)result says.
_CD_CONSULTATION_RULES = (
    _Rule("30.99", "CD approved for registration as DIS", ("30.99", "40.00"), "any", _CD_PROCEED_SKIP),
    _Rule("30.92", "CD referred back to Working Group", ("30.92",), "any"),
    _Rule("30.98", "Project deleted", ("30.98",), "any"),
)
_CD_BALLOT_RULES = (
    _Rule("30.99", "CD approved for registration as DIS", ("30.99", "40.00"), "approved", _CD_PROCEED_SKIP),
    _Rule("30.92", "CD referred back to Working Group", ("30.92",), "any"),
    _Rule("30.98", "Project deleted", ("30.98",), "any"),
)


# At stage 50 the text is final: an approved draft goes to publication, so referral and
# deletion are only offered after a failed ballot.
def _approval_stage_rules(draft: str) -> tuple[_Rule, ...]:
    return (
        _Rule("50.99", f"{draft} approved for publication", ("50.99", "60.00"), "approved"),
        _Rule("50.92", f"{draft} referred back to TC or SC", ("50.92",), "not_approved"),
        _Rule("50.98", "Project deleted", ("50.98",), "not_approved"),
    )


# TS, PAS and TR are balloted at stage 50 once the committee stage is done (30.99), or when
# registered there directly (50.00).
_STAGE_50_OPENS_FROM = ("30.99", "50.00")
# A new committee-stage iteration: after a CD closes (30.60), after referral to the WG (30.92),
# and after a DIS or stage-50 ballot was referred back to the committee (40.92, 50.92).
_CD_OPENS_FROM = ("20.99", "30.00", "30.60", "30.92", "40.92", "50.92")

_FLOWS: Mapping[BallotType, _Flow] = MappingProxyType(
    {
        BallotType.NP: _Flow(
            # 10.92 returns the proposal for further definition; it is balloted again from there.
            opens_from=("00.99", "10.00", "10.92"),
            opens="10.20",
            closes="10.60",
            deliverables=_ALL,
            decisions=(
                _Rule("10.99", "New project approved", ("10.99", "20.00"), "approved"),
                _Rule("10.92", "Proposal returned to submitter for further definition", ("10.92",), "any"),
                _Rule("10.98", "New project rejected", ("10.98",), "not_approved"),
            ),
        ),
        BallotType.WD: _Flow(
            # 20.60: the WG circulates another working draft; 30.92: the CD came back to the WG.
            opens_from=("10.99", "20.00", "20.60", "30.92"),
            opens="20.20",
            closes="20.60",
            deliverables=_ALL,
            decisions=(
                _Rule("20.99", "WD approved for registration as CD", ("20.99", "30.00"), "any"),
                _Rule("20.98", "Project deleted", ("20.98",), "any"),
            ),
            comment_only=True,
        ),
        BallotType.CD_CONSULTATION: _Flow(
            opens_from=_CD_OPENS_FROM,
            opens="30.20",
            closes="30.60",
            deliverables=_ALL,
            decisions=_CD_CONSULTATION_RULES,
            comment_only=True,
        ),
        BallotType.CD: _Flow(
            opens_from=_CD_OPENS_FROM,
            opens="30.20",
            closes="30.60",
            deliverables=_ALL,
            decisions=_CD_BALLOT_RULES,
        ),
        BallotType.DIS: _Flow(
            # 50.92: an FDIS referred back may go out for a new enquiry.
            opens_from=("30.99", "40.00", "40.93", "50.92"),
            opens="40.20",
            closes="40.60",
            # TS, PAS and TR skip the enquiry (SPEC §3.1).
            deliverables=_ENQUIRY_PATH,
            decisions=(
                _Rule(
                    "40.99",
                    "Full report circulated: DIS approved for registration as FDIS",
                    ("40.99", "50.00"),
                    "approved",
                ),
                _Rule("60.00", "Approved; FDIS skipped, to publication", ("40.99", "60.00"), "approved"),
                # Substantial changes after even an approved DIS can justify referral or a
                # second DIS, and the committee may always abandon a project.
                _Rule("40.92", "Full report circulated: DIS referred back to TC or SC", ("40.92",), "any"),
                _Rule("40.93", "Full report circulated: decision for new DIS ballot", ("40.93",), "any"),
                _Rule("40.98", "Project deleted", ("40.98",), "any"),
            ),
        ),
        BallotType.FDIS: _Flow(
            opens_from=("40.99", "50.00"),
            opens="50.20",
            closes="50.60",
            deliverables=_ENQUIRY_PATH,
            decisions=_approval_stage_rules("FDIS"),
        ),
        BallotType.DTS: _Flow(
            opens_from=_STAGE_50_OPENS_FROM,
            opens="50.20",
            closes="50.60",
            deliverables=frozenset({Deliverable.TS}),
            decisions=_approval_stage_rules("DTS"),
        ),
        BallotType.DTR: _Flow(
            opens_from=_STAGE_50_OPENS_FROM,
            opens="50.20",
            closes="50.60",
            deliverables=frozenset({Deliverable.TR}),
            decisions=_approval_stage_rules("DTR"),
        ),
        BallotType.DPAS: _Flow(
            opens_from=_STAGE_50_OPENS_FROM,
            opens="50.20",
            closes="50.60",
            deliverables=frozenset({Deliverable.PAS}),
            decisions=_approval_stage_rules("DPAS"),
        ),
        BallotType.SR: _Flow(
            # 95.92: a standard kept after a withdrawal ballot is reviewed again in due course.
            opens_from=("60.60", "90.93", "95.92"),
            opens="90.20",
            closes="90.60",
            deliverables=_ALL,
            decisions=(
                _Rule("90.93", "International Standard confirmed", ("90.93",), "approved"),
                _Rule("90.92", "International Standard to be revised", ("90.92",), "any"),
                _Rule("90.99", "Withdrawal of International Standard proposed by TC or SC", ("90.99",), "any"),
            ),
        ),
        BallotType.WITHDRAWAL: _Flow(
            opens_from=("90.99",),
            opens="95.20",
            closes="95.60",
            deliverables=_ALL,
            decisions=(
                _Rule("95.99", "Withdrawal of International Standard", ("95.99",), "approved"),
                # The member bodies' vote is the decision here: keeping a standard they voted
                # to withdraw would overrule the ballot, so 95.92 follows a failed ballot only.
                _Rule("95.92", "Decision not to withdraw International Standard", ("95.92",), "not_approved"),
            ),
        ),
        # A CIB asks the committee a free question; it never moves the project.
        BallotType.CIB: _Flow(
            opens_from=(),
            opens=None,
            closes=None,
            deliverables=_ALL,
            decisions=(),
        ),
    }
)


def _flow(ballot_type: BallotType) -> _Flow:
    try:
        return _FLOWS[BallotType(ballot_type)]
    except (KeyError, ValueError):
        raise StageError(f"Unknown ballot type: {ballot_type!r}") from None


def _describe(code: str) -> str:
    name = STAGE_NAMES.get(code)
    return f"{code} ({name})" if name else code


def _or_list(codes: tuple[str, ...]) -> str:
    if len(codes) == 1:
        return codes[0]
    return ", ".join(codes[:-1]) + " or " + codes[-1]


def stage_on_open(ballot_type: BallotType, deliverable: Deliverable, current: str) -> str | None:
    bt = BallotType(ballot_type)
    flow = _flow(bt)
    if flow.opens is None:
        return None
    deliverable = Deliverable(deliverable)
    if deliverable not in flow.deliverables:
        allowed = ", ".join(sorted(d.value for d in flow.deliverables))
        raise StageError(f"A {bt.value} ballot cannot be run on a {deliverable.value} project; it is for {allowed}")
    if current not in flow.opens_from:
        raise StageError(
            f"A {bt.value} ballot cannot open while the project is at stage "
            f"{_describe(current)}: it moves the project to {_describe(flow.opens)} and opens "
            f"only from stage {_or_list(flow.opens_from)}"
        )
    return flow.opens


def stage_on_close(ballot_type: BallotType) -> str | None:
    return _flow(ballot_type).closes


def stage_on_open_code(ballot_type: BallotType) -> str | None:
    """The stage a ballot of this type runs at (40.20 for DIS), whatever the project's stage now."""
    return _flow(ballot_type).opens


def _offered(rule: _Rule, approved: bool | None) -> bool:
    if approved is None or rule.requires == "any":
        return True
    return (rule.requires == "approved") == approved


def allowed_decisions(ballot_type: BallotType, deliverable: Deliverable, approved: bool | None) -> tuple[Decision, ...]:
    bt = BallotType(ballot_type)
    flow = _flow(bt)
    # A comment-only result carries approved=False; that is "no vote", not "failed".
    outcome = None if flow.comment_only else approved
    return tuple(r.for_deliverable(Deliverable(deliverable)) for r in flow.decisions if _offered(r, outcome))


def decision(ballot_type: BallotType, deliverable: Deliverable, approved: bool | None, code: str) -> Decision:
    bt = BallotType(ballot_type)
    offered = allowed_decisions(bt, deliverable, approved)
    for d in offered:
        if d.code == code:
            return d
    allowed = ", ".join(d.code for d in offered) or "none"
    if not _flow(bt).decisions:
        raise StageError(f"A {bt.value} ballot leads to no stage decision (asked for {code})")
    known = any(r.code == code for r in _flow(bt).decisions)
    if known:
        outcome = "approved" if approved else "not approved"
        raise StageError(f"Decision {code} is not allowed: the ballot was {outcome}. Allowed: {allowed}")
    raise StageError(f"Decision {code} is not a decision after a {bt.value} ballot. Allowed: {allowed}")


def why_not_now(ballot_type: BallotType, deliverable: Deliverable, current: str) -> str | None:
    """Why a ballot of this type could not open on this project now, or None when it could;
    the same rule `stage_on_open` applies when the ballot opens."""
    try:
        stage_on_open(ballot_type, deliverable, current)
    except StageError as exc:
        return str(exc)
    return None


def offered_now(deliverable: Deliverable, current: str) -> tuple[tuple[BallotType, str | None], ...]:
    """Every ballot type with the reason it cannot open on this project now (None: it can)."""
    return tuple((bt, why_not_now(bt, deliverable, current)) for bt in _FLOWS)
