"""Issue #13 in Chromium: the accidental early close that does not happen, the confirmation
pages, the ledger after an early close, the offered ballot types and the stage decision.

Each page is checked for sideways scrolling at 320 CSS px (WCAG 1.4.10) and, when axe-core is
at hand (BALLOTDESK_TEST_AXE, the path of axe.min.js), for serious or critical violations.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from tests.browser.conftest import Site, screenshot
from tests.browser.test_pages import sign_in

AXE = Path(os.environ.get("BALLOTDESK_TEST_AXE", "/tmp/axe-pages/node_modules/axe-core/axe.min.js"))


# The elements that stick out (their own container does not scroll), named for the message.
_WIDE = """() => [...document.querySelectorAll('body *')]
  .filter(e => e.getBoundingClientRect().right > innerWidth + 1 && !e.closest('.scroll'))
  .slice(-5).map(e => e.tagName + '.' + e.className + ': ' + (e.textContent || '').trim().slice(0, 40))"""


def _reflows(site: Site, page: Any, name: str) -> None:
    """The page as shown (a form's answer too), narrowed to 320 px and back."""
    page.set_viewport_size({"width": 320, "height": 640})
    try:
        screenshot(site, page, f"{name}-320")
        width = page.evaluate("document.documentElement.scrollWidth")
        wide = page.evaluate(_WIDE) if width > 320 else []
        assert width <= 320, f"{page.url} is {width} px wide at 320 px: {wide}"
    finally:
        page.set_viewport_size({"width": 1280, "height": 900})


def _axe_clean(page: Any) -> None:
    if not AXE.exists():
        return
    # Evaluated through the driver, not as a <script>: the pages' CSP allows none, rightly.
    page.evaluate("source => { (0, eval)(source); }", AXE.read_text(encoding="utf-8"))
    assert page.evaluate("typeof axe.run") == "function"
    found = page.evaluate("async () => (await axe.run()).violations.map(v => [v.id, v.impact])")
    bad = [v for v in found if v[1] in ("serious", "critical")]
    assert bad == [], f"{page.url}: {bad}"


def _check(browser: Any, site: Site, page: Any, name: str) -> None:
    screenshot(site, page, name)
    _reflows(site, page, name)
    _axe_clean(page)


def test_an_early_close_is_asked_for_and_counts_against_nobody_in_the_ledger(site: Site, browser: Any) -> None:
    ballot = site.url(f"/ballots/{site.ballot_id}")
    secretary = sign_in(browser, site, "secretary")
    secretary.goto(ballot)
    controls = secretary.locator("#controls")
    assert controls.get_by_role("button").first.inner_text() == "Change the deadline"
    secretary.get_by_role("button", name="Close early…").click()
    assert secretary.get_by_role("heading", name="Close ISO/DIS 99001 before its deadline?").is_visible()
    facts = secretary.locator("ul.facts").inner_text()
    assert "4 P-members, 2 have voted; closing now ends voting for 2 (DE, FR)." in facts
    assert "Of the 5 member bodies that may vote, 2 have voted." in facts
    _check(browser, site, secretary, "07-confirm-early-close")
    secretary.get_by_role("link", name="No, keep the ballot open").click()
    assert secretary.url == ballot and "Open" in secretary.locator(".meta").inner_text()

    secretary.get_by_role("button", name="Close early…").click()
    secretary.get_by_role("button", name="Close the ballot now").click()
    assert "closed and its result counted" in secretary.locator(".flash").inner_text()

    # The ledger: closed early, counted against neither DE nor FR.
    secretary.goto(site.url(f"/committees/{site.committee_id}/participation"))
    assert "closed early" in secretary.locator("#ledger-title + .scroll").inner_text()
    assert "No P-member meets the rule at present." in secretary.content()
    _check(browser, site, secretary, "08-ledger-after-early-close")

    # Taking DE's vote away asks first, with a reason.
    secretary.goto(site.url(f"/committees/{site.committee_id}"))
    secretary.locator("tr", has_text="DE").get_by_role("button", name="Make O-member").click()
    assert secretary.get_by_role("heading", name="Change DE from P-member to O-member?").is_visible()
    secretary.get_by_role("button", name="Change DE to O-member").click()
    assert "Give the reason" in secretary.locator("#member_reason-error").inner_text()
    _check(browser, site, secretary, "09-confirm-membership-change")
    secretary.get_by_label("Reason").fill("DE asked to observe this committee's work.")
    secretary.get_by_role("button", name="Change DE to O-member").click()
    assert "DE is now O-member." in secretary.locator(".flash").inner_text()


def test_the_new_ballot_form_and_the_stage_decision_on_the_project_page(site: Site, browser: Any) -> None:
    secretary = sign_in(browser, site, "secretary")
    secretary.goto(site.url(f"/ballots/{site.ballot_id}"))
    secretary.get_by_role("button", name="Cancel the ballot…").click()
    assert "cancelling ends voting for 2 (DE, FR)" in secretary.locator("ul.facts").inner_text()
    secretary.get_by_label("Reason for cancelling").fill("Wrong draft circulated.")
    _check(browser, site, secretary, "10-confirm-cancel")
    secretary.get_by_role("button", name="Cancel the ballot").click()
    assert "The ballot is cancelled." in secretary.locator(".flash").inner_text()

    secretary.goto(site.url(f"/projects/{site.project_id}"))
    offered = secretary.locator("select#type option").evaluate_all("els => els.map(e => e.value)")
    assert "DIS" in offered and "FDIS" not in offered and "CD" not in offered
    secretary.get_by_text("Why other ballot types are not offered").click()
    assert (
        "A FDIS ballot cannot open while the project is at stage 40.00"
        in secretary.locator("#absent-types").inner_text()
    )
    secretary.get_by_label("40.98 — Project deleted").check()
    secretary.get_by_role("button", name="Record the stage decision").click()
    assert "Give the reason" in secretary.locator("#stage_reason-error").inner_text()
    _check(browser, site, secretary, "11-project-page-forms")
