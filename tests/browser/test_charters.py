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
