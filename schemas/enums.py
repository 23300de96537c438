"""Closed vocabularies shared by the API, the rules and the workers."""

from __future__ import annotations

from enum import StrEnum


class BallotType(StrEnum):
    NP = "NP"
    WD = "WD"
    CD_CONSULTATION = "CD_CONSULTATION"
    CD = "CD"
    DIS = "DIS"
    FDIS = "FDIS"
    DTS = "DTS"
    DTR = "DTR"
    DPAS = "DPAS"
    SR = "SR"
    WITHDRAWAL = "WITHDRAWAL"
    CIB = "CIB"


class BallotStatus(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class Position(StrEnum):
    APPROVE = "approve"
    APPROVE_WITH_COMMENTS = "approve_with_comments"
    DISAPPROVE = "disapprove"
    ABSTAIN = "abstain"
    CONFIRM = "confirm"
    REVISE = "revise"
    WITHDRAW = "withdraw"


class RulebookName(StrEnum):
    ISO = "iso"
    IEC = "iec"


class Deliverable(StrEnum):
    IS = "IS"
    TS = "TS"
    PAS = "PAS"
    TR = "TR"
    AMD = "AMD"
    COR = "COR"


class MemberStatus(StrEnum):
    P = "P"
    O = "O"  # noqa: E741 - the ISO name of the status


class CommentType(StrEnum):
    GE = "ge"
    TE = "te"
    ED = "ed"


class Disposition(StrEnum):
    ACCEPTED = "accepted"
    ACCEPTED_IN_PRINCIPLE = "accepted_in_principle"
    PARTIALLY_ACCEPTED = "partially_accepted"
    NOTED = "noted"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class Role(StrEnum):
    DELEGATE = "delegate"
    COMMENTER = "commenter"
    SECRETARY = "secretary"
    CONVENOR = "convenor"
    OBSERVER = "observer"
    ADMIN = "admin"


class LiaisonCategory(StrEnum):
    A = "A"
    B = "B"
    C = "C"
