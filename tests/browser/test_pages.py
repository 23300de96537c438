"""Every role's pages in Chromium: a DIS ballot from the delegate's vote to the decision.

The browser is driven like a person: labels are found by their text, buttons by their names.
Screenshots of the main pages land in the run's temporary folder (see conftest.screenshot).
"""

from __future__ import annotations

import csv
import io
import re
from typing import Any

import openpyxl
from sqlmodel import select

from schemas.tables import Document
from services.platform.db import Database
from services.usecases import collation
from tests.browser.conftest import PASSWORD, Site, screenshot
from tests.docx_factory import comment_docx, row8

# The rendered form token; a test that posts by hand needs it like a browser does.
CSRF = re.compile(r'name="_csrf" value="([^"]+)"')


def sign_in(browser: Any, site: Site, who: str) -> Any:
    context = browser.new_context(viewport={"width": 1280, "height": 900}, accept_downloads=True)
    page = context.new_page()
    page.goto(site.url("/"))
    assert "/login" in page.url  # not signed in: sent to the sign-in page
    page.get_by_label("E-mail address").fill(site.emails[who])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(site.url("/"))
    return page


def build_documents(site: Site) -> int:
    """What the builder worker does in production: build every requested document."""

    async def build(db: Database) -> int:
        async with db.transaction() as s:
            ids = [d.id for d in (await s.execute(select(Document).where(Document.status == "requested"))).scalars()]
        for document_id in ids:
            assert document_id is not None
            await collation.build(db, document_id)
        return len(ids)

    return int(site.run(build))


def test_a_dis_ballot_through_every_role_in_the_browser(site: Site, browser: Any, tmp_path: Any) -> None:
    ballot = site.url(f"/ballots/{site.ballot_id}")

    # --- the German delegate ---------------------------------------------------------------
    de = sign_in(browser, site, "de")
    assert de.get_by_role("heading", name="Needs my action").is_visible()
    row = de.locator("tr", has_text="ISO/DIS 99001")
    assert "Not voted yet" in row.inner_text()
    screenshot(site, de, "01-delegate-dashboard")

    de.get_by_role("link", name="ISO/DIS 99001").click()
    assert de.get_by_role("heading", name="ISO/DIS 99001").is_visible()
    # Only the positions of a DIS ballot are offered.
    offered = de.locator("input[name=position]").evaluate_all("els => els.map(e => e.value)")
    assert offered == ["approve", "disapprove", "abstain"]
    screenshot(site, de, "02-ballot-vote-form")

    # A disapproval without technical reasons is stopped, with the message next to the field.
    de.get_by_label("Disapprove").check()
    de.get_by_role("button", name="Submit vote").click()
    assert "technical reasons" in de.locator("#reasons-error").inner_text()
    assert de.get_by_label("Disapprove").is_checked()  # what was chosen is kept
    assert de.locator("#reasons").get_attribute("aria-invalid") == "true"
    de.get_by_label("Technical reasons").fill("Clause 4 contradicts ISO 9001.")
    de.get_by_role("button", name="Submit vote").click()
    assert "DE's vote is recorded: Disapprove" in de.locator(".flash").inner_text()
    # Changing the vote: the history will tell it in words.
    de.get_by_label("Approve", exact=True).check()
    de.get_by_role("button", name="Change vote").click()
    assert "DE's vote is recorded: Approve" in de.locator(".flash").inner_text()

    # Comment rows: add two, one with markup that must stay text.
    de.locator("#rows-0-clause").fill("4.2")
    de.locator("#rows-0-type").select_option("te")
    de.locator("#rows-0-comment").fill("<script>document.title='owned'</script><b>bold</b> claim")
    de.locator("#rows-0-proposed_change").fill("Say what is meant.")
    de.locator("#rows-1-clause").fill("Annex A")
    de.locator("#rows-1-comment").fill("Informative annex uses 'shall'.")
    de.get_by_role("button", name="Save comments").click()
    assert "2 comments" in de.locator(".flash").inner_text()
    assert de.locator("#rows-0-comment").input_value().startswith("<script>")
    assert de.title() != "owned" and de.locator("script").count() == 0
    # Remove the second one.
    de.locator("#rows-1-remove").check()
    de.get_by_role("button", name="Save comments").click()
    assert "1 comment." in de.locator(".flash").inner_text()

    # Upload a template with problems: refused row by row, nothing written.
    bad = tmp_path / "bad.docx"
    bad.write_bytes(
        comment_docx(
            [
                row8("DE", "1", "1", "", "te", "Fine."),
                row8("FR", "2", "2", "", "te", "Someone else's row."),
                row8("DE", "3", "3", "", "xx", "Unknown type."),
                row8("DE", "4", "4", "", "ed", ""),
            ]
        )
    )
    de.get_by_label("ISO commenting template (.docx)").set_input_files(str(bad))
    de.get_by_role("button", name="Upload and check").click()
    assert de.get_by_role("heading", name="Nothing was imported").is_visible()
    report = de.locator("table.report tbody tr").all_inner_texts()
    assert len(report) >= 2 and "FR" in report[0]
    screenshot(site, de, "03-template-validation-report")
    good = tmp_path / "good.docx"
    good.write_bytes(
        comment_docx(
            [
                row8("DE-01", "12", "3.1", "", "te", "The term is undefined.", "Define it."),
                row8("DE-02", "40", "5", "Table 2", "ed", "Units missing.", "Add units."),
            ]
        )
    )
    # The report page takes the corrected file directly.
    de.get_by_label("Upload the corrected file (.docx)").set_input_files(str(good))
    de.get_by_role("button", name="Upload and check").click()
    assert "2 comments imported" in de.locator(".flash").inner_text()
    assert "The term is undefined." in de.locator("table.report").inner_text()

    # --- another body cannot see or change DE's vote while the ballot is open ---------------
    fr = sign_in(browser, site, "fr")
    fr.goto(ballot)
    content = fr.content()
    assert "Clause 4 contradicts" not in content and "The term is undefined" not in content
    assert fr.locator("#votes-title").count() == 0
    token = CSRF.search(content)
    assert token
    forged = fr.request.post(
        site.url(f"/ballots/{site.ballot_id}/vote"),
        form={"_csrf": token.group(1), "body": "DE", "position": "disapprove", "reasons": "Sabotage."},
    )
    assert forged.status == 403
    assert "not a delegate for DE" in forged.text()
    # A form without the token is refused outright.
    no_token = fr.request.post(site.url(f"/ballots/{site.ballot_id}/vote"), form={"body": "FR", "position": "approve"})
    assert no_token.status == 403 and "did not come from Ballotdesk" in no_token.text()

    # --- the deadline passes ---------------------------------------------------------------
    site.clock.advance(weeks=13)
    # A session ends twelve hours after sign-in at the latest: thirteen weeks on, DE signs in again.
    de.goto(ballot)
    assert "/login" in de.url
    de = sign_in(browser, site, "de")
    de.goto(ballot)
    assert "The deadline has passed" in de.locator(".notice").inner_text()
    assert de.locator("form[action$='/vote']").count() == 0

    # --- the convenor cannot close ----------------------------------------------------------
    convenor = sign_in(browser, site, "convenor")
    convenor.goto(ballot)
    assert convenor.get_by_role("button", name="Close the ballot now").count() == 0
    token = CSRF.search(convenor.content())
    assert token
    refused = convenor.request.post(site.url(f"/ballots/{site.ballot_id}/close"), form={"_csrf": token.group(1)})
    assert refused.status == 403 and "secretary" in refused.text()

    # --- the secretary closes and decides -------------------------------------------------
    secretary = sign_in(browser, site, "secretary")
    assert "Ballots in my committees" in secretary.content()
    secretary.goto(ballot)
    # After the deadline closing is routine: no confirmation step.
    secretary.get_by_role("button", name="Close and count the result").click()
    result = secretary.locator("#result").inner_text()
    assert "approved" in result and "3 × 3 = 9" in result  # DE, JP, GB approve of three P-members voting
    decisions = secretary.locator("input[name=decision]").evaluate_all("els => els.map(e => e.value)")
    assert "40.99" in decisions and "40.98" in decisions and "50.92" not in decisions
    secretary.get_by_role("button", name="Record the decision").click()
    assert secretary.locator("#decision_reason-error").is_visible()
    screenshot(site, secretary, "04-secretary-result-and-decision")
    secretary.locator("input[name=decision][value='40.99']").check()
    secretary.get_by_label("Reason", exact=True).fill("Approved; comments resolved at the Berlin meeting.")
    secretary.get_by_role("button", name="Record the decision").click()
    assert "decision is recorded" in secretary.locator(".flash").inner_text()
    secretary.goto(site.url(f"/projects/{site.project_id}"))
    assert "50.00" in secretary.locator(".meta").inner_text()

    # --- the convenor: comments, observations, downloads -----------------------------------
    convenor.goto(site.url(f"/ballots/{site.ballot_id}/comments"))
    assert convenor.locator("tbody tr").count() == 2
    convenor.get_by_label("Type").select_option("ed")
    convenor.get_by_role("button", name="Filter").click()
    assert convenor.locator("tbody tr").count() == 1
    convenor.get_by_label("Observation on DE-002").fill("Units added in the FDIS text.")
    convenor.get_by_label("Disposition of DE-002").select_option("accepted")
    convenor.get_by_role("button", name="Save DE-002").click()
    assert "observation on DE-002 is saved" in convenor.locator(".flash").inner_text()
    assert convenor.locator("tbody tr").count() == 1  # the filter is kept
    convenor.get_by_role("link", name="Clear").click()
    screenshot(site, convenor, "05-convenor-comments")

    with convenor.expect_download() as got:
        convenor.get_by_role("link", name="CSV").click()
    rows = list(csv.reader(io.StringIO(got.value.path().read_text(encoding="utf-8-sig"))))
    assert rows[0][0] == "MB/NC" and any("Units added" in cell for r in rows for cell in r)
    with convenor.expect_download() as got:
        convenor.get_by_role("link", name="Spreadsheet (.xlsx)").click()
    assert got.value.suggested_filename.endswith(".xlsx")
    sheet = openpyxl.load_workbook(io.BytesIO(got.value.path().read_bytes())).active
    assert sheet is not None and sheet.cell(row=1, column=1).value == "MB/NC"

    # The Word table is built by a worker: first a "being built" page, then the file.
    convenor.get_by_role("link", name="Compiled comment table (.docx)").click()
    assert convenor.get_by_role("heading", name="Preparing the document…").is_visible()
    assert build_documents(site) >= 1
    convenor.goto(site.url(f"/ballots/{site.ballot_id}/comments"))
    with convenor.expect_download() as got:
        convenor.get_by_role("link", name="Compiled comment table (.docx)").click()
    assert got.value.suggested_filename.endswith(".docx")

    # Observations filled into a table and uploaded.
    filled = tmp_path / "observations.docx"
    filled.write_bytes(
        comment_docx(
            [row8("DE-001", "12", "3.1", "", "te", "The term is undefined.", "Define it.", "Accepted. Defined in 3.4.")]
        )
    )
    convenor.get_by_text("Upload the table with observations filled in").click()
    convenor.get_by_label("Compiled comment table (.docx)").set_input_files(str(filled))
    convenor.get_by_role("button", name="Upload observations").click()
    assert "1 observation recorded" in convenor.locator(".flash").inner_text()
    assert "Defined in 3.4." in convenor.locator("#DE-001-observation").input_value()

    # --- everyone: the project's history in words -----------------------------------------
    de.goto(site.url(f"/projects/{site.project_id}/history"))
    story = de.locator("ol.history").inner_text()
    assert "DE changed its vote from disapprove to approve" in story
    assert re.search(r"Stage 40\.60 → 40\.99: .*, by Secretary Person", story)
    screenshot(site, de, "06-project-history")


def test_pages_send_security_headers_and_a_strict_session_cookie(site: Site, browser: Any) -> None:
    context = browser.new_context()
    page = context.new_page()
    response = page.goto(site.url("/login"))
    assert response is not None
    headers = response.headers
    assert "frame-ancestors 'none'" in headers["content-security-policy"]
    assert "script-src 'self'" in headers["content-security-policy"]
    assert headers["x-content-type-options"] == "nosniff"
    assert headers["referrer-policy"] == "same-origin"
    page.get_by_label("E-mail address").fill(site.emails["de"])
    page.get_by_label("Password").fill("wrong password")
    page.get_by_role("button", name="Sign in").click()
    assert "not right" in page.locator(".error-summary").inner_text()
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(site.url("/"))
    cookie = next(c for c in context.cookies() if c["name"] == "ballotdesk_session")
    assert cookie["httpOnly"] is True and cookie["sameSite"] == "Lax"
    # Signing out ends the session: the dashboard asks for a sign-in again.
    page.get_by_role("button", name="Sign out").click()
    page.goto(site.url("/"))
    assert "/login" in page.url
    context.close()


def test_a_person_manages_their_tokens_and_password_without_javascript(site: Site, browser: Any) -> None:
    context = browser.new_context(java_script_enabled=False)
    page = context.new_page()
    page.goto(site.url("/login"))
    page.get_by_label("E-mail address").fill(site.emails["fr"])
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Sign in").click()
    page.get_by_role("link", name="API tokens").click()
    assert page.get_by_role("heading", name="Your API tokens").is_visible()
    page.get_by_label("Label").fill("spreadsheet macro")
    page.get_by_label("Lifetime in days").fill("14")
    page.get_by_role("button", name="Create token").click()
    assert "shown only this once" in page.locator(".notice").inner_text()
    assert page.locator("code").inner_text().startswith("bd_")
    screenshot(site, page, "20-api-tokens")
    # Revoking asks first, on a page of its own.
    page.get_by_role("link", name="Revoke spreadsheet macro").click()
    assert page.get_by_role("heading", name="Revoke “spreadsheet macro”?").is_visible()
    page.get_by_role("button", name="Revoke token").click()
    assert "The token has been revoked." in page.locator(".flash").inner_text()
    assert "revoked" in page.locator("table.list").inner_text()

    page.get_by_role("link", name="Password").click()
    page.get_by_label("Current password").fill("not the password")
    page.get_by_label("New password", exact=True).fill("a new long password")
    page.get_by_label("New password again").fill("a new long password")
    page.get_by_role("button", name="Change password").click()
    assert "not your current password" in page.locator(".error-summary").inner_text()
    assert page.locator("#current_password").get_attribute("aria-invalid") == "true"
    context.close()
