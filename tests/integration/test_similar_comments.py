"""Similar comments from different bodies (issue #17 §3) through the API and on the convenor's
page, and one observation recorded for a whole group, on both databases."""

from __future__ import annotations

from typing import Any

from services.rules.similarity import THRESHOLD
from tests.integration.test_web_pages import committee, sign_in, token
from tests.world import ADMIN, World, ok

SCOPE = "The scope excludes small and medium-sized enterprises without reason."
SCOPE_CHANGE = "Delete the sentence 'This document does not apply to SMEs' from the scope."


async def _comment(w: World, ballot_id: int, code: str, rows: list[dict[str, str]]) -> None:
    await ok(
        await w.client.put(
            f"/api/v1/ballots/{ballot_id}/comments/{code}", json={"comments": rows}, headers=w.headers[code]
        ),
        201,
    )


async def _ballot_with_similar_comments(w: World) -> int:
    ballot_id = await w.ballot("CD")
    scope = {"clause": "1", "type": "te", "comment": SCOPE, "proposed_change": SCOPE_CHANGE}
    await _comment(
        w,
        ballot_id,
        "DE",
        [scope, {"clause": "7.2", "type": "ed", "comment": "Figure 4 is not cited.", "proposed_change": "Cite it."}],
    )
    await _comment(
        w,
        ballot_id,
        "FR",
        [
            {"clause": "3.4", "type": "ed", "comment": "The note to entry repeats the definition."},
            {**scope, "comment": "The scope excludes small and medium sized enterprises without any reason."},
        ],
    )
    await _comment(w, ballot_id, "JP", [{"clause": "1", "type": "ge", "comment": "The scope should cover labs too."}])
    return ballot_id


async def _observation_events(client: Any, ballot_id: int) -> list[dict[str, Any]]:
    page = await ok(await client.get(f"/api/v1/events?aggregate=ballot:{ballot_id}&limit=1000", headers=ADMIN))
    return [e for e in page["items"] if e["type"] == "comment.observation_recorded"]


async def test_officers_get_the_groups_a_delegate_is_refused_until_close(client: Any, clock: Any) -> None:
    w = await World(client, clock).build(p=["DE", "FR", "JP"], stage="30.00")
    ballot_id = await _ballot_with_similar_comments(w)
    url = f"/api/v1/ballots/{ballot_id}/comments/similar"
    for who in (w.headers["secretary"], w.headers["convenor"], ADMIN):
        found = await ok(await client.get(url, headers=who))
        assert [(g["references"], g["clause"]) for g in found["groups"]] == [(["DE-001", "FR-002"], "1")]
        assert THRESHOLD <= found["groups"][0]["score"] <= 1
    refused = await client.get(url, headers=w.headers["DE"])
    assert refused.status_code == 403 and refused.headers["content-type"].startswith("application/problem+json")
    for code in ("DE", "FR", "JP"):
        await w.vote(ballot_id, code, "approve", 201)
    await w.close(ballot_id)
    # After close the committee's members read every comment, so they see the groups too.
    assert (await ok(await client.get(url, headers=w.headers["JP"])))["groups"][0]["references"] == ["DE-001", "FR-002"]


async def test_one_observation_for_a_group_records_one_event_per_comment(client: Any, clock: Any) -> None:
    w = await World(client, clock).build(p=["DE", "FR", "JP"], stage="30.00")
    ballot_id = await _ballot_with_similar_comments(w)
    url = f"/api/v1/ballots/{ballot_id}/observations"
    body = {"references": ["DE-001", "FR-002"], "observation": "SMEs are in the scope now.", "disposition": "accepted"}
    saved = await ok(await client.put(url, json=body, headers=w.headers["convenor"]))
    assert [(c["reference"], c["observation"], c["disposition"]) for c in saved] == [
        ("DE-001", "SMEs are in the scope now.", "accepted"),
        ("FR-002", "SMEs are in the scope now.", "accepted"),
    ]
    events = await _observation_events(client, ballot_id)
    assert sorted(e["payload"]["reference"] for e in events) == ["DE-001", "FR-002"]
    assert {e["actor"] for e in events} == {events[0]["actor"]} and len(events) == 2

    for bad in (
        {**body, "references": [5]},
        {**body, "references": ["DE-001\nFR-002"]},
        {**body, "references": ["DE-001"] * 501},
    ):
        assert (await client.put(url, json=bad, headers=w.headers["convenor"])).status_code == 400
    # One unknown reference, or one named twice: nothing is written.
    for wrong, status in ((["FR-001", "DE-999"], 404), (["FR-001", "FR-001"], 422), ([], 400)):
        response = await client.put(
            url, json={**body, "references": wrong, "observation": "No."}, headers=w.headers["convenor"]
        )
        assert response.status_code == status, response.text
    assert len(await _observation_events(client, ballot_id)) == 2
    listed = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/comments", headers=w.headers["convenor"]))
    assert {c["reference"]: c["observation"] for c in listed}["FR-001"] == ""
    assert (await client.put(url, json=body, headers=w.headers["DE"])).status_code == 403


async def test_the_convenor_records_a_groups_observation_from_the_comments_page(client: Any, clock: Any) -> None:
    w, emails = await committee(client, clock)
    ballot_id = await _ballot_with_similar_comments(w)
    await sign_in(client, emails["convenor"])
    page = await client.get(f"/ballots/{ballot_id}/comments")
    assert 'id="similar-title"' in page.text and "applies to 2 comments: DE-001, FR-002" in page.text
    form = {
        "group": "g1",
        "references": ["DE-001", "FR-002"],
        "observation": "SMEs are in the scope now.",
        "disposition": "accepted",
        "_csrf": token(page.text),
    }
    done = await client.post(f"/ballots/{ballot_id}/observations/group", data=form, follow_redirects=False)
    assert done.status_code in (302, 303), done.text
    assert len(await _observation_events(client, ballot_id)) == 2
    listed = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/comments", headers=w.headers["convenor"]))
    assert {c["reference"]: c["disposition"] for c in listed} == {
        "DE-001": "accepted",
        "FR-002": "accepted",
        "DE-002": None,
        "FR-001": None,
        "JP-001": None,
    }
    # A disposition that is not offered is shown in words beside the field; nothing is saved.
    again = await client.get(f"/ballots/{ballot_id}/comments")
    wrong = {**form, "disposition": "maybe", "_csrf": token(again.text)}
    shown = await client.post(f"/ballots/{ballot_id}/observations/group", data=wrong, follow_redirects=False)
    assert shown.status_code == 422 and "Choose one of the dispositions offered." in shown.text
    assert 'id="g1-disposition-error"' in shown.text
    assert len(await _observation_events(client, ballot_id)) == 2
    # A form without its comments (a tampered page) is refused in words, not with a 500.
    tampered = {k: v for k, v in form.items() if k != "references"} | {"_csrf": token(again.text)}
    shown = await client.post(f"/ballots/{ballot_id}/observations/group", data=tampered, follow_redirects=False)
    assert shown.status_code in (400, 422) and 'id="g1-observation-error"' in shown.text
    assert len(await _observation_events(client, ballot_id)) == 2
    # A delegate of an open ballot sees no groups on the page.
    await sign_in(client, emails["DE"])
    assert 'id="similar-title"' not in (await client.get(f"/ballots/{ballot_id}/comments")).text


async def test_a_comment_repeated_at_dis_carries_its_cd_disposition_and_a_new_one_none(client: Any, clock: Any) -> None:
    w, emails = await committee(client, clock)
    cd = await w.ballot("CD")
    await _comment(
        w,
        cd,
        "DE",
        [
            {
                "clause": "5.2",
                "type": "te",
                "comment": "The coverage factor for the expanded uncertainty is not given.",
                "proposed_change": "Add: the expanded uncertainty shall be stated with k = 2.",
            },
        ],
    )
    await _comment(w, cd, "FR", [{"clause": "5.2", "type": "te", "comment": "The coverage factor k is not given."}])
    for code in ("DE", "FR", "JP"):
        await w.vote(cd, code, "approve", 201)
    await w.close(cd)
    answer = {"observation": "k = 2 is in Annex B.", "disposition": "rejected"}
    await ok(await client.put(f"/api/v1/ballots/{cd}/observations/DE-001", json=answer, headers=w.headers["convenor"]))

    decision = {"decision": "30.99", "reason": "Consensus on the CD; the DIS follows."}
    await ok(
        await client.post(f"/api/v1/projects/{w.project_id}/decisions", json=decision, headers=w.headers["secretary"]),
        201,
    )
    dis = await w.ballot("DIS")
    await _comment(
        w,
        dis,
        "DE",
        [
            {"clause": "3.4", "type": "ed", "comment": "The note to entry repeats the definition."},
            {
                "clause": "5.2",
                "type": "te",
                "comment": "The coverage factor of the expanded uncertainty is still not given.",
                "proposed_change": "State that the expanded uncertainty uses k = 2.",
            },
        ],
    )
    listed = await ok(await client.get(f"/api/v1/ballots/{dis}/comments", headers=w.headers["DE"]))
    by_reference = {c["reference"]: c["earlier"] for c in listed}
    assert by_reference == {
        "DE-001": [],
        "DE-002": [
            {
                "ballot_id": cd,
                "ballot_type": "CD",
                "reference": "DE-001",
                "observation": "k = 2 is in Annex B.",
                "disposition": "rejected",
            }
        ],
    }
    # FR said much the same at CD, but only a body's own earlier comments count.
    repeated = await ok(
        await client.get(f"/api/v1/ballots/{dis}/comments?repeated=true", headers=w.headers["secretary"])
    )
    assert [c["reference"] for c in repeated] == ["DE-002"] and len(repeated[0]["earlier"]) == 1

    await sign_in(client, emails["DE"])
    page = await client.get(f"/ballots/{dis}/comments")
    assert "DE raised this at CD (DE-001): rejected — k = 2 is in Annex B." in page.text
    only = await client.get(f"/ballots/{dis}/comments?repeated=true")
    assert 'id="c-DE-002"' in only.text and 'id="c-DE-001"' not in only.text

    project = await ok(await client.get(f"/api/v1/projects/{w.project_id}/comments", headers=w.headers["secretary"]))
    assert [(p["ballot_type"], p["comment"]["reference"], p["comment"]["disposition"]) for p in project] == [
        ("CD", "DE-001", "rejected"),
        ("CD", "FR-001", None),
        ("DIS", "DE-001", None),
        ("DIS", "DE-002", None),
    ]
    # FR's delegate reads the closed CD whole, but of the open DIS only FR's own (none).
    seen = await ok(await client.get(f"/api/v1/projects/{w.project_id}/comments", headers=w.headers["FR"]))
    assert [(p["ballot_type"], p["comment"]["reference"]) for p in seen] == [("CD", "DE-001"), ("CD", "FR-001")]
