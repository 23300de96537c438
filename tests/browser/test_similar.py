"""The convenor's groups of similar comments and one observation for a group, in Chromium."""

from __future__ import annotations

from typing import Any

from services.platform.db import Database
from services.rules.actors import ENV_ADMIN
from services.usecases import comments
from tests.browser.conftest import Site, screenshot
from tests.browser.test_pages import sign_in

SCOPE = "The scope excludes small and medium-sized enterprises without reason."
CHANGE = "Delete the sentence 'This document does not apply to SMEs' from the scope."


def _comment(site: Site) -> None:
    rows = {
        "DE": [comments.NewComment(clause="1", type="te", comment=SCOPE, proposed_change=CHANGE)],
        "FR": [
            comments.NewComment(clause="3.4", type="ed", comment="The note to entry repeats the definition."),
            comments.NewComment(
                clause="1", type="te", comment=SCOPE.replace("medium-sized", "medium sized"), proposed_change=CHANGE
            ),
        ],
        "JP": [comments.NewComment(clause="1", type="ge", comment="The scope should cover laboratories too.")],
    }

    async def write(db: Database) -> None:
        async with db.transaction() as s:
            for code, new in rows.items():
                await comments.replace_comments(s, ENV_ADMIN, site.ballot_id, code, new, site.clock.now)

    site.run(write)


def test_the_convenor_answers_a_group_of_similar_comments_at_once(site: Site, browser: Any) -> None:
    _comment(site)
    convenor = sign_in(browser, site, "convenor")
    convenor.goto(site.url(f"/ballots/{site.ballot_id}/comments"))
    assert convenor.get_by_role("heading", name="Similar comments from different bodies").is_visible()
    assert "applies to 2 comments: DE-001, FR-002" in convenor.locator(".similar-group").inner_text()
    convenor.get_by_label("Observation for DE-001, FR-002").fill("SMEs are in the scope now.")
    convenor.get_by_label("Disposition for DE-001, FR-002").select_option("accepted")
    screenshot(site, convenor, "07-convenor-similar-comments")
    convenor.get_by_role("button", name="Save for these 2 comments").click()
    assert "saved on 2 comments: DE-001, FR-002" in convenor.locator(".flash").inner_text()
    for reference in ("DE-001", "FR-002"):
        assert convenor.locator(f"#{reference}-observation").input_value() == "SMEs are in the scope now."
        assert convenor.locator(f"#{reference}-disposition").input_value() == "accepted"
    assert convenor.locator("#FR-001-observation").input_value() == ""

    # A delegate of the open ballot reads only its own comments, so no groups.
    de = sign_in(browser, site, "de")
    de.goto(site.url(f"/ballots/{site.ballot_id}/comments"))
    assert de.locator("#similar-title").count() == 0
