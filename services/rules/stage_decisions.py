"""The stage moves a committee decides without a ballot (issue #13 item 4): a preliminary item
approved for a proposal, an AWI's working draft approved for registration as a CD (20.99), a
stage reached before the project was registered here, a project deleted.

One table, read by the project page's form and by the use case that records the decision; the
moves a ballot result allows stay in `stages` (after the ballot, on the ballot's page).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType

from schemas.enums import Deliverable
from services.rules.stage_codes import STAGE_NAMES


@dataclass(frozen=True)
class Move:
    """A decision: its code, its name and the stages the project passes through (last = where it ends)."""

    code: str
    label: str
    path: tuple[str, ...]


_SKIPS_ENQUIRY = frozenset({Deliverable.TS, Deliverable.PAS, Deliverable.TR})


def _move(code: str, *then: str) -> Move:
    return Move(code, STAGE_NAMES[code], (code, *then))


def _deleted(stage: str) -> Move:
    return _move(f"{stage[:2]}.98")


_PRELIMINARY = (_move("00.99"), _move("10.00"), _move("00.98"))
# Working drafts: the WG's consensus registers the CD; committees also record a WD approved at a
# meeting, and the registration of the CD that followed it.
_PREPARATORY = (_move("20.99", "30.00"), _deleted("20.00"))
_COMMITTEE_IS = (_move("30.99", "40.00"), _deleted("30.00"))
_COMMITTEE_SKIP = (Move("30.99", "CD approved for registration as final draft", ("30.99", "50.00")), _deleted("30.00"))

_TABLE: Mapping[str, tuple[Move, ...]] = MappingProxyType(
    {
        "00.00": _PRELIMINARY,
        "00.20": _PRELIMINARY,
        "00.60": _PRELIMINARY,
        "00.99": (_move("10.00"), _move("00.98")),
        "10.99": (_move("20.00"), _deleted("20.00")),
        "20.00": _PREPARATORY,
        "20.60": _PREPARATORY,
        "20.99": (_move("30.00"), _deleted("20.00")),
        "30.00": (),  # by deliverable, below
        "30.92": (_move("20.00"), _deleted("30.00")),
        "30.99": (),  # by deliverable, below
        "40.00": (_deleted("40.00"),),
        "40.93": (_deleted("40.00"),),
        "50.00": (_deleted("50.00"),),
        "50.99": (_move("60.00"),),
        "60.00": (_move("60.60"),),
    }
)


def allowed_moves(deliverable: Deliverable, stage: str) -> tuple[Move, ...]:
    """The decisions the committee may record on a project at `stage` without a ballot."""
    skip = Deliverable(deliverable) in _SKIPS_ENQUIRY
    if stage == "30.00":
        return _COMMITTEE_SKIP if skip else _COMMITTEE_IS
    if stage == "30.99":
        return (_move("50.00") if skip else _move("40.00"),)
    return _TABLE.get(stage, ())


def move(deliverable: Deliverable, stage: str, code: str) -> Move | None:
    return next((m for m in allowed_moves(deliverable, stage) if m.code == code), None)
