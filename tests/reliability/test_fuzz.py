"""Bad input at scale (issue 7, item 4): schemathesis against the app's own OpenAPI document.

Every operation of /schema/openapi.json gets generated requests, valid (positive) and invalid
(negative), sent in-process (ASGI) with real tokens of an administrator, a secretary and a
delegate, on SQLite and on PostgreSQL. Path identifiers are often swapped for ones that exist
(a real ballot, project, committee, body, comment reference), so the requests reach the use
cases rather than stopping at "not found". Every response must be a non-5xx whose status, media
type and body match the document. The short form (CI) sends about 700 requests per database; the
long form (BALLOTDESK_RELIABILITY_SCALE=long) about 9,000.
"""

from __future__ import annotations

import asyncio
import collections
import warnings
from dataclasses import dataclass, field
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, given
from hypothesis import settings as run_settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.python import asgi
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from services.platform.settings import Settings
from tests.conftest import ADMIN_TOKEN
from tests.reliability.conftest import Figures, scaled
from tests.world import ADMIN, World, ok

CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance]
MODES = (schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE)


@pytest.fixture
def settings(database_url: str, tmp_path: Any) -> Settings:
    return Settings(database_url=database_url, admin_token=ADMIN_TOKEN, signing_key_path=str(tmp_path / "key.pem"))


@dataclass
class Known:
    """Identifiers that exist, for the generated requests to hit now and then."""

    tokens: dict[str, dict[str, str]]
    ids: dict[str, list[Any]]


@dataclass
class Tally:
    cases: int = 0
    statuses: collections.Counter[int] = field(default_factory=collections.Counter)
    failures: list[str] = field(default_factory=list)
    by_operation: collections.Counter[str] = field(default_factory=collections.Counter)

    @property
    def server_errors(self) -> int:
        return sum(n for status, n in self.statuses.items() if status >= 500)

    @property
    def refusals(self) -> int:
        return sum(n for status, n in self.statuses.items() if 400 <= status < 500)


async def build_world(client: Any, clock: Any) -> Known:
    """A committee with an open DIS (votes, comments), a closed one, a draft, and spare tokens."""
    w = await World(client, clock).build(p=["DE", "FR", "JP"], o=["SE"], others=["BR"])
    closed_id = await w.ballot("DIS")
    await w.vote(closed_id, "JP", "approve", 201)
    await w.close(closed_id)
    # One DIS at a time per project: the open one is on a second project.
    second = {
        "committee_id": w.committee_id,
        "reference": "ISO 99002",
        "title": "Second project",
        "deliverable": "IS",
        "stage": "40.00",
    }
    w.project_id = (await ok(await client.post("/api/v1/projects", json=second, headers=w.headers["secretary"]), 201))[
        "id"
    ]
    open_id = await w.ballot("DIS")
    for code, position in [("DE", "approve"), ("FR", "disapprove")]:
        await w.vote(open_id, code, position, 201, reasons="Clause 4." if position == "disapprove" else None)
        rows = {"comments": [{"clause": "4.1", "type": "te", "comment": f"{code}: clarify 4.1."}]}
        await ok(
            await client.put(f"/api/v1/ballots/{open_id}/comments/{code}", json=rows, headers=w.headers[code]), 201
        )
    draft_id = await w.ballot("DIS", open=False)
    await ok(
        await client.post(
            f"/api/v1/committees/{w.committee_id}/liaisons", json={"code": "CEN/TC 1", "category": "A"}, headers=ADMIN
        )
    )
    me = await ok(await client.get("/api/v1/me", headers=w.headers["BR"]))
    spare = [
        (await ok(await client.post(f"/api/v1/users/{me['id']}/tokens", json={}, headers=ADMIN), 201))["id"]
        for _ in range(3)
    ]
    return Known(
        tokens={"admin": ADMIN, "secretary": w.headers["secretary"], "delegate": w.headers["DE"]},
        ids={
            "ballot_id": [open_id, closed_id, draft_id],
            "project_id": [w.project_id, w.project_id - 1],
            "committee_id": [w.committee_id],
            "user_id": [me["id"]],
            "token_id": spare,
            "code": ["DE", "FR", "JP", "SE", "BR"],
            "reference": ["DE-001", "FR-001"],
        },
    )


def fuzz(app: Any, known: Known, per_operation: int) -> Tally:
    """Run every operation in both modes; collects failures instead of stopping at the first."""
    schema = schemathesis.openapi.from_asgi("/schema/openapi.json", app)
    tally = Tally()
    try:
        for result in schema.get_all_operations():
            operation = result.ok()  # type: ignore[union-attr]  # an invalid operation fails here, loudly
            for mode in MODES:
                _fuzz_operation(operation, mode, known, per_operation, tally)
    finally:
        asgi.shutdown_lifespans()  # closes the engine the app opened on schemathesis's loop
    return tally


def _fuzz_operation(operation: Any, mode: Any, known: Known, examples: int, tally: Tally) -> None:
    path_names = [p.name for p in operation.path_parameters]

    @run_settings(
        max_examples=examples,
        phases=[Phase.generate],
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=operation.as_strategy(generation_mode=mode), data=st.data())
    def run(case: Any, data: st.DataObject) -> None:
        role = data.draw(st.sampled_from(sorted(known.tokens)))
        for name in path_names:
            if name in known.ids and data.draw(st.integers(0, 3)) > 0:
                case.path_parameters[name] = data.draw(st.sampled_from(known.ids[name]))
        # Mostly a real token; now and then whatever was generated (no header, or a broken one).
        if data.draw(st.integers(0, 9)) > 0:
            case.headers = {**(case.headers or {}), **known.tokens[role]}
        else:
            role = "generated credentials"
        headers = dict(case.headers or {})
        label = f"{case.method} {case.formatted_path} as {role} ({mode.value})"
        try:
            response = case.call()
        except Exception as exc:  # the app raised through the transport: a server error
            tally.cases += 1
            tally.statuses[599] += 1
            tally.failures.append(f"{label}: {exc!r}")
            return
        tally.cases += 1
        tally.by_operation[operation.label] += 1
        tally.statuses[response.status_code] += 1
        try:
            case.validate_response(response, checks=CHECKS, headers=headers)
        except (Exception, BaseExceptionGroup) as exc:  # schemathesis's FailureGroup is a BaseExceptionGroup
            if len(tally.failures) < 200:
                tally.failures.append(f"{label} -> {response.status_code}: {str(exc)[:1500]}")

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        run()


async def test_generated_requests_get_no_server_error_and_match_the_document(
    client: Any, clock: Any, database_url: str, figures: Figures
) -> None:
    known = await build_world(client, clock)
    per_operation = scaled(8, 100)
    tally = await asyncio.to_thread(fuzz, client.app, known, per_operation)
    dialect = "postgresql" if database_url.startswith("postgresql") else "sqlite"
    figures.add(
        f"schemathesis, OpenAPI document ({dialect})",
        cases=tally.cases,
        errors=tally.server_errors,
        refusals=tally.refusals,
        operations=len(tally.by_operation),
        mismatches=len(tally.failures),
        **{"2xx": sum(n for s, n in tally.statuses.items() if s < 300)},
    )
    assert tally.cases >= 40 * per_operation, f"only {tally.cases} cases were sent"
    assert tally.failures == [], f"{len(tally.failures)} failures:\n\n" + "\n\n".join(tally.failures[:15])
