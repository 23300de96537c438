"""Prometheus metrics.

Two kinds. Counted in the process (request latency, votes cast): prometheus_client keeps them, in
files shared by every worker of one `ballotdesk api` when PROMETHEUS_MULTIPROC_DIR is set (the
server sets it before the workers start), so any worker's /metrics reports the server's totals.
Read from the database at scrape time (outbox backlog and age, queue lag, documents built and
their duration): the database is the one place that sees every API and worker process, so those
figures are right whichever process is scraped, and cost nothing on the request path.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector
from sqlalchemy import case, func
from sqlalchemy.ext.asyncio import AsyncSession
from sqlmodel import col, select

from schemas.tables import Delivery, Document

CONTENT_TYPE = "text/plain; version=0.0.4; charset=utf-8"
# Route templates of the requests counted as votes (a PUT that created or changed a vote).
VOTE_ROUTE_SUFFIX = "/votes/{code}"
BUILD_BUCKETS: Sequence[float] = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300)

REQUEST_SECONDS = Histogram(
    "ballotdesk_http_request_duration_seconds",
    "Time to answer an HTTP request, by route template.",
    ["method", "route", "status"],
    buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)
VOTES_CAST = Counter("ballotdesk_votes_cast", "Votes cast or changed through the API.")

# Label children are looked up once per (method, route, status): the per-request cost is one
# dict hit and one observation.
_children: dict[tuple[str, str, int], object] = {}


def observe_request(method: str, route: str, status: int, seconds: float) -> None:
    key = (method, route, status)
    child = _children.get(key)
    if child is None:
        child = REQUEST_SECONDS.labels(method, route, str(status))
        _children[key] = child
    child.observe(seconds)  # type: ignore[attr-defined]
    if method == "PUT" and status in (200, 201) and route.endswith(VOTE_ROUTE_SUFFIX):
        VOTES_CAST.inc()


@dataclass
class DatabaseFigures:
    """What the database says at scrape time."""

    pending: dict[str, int] = field(default_factory=dict)
    oldest_pending_seconds: float = 0.0
    in_queue: dict[str, int] = field(default_factory=dict)
    queue_lag_seconds: dict[str, float] = field(default_factory=dict)
    documents: dict[tuple[str, str], int] = field(default_factory=dict)
    build_buckets: list[tuple[float, int]] = field(default_factory=list)
    build_count: int = 0
    build_sum: float = 0.0


def _age(now: datetime, then: datetime | None) -> float:
    return max((now - then).total_seconds(), 0.0) if then is not None else 0.0


async def read_database(session: AsyncSession, now: datetime) -> DatabaseFigures:
    figures = DatabaseFigures()
    # Pending deliveries: waiting for the relay (not dispatched) or for a worker (dispatched).
    rows = await session.execute(
        select(  # type: ignore[call-overload]
            col(Delivery.consumer),
            func.count(),
            func.min(Delivery.created_at),
            func.count(col(Delivery.dispatched_at)),
            func.min(Delivery.dispatched_at),
        )
        .where(col(Delivery.done_at).is_(None))
        .group_by(Delivery.consumer)
    )
    oldest: datetime | None = None
    for consumer, pending, first_created, dispatched, first_dispatched in rows:
        figures.pending[consumer] = int(pending)
        figures.in_queue[consumer] = int(dispatched)
        figures.queue_lag_seconds[consumer] = _age(now, first_dispatched)
        if first_created is not None and (oldest is None or first_created < oldest):
            oldest = first_created
    figures.oldest_pending_seconds = _age(now, oldest)

    counted: Any = await session.execute(
        select(Document.kind, Document.status, func.count()).group_by(Document.kind, Document.status)
    )
    for kind, status, n in counted:
        figures.documents[(kind, status)] = int(n)
    seconds = col(Document.build_seconds)
    built = seconds.is_not(None)
    columns = [func.count(case((built & (seconds <= b), 1))) for b in BUILD_BUCKETS]
    summary: Any = (
        await session.execute(select(func.count(case((built, 1))), func.coalesce(func.sum(seconds), 0.0), *columns))
    ).one()
    figures.build_count, figures.build_sum = int(summary[0]), float(summary[1] or 0.0)
    figures.build_buckets = [(b, int(n)) for b, n in zip(BUILD_BUCKETS, summary[2:], strict=True)]
    return figures


class _Figures(Collector):
    def __init__(self, figures: DatabaseFigures) -> None:
        self.figures = figures

    def collect(self) -> Iterable[Metric]:
        f = self.figures
        backlog = GaugeMetricFamily(
            "ballotdesk_outbox_pending", "Deliveries not yet done, by consumer.", labels=["consumer"]
        )
        queued = GaugeMetricFamily(
            "ballotdesk_queue_messages", "Deliveries handed to the broker and not yet done.", labels=["consumer"]
        )
        lag = GaugeMetricFamily(
            "ballotdesk_queue_lag_seconds",
            "Age of the oldest delivery handed to the broker and not yet done.",
            labels=["consumer"],
        )
        for consumer, n in sorted(f.pending.items()):
            backlog.add_metric([consumer], n)
            queued.add_metric([consumer], f.in_queue.get(consumer, 0))
            lag.add_metric([consumer], f.queue_lag_seconds.get(consumer, 0.0))
        yield backlog
        yield GaugeMetricFamily(
            "ballotdesk_outbox_oldest_pending_seconds",
            "Age of the oldest delivery not yet done (0 when the outbox is empty).",
            value=f.oldest_pending_seconds,
        )
        yield queued
        yield lag
        documents = CounterMetricFamily(
            "ballotdesk_documents", "Documents (tables, reports) by kind and status.", labels=["kind", "status"]
        )
        for (kind, status), n in sorted(f.documents.items()):
            documents.add_metric([kind, status], n)
        yield documents
        cumulative = [(str(b), n) for b, n in f.build_buckets] + [("+Inf", f.build_count)]
        yield HistogramMetricFamily(
            "ballotdesk_document_build_seconds",
            "Time to build a document.",
            buckets=cumulative,
            sum_value=f.build_sum,
        )


def exposition(figures: DatabaseFigures | None) -> bytes:
    """The text format for /metrics: this server's counters plus the database's figures."""
    registry = CollectorRegistry()
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
    else:
        registry.register(_Own())
    if figures is not None:
        registry.register(_Figures(figures))
    return generate_latest(registry)


class _Own(Collector):
    """This process's metrics, when there is no multiprocess directory (tests, `serve`)."""

    def collect(self) -> Iterable[Metric]:
        yield from REQUEST_SECONDS.collect()
        yield from VOTES_CAST.collect()
