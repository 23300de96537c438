"""Committees nest (TC → SC → WG): a role held in a committee holds in those below it."""

from __future__ import annotations

from collections.abc import Mapping


def chain(committee_id: int, parent_of: Mapping[int, int | None]) -> list[int]:
    """The committee and its parents, nearest first (a loop in the data ends the walk)."""
    ids: list[int] = []
    current: int | None = committee_id
    while current is not None and current not in ids:
        ids.append(current)
        current = parent_of.get(current)
    return ids
