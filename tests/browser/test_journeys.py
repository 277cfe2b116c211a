"""The portal's three main journeys, end to end in Chromium on the seeded demo portal.

Each step is screenshotted into test-artifacts/journeys/<journey>/ and checked with axe-core.
The demo body is the one `make run` seeds; the journeys read what they need off the pages
(a balance, a tally) and check the change they make, rather than assuming the demo's numbers.
"""

from __future__ import annotations

import datetime
import re
from decimal import Decimal

import pytest
from playwright.sync_api import expect

from governance.management.commands.seed_demo import DEMO_PASSWORD

pytestmark = [pytest.mark.browser]

CHARTER_BALLOT = "Approve amendment (version 2) of the charter “Federated triage model”"


def count(locator) -> int:
    return int(locator.inner_text().strip())


def credits(text: str) -> Decimal:
    """A figure as the portal prints credits: '-3,997.49' or '4,000'."""
    return Decimal(re.search(r"-?[\d,]+(?:\.\d+)?", text).group().replace(",", ""))


def test_1_a_committee_member_reads_a_charter_votes_and_sees_the_tally(journey):
    page = journey.page
    journey.log_in("fatima.private")
    waiting = page.get_by_role("region", name="Waiting for your vote")
    expect(waiting.get_by_role("link", name=CHARTER_BALLOT)).to_be_visible()
    journey.step("Home: the ballots waiting for my vote")

    waiting.get_by_role("link", name=CHARTER_BALLOT).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(CHARTER_BALLOT)
    expect(page.get_by_text("You have not voted yet.")).to_be_visible()
    private_yes = page.locator('#tally-live tr[data-sector="private"] [data-count="yes"]')
    yes_before = count(private_yes)
    journey.step("The ballot, before voting")

    page.get_by_role("link", name="Amendment (version 2) of the charter “Federated triage model”").click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Federated triage model")
    journey.step("Reading the charter the ballot decides")

    page.go_back()
    page.get_by_role("button", name="Yes").click()
    expect(page.get_by_text("Your vote is recorded: yes.")).to_be_visible()
    expect(private_yes).to_have_text(str(yes_before + 1))
    expect(page.locator("#my-vote-status")).to_contain_text("You voted yes")
    expect(page.locator("#tally-chart .main-svg").first).to_be_visible(timeout=30_000)
    journey.step("Voted: the per-sector tally counts my vote")

    # A member whose organization is a party to the charter sees why they cannot vote.
    page.get_by_role("button", name="Log out").click()
    journey.log_in("carla.public")
    expect(page.get_by_role("link", name=CHARTER_BALLOT)).to_have_count(0)  # not waiting for her vote
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Ballots").click()
    page.get_by_role("link", name=CHARTER_BALLOT).first.click()
    expect(page.get_by_text("You are recused from this ballot automatically")).to_contain_text(
        "National Research Council is a party to this project charter"
    )
    expect(page.get_by_role("button", name="Yes")).to_have_count(0)
    journey.step("A recused member sees why they cannot vote")


# --- Journey 1 by keyboard alone --------------------------------------------------------

FOCUSED = """() => {
    const el = document.activeElement;
    if (!el || el === document.body) return null;
    const label = el.labels && el.labels.length ? el.labels[0].innerText : "";
    const style = getComputedStyle(el);
    return {
        name: (el.getAttribute("aria-label") || label || el.innerText || el.value || "").trim(),
        tag: el.tagName,
        visible: el.matches(":focus-visible") && style.outlineStyle !== "none" && parseFloat(style.outlineWidth) > 0,
    };
}"""


def tab_to(page, name: str, limit: int = 120) -> None:
    """Press Tab until the focus is on the element called `name`; its focus must be visible."""
    seen = []
    for _ in range(limit):
        page.keyboard.press("Tab")
        focused = page.evaluate(FOCUSED)
        if focused and focused["name"].startswith(name):
            assert focused["visible"], f"the keyboard focus on {focused} is not visible"
            return
        seen.append(focused and focused["name"][:40])
    raise AssertionError(f"{name!r} is not reachable with Tab; the focus went through {seen}")


def test_1_by_keyboard_alone(journey):
    page = journey.page
    journey.go("/login/")
    tab_to(page, "Username")
    page.keyboard.type("ben.private")
    tab_to(page, "Password")
    page.keyboard.type(DEMO_PASSWORD)
    page.keyboard.press("Enter")
    page.wait_for_url(journey.portal.url + "/")

    # The skip link comes first, and moves the focus past the navigation.
    tab_to(page, "Skip to main content")
    page.keyboard.press("Enter")
    tab_to(page, CHARTER_BALLOT)
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_have_text(CHARTER_BALLOT)
    private_yes = page.locator('#tally-live tr[data-sector="private"] [data-count="yes"]')
    yes_before = count(private_yes)
    journey.step("Keyboard: the ballot")

    tab_to(page, "Amendment (version 2) of the charter")
    page.keyboard.press("Enter")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Federated triage model")
    journey.step("Keyboard: the charter")

    page.go_back()  # the browser's own Back (Alt+Left), which headless Chromium has no shortcut for
    expect(page.get_by_role("heading", level=1)).to_have_text(CHARTER_BALLOT)
    tab_to(page, "Yes")
    page.keyboard.press("Enter")
    expect(page.get_by_text("Your vote is recorded: yes.")).to_be_visible()
    expect(private_yes).to_have_text(str(yes_before + 1))
    journey.step("Keyboard: voted, the tally counts it")


# --- Journey 2: the program manager -------------------------------------------------------


def test_2_a_program_manager_updates_a_forecast_and_files_a_report(journey):
    page = journey.page
    journey.log_in("paula.pm")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Roadmap").click()
    page.locator("#roadmap-gantt[data-drawn='true']").wait_for(timeout=30_000)
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Pilot in two ministries"))
    expect(row).to_contain_text("In progress")
    journey.step("The roadmap timeline")

    # The initiative stands green before the change.
    row.get_by_role("link", name="Pilot in two ministries").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Pilot in two ministries")
    expect(page.get_by_text("on time")).to_be_visible()
    page.get_by_role("link", name="AI assistants for public services").click()
    evidence = page.get_by_role("region", name="Evidence-based RAG")
    expect(evidence).to_contain_text("Green")
    journey.step("The initiative before the change: green")

    page.get_by_role("link", name="Pilot in two ministries").click()
    page.get_by_role("link", name="Edit milestone").click()
    baseline = datetime.date.fromisoformat(page.get_by_label("Baseline date").input_value())
    forecast = baseline + datetime.timedelta(days=60)
    page.get_by_label("Forecast date").fill(forecast.isoformat())
    page.get_by_label(re.compile(r"^Status:?$")).select_option(label="At risk")
    page.get_by_label("Status note").fill("The second ministry's caseworker system upgrade slipped.")
    journey.step("Updating the milestone forecast")
    page.get_by_role("button", name="Save").click()

    expect(page.get_by_role("heading", level=1)).to_have_text("Pilot in two ministries")
    expect(page.get_by_text("60 days late")).to_be_visible()
    expect(page.get_by_text("At risk", exact=True)).to_be_visible()
    journey.step("The milestone is 60 days late")

    page.get_by_role("link", name="AI assistants for public services").click()
    evidence = page.get_by_role("region", name="Evidence-based RAG")
    expect(evidence).to_contain_text("Red")
    expect(evidence).to_contain_text("“Pilot in two ministries” has slipped 60 days past its baseline.")
    expect(page.get_by_role("region", name="Slippage")).to_contain_text("Worst: 60 days")
    page.get_by_role("link", name="File a progress report").click()
    page.get_by_label("Amber").check()
    page.get_by_label("Summary").fill("Pilot delayed by the caseworker system upgrade; rollout plan unaffected so far.")
    page.get_by_label("Risks").fill("Upgrade may slip further into Q1.")
    journey.step("Filing a progress report")
    page.get_by_role("button", name=re.compile("File|Save|Submit")).click()

    report = page.get_by_role("article").filter(has_text="Pilot delayed by the caseworker system upgrade")
    expect(report).to_contain_text("Reported: ● Amber · Evidence when filed: ● Red")
    expect(report).to_contain_text("The report and the evidence disagree.")
    journey.step("The report beside the evidence")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Roadmap").click()
    page.locator("#roadmap-gantt[data-drawn='true']").wait_for(timeout=30_000)
    row = page.get_by_role("row").filter(has=page.get_by_role("link", name="Pilot in two ministries"))
    expect(row).to_contain_text("At risk")
    expect(row).to_contain_text("+60")
    journey.step("The timeline shows the slippage")


# --- Journey 3: credits under dual control ---------------------------------------------


def test_3_a_staff_member_requests_credits_and_both_co_chairs_sign(journey):
    page = journey.page
    journey.log_in("sam.staff")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Compute").click()
    page.get_by_role("link", name="Accounts and pools").click()
    accounts = page.get_by_role("table", name="Charter accounts you can see")
    accounts.get_by_role("link", name="Federated triage model").click()
    balance_before = credits(page.locator("dt:text-is('Balance') + dd").inner_text())
    journey.step("The account before the request")

    page.get_by_role("link", name="Request credits").click()
    page.get_by_label("Charter").select_option(label="Federated triage model")
    page.get_by_label("Resource").select_option(label="Aurora GPU cluster")
    page.get_by_label("Pool", exact=True).select_option(index=1)
    page.locator("#quote").get_by_text("credits per GPU-hour on Aurora GPU cluster").wait_for()
    page.get_by_label("Requested credits").fill("3000")
    page.get_by_label("Justification").fill("Retraining the triage model on the three new hospitals' data.")
    journey.step("Requesting 3,000 credits")
    page.get_by_role("button", name="Submit the request").click()
    expect(page.get_by_text("Status: Submitted")).to_be_visible()
    request_url = page.url
    journey.step("Submitted, waiting for both co-chairs")
    page.get_by_role("button", name="Log out").click()

    for chair, expected in (("ana.public", "The other sector's co-chair signs next."), ("ben.private", "Signed: the")):
        journey.log_in(chair)
        page.goto(request_url)
        page.get_by_role("button", name="Sign").click()
        expect(page.get_by_role("status")).to_contain_text(expected)
        journey.step(f"{chair} signs")
        page.get_by_role("button", name="Log out").click()

    journey.log_in("sam.staff")
    page.goto(request_url)
    expect(page.get_by_text("Status: Approved")).to_be_visible()
    expect(page.locator("dt:text-is('Awarded') + dd")).to_have_text("3,000 credits")
    journey.step("The request is approved")
    page.get_by_role("link", name="the account of Federated triage model").click()
    balance_after = credits(page.locator("dt:text-is('Balance') + dd").inner_text())
    assert balance_after == balance_before + 3000
    expect(page.locator("#burn-down-chart .main-svg").first).to_be_visible(timeout=30_000)
    expect(page.get_by_role("row").filter(has_text="Allocation").first).to_contain_text("+3,000")
    journey.step("The balance and the burn-down chart")
