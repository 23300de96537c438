"""Digests of the content an event records, so a row changed or added behind the application's
back differs from the event that recorded it. Pure; the same inputs from a database row and from
an exported record (its votes and comments as the API gives them) give the same digest."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping
from typing import Any

from services.rules.chain import canonical

# A comment's content as its body wrote it; the secretariat's observation is digested apart,
# since it changes after the set was recorded.
COMMENT_FIELDS = ("reference", "original_reference", "line", "clause", "element", "type", "comment", "proposed_change")


def _digest(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def vote(position: str, reasons: str, participate: bool | None, experts: Any) -> str:
    return _digest({"position": position, "reasons": reasons, "participate": participate, "experts": experts or []})


def comment_set(rows: Iterable[Mapping[str, Any] | Any]) -> str:
    """A set's digest, whatever order its rows come in (they are ordered by reference)."""
    items = [{f: _get(r, f) for f in COMMENT_FIELDS} for r in rows]
    return _digest(sorted(items, key=lambda item: str(item["reference"])))


def observation(text: str, disposition: str | None) -> str:
    return _digest({"observation": text, "disposition": disposition})


NO_OBSERVATION = observation("", None)


def observations(rows: Iterable[Mapping[str, Any] | Any]) -> dict[str, str]:
    """reference -> digest of the observation a new set already carries (an imported table's)."""
    found = {}
    for r in rows:
        text, disposition = _get(r, "observation") or "", _get(r, "disposition")
        if text or disposition:
            found[str(_get(r, "reference"))] = observation(text, disposition)
    return found


def _get(row: Mapping[str, Any] | Any, name: str) -> Any:
    return row.get(name) if isinstance(row, Mapping) else getattr(row, name)
