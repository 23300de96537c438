"""Memberships with history, the eligibility snapshot, comment sets and observations."""

from __future__ import annotations

from tests.world import ADMIN, World, ok


async def test_membership_changes_keep_history_and_do_not_touch_an_open_ballots_snapshot(client, clock) -> None:
    w = await World(client, clock).build(p=["DE", "FR"], o=["SE"], stage="30.00")
    sec = w.headers["secretary"]
    ballot_id = await w.ballot("CD", weeks=8)
    clock.advance(days=1)
    committee = await ok(
        await client.put(f"/api/v1/committees/{w.committee_id}/members/SE", json={"status": "P"}, headers=sec)
    )
    assert {m["code"]: m["status"] for m in committee["members"]} == {"DE": "P", "FR": "P", "SE": "P"}
    ended = await ok(await client.delete(f"/api/v1/committees/{w.committee_id}/members/FR", headers=sec))
    assert [m["code"] for m in ended["members"]] == ["DE", "SE"]

    # The snapshot taken at opening still decides: SE is an O-member of this ballot, FR a P-member.
    eligibility = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/eligibility", headers=ADMIN))
    by_party = {e["party"]: e for e in eligibility}
    assert by_party["SE"]["may_vote"] is False and by_party["SE"]["may_comment"] is True
    assert by_party["FR"]["may_vote"] is True
    assert (await w.vote(ballot_id, "SE", "approve")).status_code == 403
    await w.vote(ballot_id, "FR", "approve", 201)

    log = await ok(
        await client.get(f"/api/v1/events?type=membership.changed&aggregate=committee:{w.committee_id}", headers=ADMIN)
    )
    changes = [(e["payload"]["body"], e["payload"]["previous_status"], e["payload"]["status"]) for e in log["items"]]
    assert changes[-2:] == [("SE", "O", "P"), ("FR", "P", None)]


async def test_liaisons_are_added_changed_and_ended_and_comment_on_committee_ballots(client, clock) -> None:
    w = await World(client, clock).build(p=["DE"], stage="30.00")
    sec = w.headers["secretary"]
    added = await ok(
        await client.post(
            f"/api/v1/committees/{w.committee_id}/liaisons",
            json={"code": "CEN/TC 465", "category": "A", "name": "Smart cities"},
            headers=sec,
        )
    )
    assert added["liaisons"][0]["code"] == "CEN/TC 465"
    ballot_id = await w.ballot("CD", weeks=8)
    eligibility = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/eligibility", headers=ADMIN))
    liaison = next(e for e in eligibility if e["party"] == "CEN/TC 465")
    assert liaison == {
        "party": "CEN/TC 465",
        "kind": "liaison",
        "is_p_member": False,
        "may_vote": False,
        "may_comment": True,
    }
    ended = await ok(await client.delete(f"/api/v1/committees/{w.committee_id}/liaisons?code=CEN/TC 465", headers=sec))
    assert ended["liaisons"] == []


async def test_replacing_a_comment_set_renumbers_it_and_keeps_the_old_one_on_record(client, clock) -> None:
    w = await World(client, clock).build(p=["DE", "FR"])
    ballot_id = await w.ballot("DIS")
    url = f"/api/v1/ballots/{ballot_id}/comments/DE"
    first = [{"clause": "5", "type": "te", "comment": "One."}, {"clause": "2", "type": "ed", "comment": "Two."}]
    await ok(await client.put(url, json={"comments": first}, headers=w.headers["DE"]), 201)
    second = [{"clause": "Annex A", "type": "ed", "comment": "Three."}, *first]
    replaced = await ok(await client.put(url, json={"comments": second}, headers=w.headers["DE"]))
    assert replaced["set_version"] == 2
    # The same set again (a retry, a double click) is no new version and no event.
    again = await ok(await client.put(url, json={"comments": second}, headers=w.headers["DE"]), 200)
    assert again["set_version"] == 2 and again["comments"] == replaced["comments"]
    assert [(c["reference"], c["comment"]) for c in replaced["comments"]] == [
        ("DE-001", "Three."),
        ("DE-002", "One."),
        ("DE-003", "Two."),
    ]
    await ok(
        await client.put(
            f"/api/v1/ballots/{ballot_id}/comments/FR",
            json={
                "comments": [
                    {"clause": "General", "type": "ge", "comment": "Fine."},
                    {"clause": "5", "line": "7", "comment": "Hm."},
                ]
            },
            headers=w.headers["FR"],
        ),
        201,
    )
    by_clause = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/comments", headers=w.headers["convenor"]))
    assert [c["reference"] for c in by_clause] == ["FR-001", "DE-003", "FR-002", "DE-002", "DE-001"]
    by_member = await ok(
        await client.get(f"/api/v1/ballots/{ballot_id}/comments?order=member", headers=w.headers["convenor"])
    )
    assert [c["reference"] for c in by_member] == ["DE-001", "DE-002", "DE-003", "FR-001", "FR-002"]
    log = await ok(await client.get(f"/api/v1/events?aggregate=ballot:{ballot_id}", headers=ADMIN))
    assert [e["payload"]["set_version"] for e in log["items"] if e["type"].startswith("comments.")] == [1, 2, 1]
    replaced_event = next(e for e in log["items"] if e["type"] == "comments.replaced")
    assert replaced_event["payload"]["previous_count"] == 2 and replaced_event["payload"]["count"] == 3


async def test_the_convenor_records_observations_after_close_and_comment_text_is_frozen(client, clock) -> None:
    w = await World(client, clock).build(p=["DE"])
    ballot_id = await w.ballot("DIS")
    await ok(
        await client.put(
            f"/api/v1/ballots/{ballot_id}/comments/DE",
            json={"comments": [{"clause": "4", "type": "te", "comment": "Add a figure."}]},
            headers=w.headers["DE"],
        ),
        201,
    )
    await w.vote(ballot_id, "DE", "approve", 201)
    await w.close(ballot_id)
    late = await client.put(f"/api/v1/ballots/{ballot_id}/comments/DE", json={"comments": []}, headers=w.headers["DE"])
    assert late.status_code == 409
    observed = await ok(
        await client.put(
            f"/api/v1/ballots/{ballot_id}/observations/DE-001",
            json={"observation": "Accepted. Figure 3 added.", "disposition": "accepted"},
            headers=w.headers["convenor"],
        )
    )
    assert observed["disposition"] == "accepted" and observed["comment"] == "Add a figure."
    listed = await ok(await client.get(f"/api/v1/ballots/{ballot_id}/comments", headers=w.headers["DE"]))
    assert listed[0]["observation"] == "Accepted. Figure 3 added."
    missing = await client.put(
        f"/api/v1/ballots/{ballot_id}/observations/DE-999", json={"observation": "x"}, headers=w.headers["convenor"]
    )
    assert missing.status_code == 404
