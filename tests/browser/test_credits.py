"""A staff member requests credits in a real browser and sees the request; the form shows the
pool's available credits and the resource's rate as they choose."""

import pytest

from tests.base import make_body
from tests.browser.login import log_in
from tests.compute.credits import make_world

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_staff_member_requests_credits_and_sees_the_request(live_server, page):
    body = make_body()
    world = make_world(body)
    log_in(page, live_server.url, "sam")

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Compute").click()
    page.goto(f"{live_server.url}/compute/requests/new/")
    page.get_by_label("Charter").select_option(label=str(world["charter"]))
    page.get_by_label("Pool", exact=True).select_option(label=str(world["pool"]))
    page.get_by_label("Resource").select_option(label="Aurora GPU cluster")
    # htmx fetches the pool's available credits and the resource's rate.
    quote = page.locator("#quote")
    quote.get_by_text("credits per GPU-hour on Aurora GPU cluster").wait_for()
    assert "100,000" in quote.inner_text()
    page.get_by_label("Requested credits").fill("4000")
    page.get_by_label("Justification").fill("Ensemble runs of the flood model for the spring season.")
    page.get_by_role("button", name="Submit the request").click()

    page.get_by_role("heading", name="Credit request #").wait_for()
    assert page.get_by_text("Status: Submitted").is_visible()
    assert page.get_by_role("status").inner_text().endswith("is submitted.")
    page.get_by_role("link", name="My requests").click()
    row = page.get_by_role("row").filter(has_text="Flood forecasting")
    assert "4,000" in row.inner_text()
    assert "Submitted" in row.inner_text()


def test_choices_made_before_htmx_starts_are_quoted(live_server, page):
    """On a slow network the person may choose before the script runs; the quote follows anyway."""
    body = make_body()
    world = make_world(body)
    log_in(page, live_server.url, "sam")

    held = []
    page.route("**/htmx*.js", lambda route: held.append(route))
    page.goto(f"{live_server.url}/compute/requests/new/", wait_until="commit")
    page.get_by_label("Pool", exact=True).select_option(label=str(world["pool"]))
    page.get_by_label("Resource").select_option(label="Aurora GPU cluster")
    quote = page.locator("#quote")
    assert "Choose a resource." in quote.inner_text()
    assert held, "the page asks for htmx"
    for route in held:
        route.continue_()
    quote.get_by_text("credits per GPU-hour on Aurora GPU cluster").wait_for()
    assert "100,000" in quote.inner_text()
