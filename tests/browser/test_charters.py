"""A staff member drafts a charter, submits it and reads it back, in a real browser."""

import pytest

from tests.base import make_body
from tests.browser.login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_staff_member_drafts_submits_and_views_a_charter(live_server, page):
    make_body()
    log_in(page, live_server.url, "sam")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Charters").click()
    page.get_by_role("link", name="Draft a charter").click()

    # A first try without the licence terms that privately retained IP needs.
    page.get_by_label("Title").fill("Federated triage model")
    page.get_by_label("Summary").fill("A triage model trained across hospitals without moving records.")
    page.get_by_label("Objectives").fill("Cut emergency waiting times by a fifth.")
    page.get_by_label("National impact statement").fill("Faster care in every region.")
    page.get_by_label("Helios Compute").check()
    page.get_by_label("Private, licensed to government").check()
    page.get_by_label("Data classification").select_option("sensitive")
    page.get_by_label("Allowed jurisdictions").fill("EU")
    page.get_by_role("button", name="Save draft").click()
    assert page.get_by_role("alert").is_visible()
    assert page.get_by_text("Privately retained IP needs the licence terms").is_visible()

    page.get_by_label("Joint IP pool").check()
    page.get_by_role("button", name="Save draft").click()
    assert page.get_by_role("heading", name="Federated triage model", level=1).is_visible()
    assert page.get_by_text("Draft saved.").is_visible()
    assert page.locator(".badge").first.inner_text() == "Draft"

    page.get_by_role("button", name="Submit").click()
    assert page.get_by_text("Submit: the charter is now submitted.").is_visible()
    assert page.locator(".badge").first.inner_text() == "Submitted"
    versions = page.get_by_role("region", name="Versions")
    assert versions.get_by_role("link", name="Version 1").is_visible()
    parties = page.get_by_role("region", name="Parties by sector")
    assert parties.get_by_text("National Research Council (lead)").is_visible()
    assert parties.get_by_text("Helios Compute").is_visible()

    # The submitted charter is now part of the record: it is on the list for everyone.
    page.get_by_role("link", name="Charters", exact=True).first.click()
    row = page.get_by_role("row", name="Federated triage model")
    assert row.get_by_text("Submitted").is_visible()


def test_both_co_chairs_suspend_a_charter_from_its_page(live_server, page):
    """One co-chair's request waits, visibly, for the other sector's; each confirms first."""
    from pathlib import Path

    from charters.choices import CharterStatus
    from charters.models import Charter
    from tests.browser.axe import assert_accessible
    from tests.compute.credits import make_charter

    body = make_body()
    charter = make_charter(body, "Flood forecasting", lead=body.orgs.council, status=CharterStatus.ACTIVE)
    shots = Path("test-artifacts/screenshots")
    shots.mkdir(parents=True, exist_ok=True)

    log_in(page, live_server.url, "ana")
    page.goto(f"{live_server.url}/charters/{charter.pk}/")
    page.get_by_label("Reason to suspend").fill("A security incident on the shared cluster is under review.")
    page.get_by_role("button", name="Ask to suspend").click()
    assert page.get_by_text("Your request to suspend the charter is recorded").is_visible()
    assert page.get_by_role("button", name="Withdraw my request to suspend").is_visible()
    assert Charter.objects.get(pk=charter.pk).status == CharterStatus.ACTIVE

    page.context.clear_cookies()
    log_in(page, live_server.url, "ben")
    page.goto(f"{live_server.url}/charters/{charter.pk}/")
    assert page.get_by_text("(Public co-chair) asked to suspend").is_visible()
    for width in (1366, 390):
        page.set_viewport_size({"width": width, "height": 900})
        assert page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        page.screenshot(path=str(shots / f"charter-suspend-pending-{width}.png"), full_page=True)
    assert_accessible(page, "the charter page with a pending request")
    page.set_viewport_size({"width": 1366, "height": 900})
    page.get_by_label("Reason to suspend").fill("Agreed until the review ends.")
    page.get_by_role("button", name="Suspend", exact=True).click()
    assert page.get_by_text("Suspend: the charter is now suspended.").is_visible()
    assert page.confirmations == [
        "Your request is recorded; the charter is suspended once the other sector's co-chair asks too.",
        "The charter is suspended at once: every sector's co-chair will have asked.",
    ]
    assert Charter.objects.get(pk=charter.pk).status == CharterStatus.SUSPENDED
