"""Which consumer reacts to which event: the contract between the log and the workers.

The service writes one delivery row per consumer listed here in the event's own transaction,
so the set of consumers an event reaches is fixed when it is committed.
"""

from __future__ import annotations

from collections.abc import Mapping

# Changes to what a compiled comment table shows.
COMMENT_CONTENT = frozenset(
    {
        "comments.submitted",
        "comments.replaced",
        "comments.imported",
        "comment.observation_recorded",
        "comment.observations_imported",
    }
)

CONSUMERS: Mapping[str, frozenset[str]] = {
    # Requests tables and reports when a ballot closes, and rebuilds when their content changes.
    "collation": frozenset({"ballot.closed"} | COMMENT_CONTENT),
    # Builds a requested document (slow: its own queue so e-mails never wait behind it).
    "builder": frozenset({"document.requested"}),
    "mailer": frozenset(
        {
            "ballot.opened",
            "ballot.extended",
            "ballot.reminder_due",
            "ballot.closed",
            "ballot.reopened",
            "document.generated",
        }
    ),
}

QUEUES: Mapping[str, str] = {"collation": "events", "builder": "documents", "mailer": "events"}

_BY_TYPE: dict[str, tuple[str, ...]] = {}
for _consumer, _types in CONSUMERS.items():
    for _type in _types:
        _BY_TYPE[_type] = (*_BY_TYPE.get(_type, ()), _consumer)


def consumers_of(event_type: str) -> tuple[str, ...]:
    return _BY_TYPE.get(event_type, ())
