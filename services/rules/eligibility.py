"""Who takes part in a ballot, and how: the snapshot taken when it opens (SPEC §3.2). Pure."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from schemas.enums import MemberStatus
from services.rules.ballot_types import BallotTypeSpec

# Codes that are not national bodies: ISO/CS editing unit and CEN's management centre.
RESERVED_CODES = frozenset({"**", "CCMC"})


@dataclass(frozen=True)
class Party:
    code: str
    kind: str  # "member" | "liaison"
    is_p_member: bool
    may_vote: bool
    may_comment: bool


def may_comment(spec: BallotTypeSpec, *, kind: str, is_p: bool, may_vote: bool) -> bool:
    sources = spec.comments_from
    if kind == "liaison":
        return "liaisons" in sources
    return (
        (may_vote and "voters" in sources)
        or (is_p and "p" in sources)
        or (not is_p and "o" in sources and kind == "member-o")
        or "all_members" in sources
    )


def parties(
    spec: BallotTypeSpec, members: Mapping[str, str], every_body: Iterable[str], liaisons: Iterable[str]
) -> list[Party]:
    """The ballot's parties from the committee's members (code → P or O), every member body (used
    only by ballots open to all of them) and the committee's liaisons."""
    rows: dict[str, Party] = {}
    if spec.voters == "all_members":
        for code in every_body:
            reserved = code in RESERVED_CODES
            is_p = members.get(code) == MemberStatus.P.value
            rows[code] = Party(
                code,
                "member",
                is_p_member=is_p,
                may_vote=not reserved,
                # ISO/CS (**) and CCMC comment on member ballots but never vote.
                may_comment=reserved or may_comment(spec, kind="member", is_p=is_p, may_vote=True),
            )
    else:
        for code, status in members.items():
            is_p = status == MemberStatus.P.value
            votes = is_p and spec.voters == "committee_p"
            rows[code] = Party(
                code,
                "member",
                is_p_member=is_p,
                may_vote=votes,
                may_comment=may_comment(spec, kind="member" if is_p else "member-o", is_p=is_p, may_vote=votes),
            )
    for code in liaisons:
        if code not in rows:
            comments = may_comment(spec, kind="liaison", is_p=False, may_vote=False)
            rows[code] = Party(code, "liaison", is_p_member=False, may_vote=False, may_comment=comments)
    return list(rows.values())
