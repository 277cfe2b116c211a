"""Each role's home in Chromium on the seeded demo portal, at desktop (1366 px) and phone
(390 px) width: the person's own work is there and nobody else's, every page passes axe, no
page scrolls sideways on a phone, and no template text leaks onto a page."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

pytestmark = [pytest.mark.browser]

WIDTHS = [1366, 390]

# username → (regions their home shows, regions it must not show, a page of theirs to open next)
ROLES = {
    "ana.public": (["Waiting for your vote", "Ballots to run", "Meetings"], ["The record"], "/ballots/"),
    "grace.secretary": (["Meetings", "Charters"], ["Waiting for your vote", "Ballots to run"], "/meetings/"),
    "fatima.private": (["Waiting for your vote"], ["Ballots to run", "Meetings", "The record"], "/ballots/"),
    "paula.pm": (["Roadmap"], ["Ballots to run", "The record"], "/roadmap/"),
    "sam.staff": (["Compute credits"], ["Ballots to run", "Waiting for your vote"], "/compute/credits/"),
    "uma.auditor": (["The record"], ["Ballots to run", "Compute credits"], "/audit/"),
}

NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"


def check_page(page, what: str) -> None:
    """No sideways scroll at this width, and no template syntax printed on the page."""
    assert page.evaluate(NO_SIDEWAYS_SCROLL), (
        f"{what} scrolls sideways: {page.evaluate('document.documentElement.scrollWidth')} px "
        f"in {page.evaluate('window.innerWidth')} px"
    )
    text = page.inner_text("body")
    for leak in ("{#", "{{", "{%", "#}", "%}"):
        assert leak not in text, f"{what} prints template text {leak!r}"


@pytest.mark.parametrize("width", WIDTHS)
@pytest.mark.parametrize("username", list(ROLES))
def test_each_role_finds_its_own_work_at_home(journey, username, width):
    page = journey.page
    page.set_viewport_size({"width": width, "height": 900})
    shows, hides, next_page = ROLES[username]
    journey.log_in(username)
    for name in shows:
        expect(page.get_by_role("region", name=name)).to_be_visible()
    for name in hides:
        expect(page.get_by_role("region", name=name)).to_have_count(0)
    if username == "uma.auditor":
        expect(page.get_by_role("region", name="The record")).to_contain_text("Last verification")
    else:
        expect(page.locator(".inbox-list .due").first).to_be_visible()  # every item says when
    check_page(page, f"{username}'s home at {width} px")
    journey.step(f"{username} home at {width} px")
    journey.go(next_page)
    check_page(page, f"{next_page} at {width} px")
    journey.step(f"{username} {next_page} at {width} px")


# Tables wider than their box that are not in a focusable scroll region of their own: on a
# phone their right-hand columns (a ballot's outcome, "Your vote") lie beyond the screen.
WIDE_TABLES = """() => [...document.querySelectorAll('main table')]
    .filter(t => t.scrollWidth > t.clientWidth + 2 && !t.closest('.table-scroll'))
    .map(t => (t.caption ? t.caption.innerText : t.className) + ': ' + t.scrollWidth + ' px')"""


def test_the_registers_stack_one_card_per_row_on_a_phone(journey):
    page = journey.page
    page.set_viewport_size({"width": 390, "height": 844})
    journey.log_in("ana.public")
    journey.go("/charters/")
    charter = page.locator("table.stack-table tbody th a").first.get_attribute("href")
    for path in ("/ballots/", "/charters/", charter, "/roadmap/", "/compute/pools/", "/audit/"):
        journey.go(path)
        assert page.evaluate(WIDE_TABLES) == [], f"{path} at 390 px"
        check_page(page, f"{path} at 390 px")
    journey.step("The audit log, one card per event on a phone")


def test_the_navigation_folds_behind_a_menu_button_on_a_phone(journey):
    page = journey.page
    page.set_viewport_size({"width": 390, "height": 800})
    journey.log_in("ana.public")
    nav = page.get_by_role("navigation", name="Main")
    menu = page.get_by_role("button", name="Menu")
    expect(nav).to_be_hidden()
    expect(menu).to_have_attribute("aria-expanded", "false")
    menu.click()
    expect(menu).to_have_attribute("aria-expanded", "true")
    expect(nav.get_by_role("link", name="Ballots")).to_be_visible()
    journey.step("The menu, open on a phone")
    page.set_viewport_size({"width": 1366, "height": 800})
    expect(menu).to_be_hidden()
    expect(nav.get_by_role("link", name="Ballots")).to_be_visible()


def test_a_co_chair_decides_a_request_with_the_account_and_the_pool_in_view(journey):
    page = journey.page
    journey.log_in("ben.private")
    journey.go("/compute/requests/awaiting/")
    page.locator("main table a[href*='/compute/requests/']").first.click()
    decide = page.get_by_role("region", name="Before you decide")
    expect(decide).to_contain_text("The charter's account")
    expect(decide).to_contain_text("Headroom after this one")
    reason = page.get_by_role("region", name="Reject").get_by_label("Reason")
    expect(reason).to_have_value("")
    expect(reason.locator("option", has_text="Rejected by ballot")).to_have_count(0)
    check_page(page, "the decision page")
    journey.step("The decision page of a credit request")
