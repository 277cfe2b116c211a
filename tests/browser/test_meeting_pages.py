"""The meeting page with the replies to its invitation, and the reply page a member reaches from
the invitation, in Chromium on the seeded demo portal at desktop and phone width: axe-clean, no
sideways scroll, and the reply recorded for the secretary to see."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from tests.browser.test_homes import check_page

pytestmark = [pytest.mark.browser]


def open_upcoming_meeting(journey) -> None:
    journey.go("/meetings/")
    journey.page.get_by_role("link", name="Ordinary meeting, winter").click()


@pytest.mark.parametrize("width", [1366, 390])
def test_the_secretary_sees_the_replies_and_a_member_answers(journey, width):
    page = journey.page
    page.set_viewport_size({"width": width, "height": 900})
    journey.log_in("carla.public")
    open_upcoming_meeting(journey)
    reply = page.get_by_role("form", name="Your reply to the invitation")
    expect(reply).to_be_visible()
    check_page(page, f"the meeting page of a member at {width} px")
    journey.step(f"member meeting page at {width} px")
    action = reply.get_attribute("action")
    journey.go(action + "?reply=tentative")
    expect(page.get_by_role("heading", name="Will you attend Ordinary meeting, winter?")).to_be_visible()
    check_page(page, f"the reply page at {width} px")
    journey.step(f"reply page at {width} px")
    page.get_by_role("button", name="Might attend").click()
    expect(page.get_by_test_id("rsvp")).to_have_text("Might attend")
    journey.step(f"reply recorded at {width} px")

    page.context.clear_cookies()
    journey.log_in("grace.secretary")
    open_upcoming_meeting(journey)
    roll = page.get_by_role("table", name="Roll")
    expect(roll.get_by_role("columnheader", name="Reply to the invitation")).to_be_visible()
    expect(roll.get_by_role("row", name="Carla").locator("[data-rsvp]")).to_have_attribute("data-rsvp", "tentative")
    expect(roll.locator('[data-rsvp="declined"]')).to_have_count(1)
    check_page(page, f"the secretary's meeting page at {width} px")
    journey.step(f"secretary meeting page with replies at {width} px")
