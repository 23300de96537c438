"""When bodies that have not voted are reminded: lead times before the deadline, one at a time."""

from __future__ import annotations

from datetime import datetime, timedelta

REMINDER_DAYS = (14, 7, 3)


def reminders_due(
    opened_at: datetime, closes_at: datetime, now: datetime, already: set[int]
) -> tuple[list[int], int | None]:
    """Which lead times are due now: (all to mark as handled, the one to announce or None).

    Only the nearest due reminder is sent: a ballot opened ten days before its deadline gets no
    14-day reminder, and a sweep that was down for a week sends one reminder, not three.
    """
    due = [d for d in REMINDER_DAYS if closes_at - timedelta(days=d) <= now < closes_at and d not in already]
    due = [d for d in due if closes_at - timedelta(days=d) >= opened_at]
    if not due:
        return [], None
    return due, min(due)
