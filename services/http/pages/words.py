"""How the pages name the service's codes (positions, dispositions, statuses, ballot types)."""

from __future__ import annotations

from types import MappingProxyType

from schemas.enums import BallotType
from services.documents.table_vocabulary import DISPOSITION_WORDS
from services.rules import ballot_types, stage_codes

POSITIONS = {
    "approve": "Approve",
    "approve_with_comments": "Approve with comments",
    "disapprove": "Disapprove",
    "abstain": "Abstain",
    "confirm": "Confirm",
    "revise": "Revise",
    "withdraw": "Withdraw",
}
# The pages use the words the compiled comment table prints, so the two never disagree.
DISPOSITIONS = DISPOSITION_WORDS
COMMENT_TYPES = {"ge": "General", "te": "Technical", "ed": "Editorial"}
STATUSES = {"draft": "Draft", "open": "Open", "closed": "Closed", "cancelled": "Cancelled"}
BALLOT_TYPES = {t.value: (ballot_types.spec(t).label or t.value) for t in BallotType}

COUNTS = {
    "p_members": "P-members at opening",
    "p_voted": "P-members that voted",
    "p_approve": "P-members approving",
    "p_disapprove": "P-members disapproving",
    "p_abstain": "P-members abstaining",
    "all_voted": "Members that voted",
    "all_approve": "Members approving",
    "all_disapprove": "Members disapproving",
    "all_abstain": "Members abstaining",
    "disapprove_without_reasons": "Disapprovals without technical reasons (not counted)",
    "p_participating": "P-members committing to participate",
    "confirm": "Confirm",
    "revise": "Revise",
    "withdraw": "Withdraw",
}

WORDS = MappingProxyType(
    {
        "position": POSITIONS,
        "disposition": DISPOSITIONS,
        "comment_type": COMMENT_TYPES,
        "status": STATUSES,
        "ballot_type": BALLOT_TYPES,
        "stage": dict(stage_codes.STAGE_NAMES),
        "count": COUNTS,
    }
)


def position(code: str | None) -> str:
    return POSITIONS.get(code or "", code or "")
