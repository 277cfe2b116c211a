"""A person logs in with a real browser and reaches the home page."""

import pytest

from tests.base import PASSWORD, make_body
from tests.browser.login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_logs_in_and_reaches_the_home_page(live_server, page):
    make_body()
    page.goto(f"{live_server.url}/")
    # A visitor gets the public home; the header's sign-in link leads to the login form.
    page.get_by_role("banner").get_by_role("link", name="Sign in").click()
    assert "/login/" in page.url
    page.get_by_label("Username").fill("carla")
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    page.wait_for_url(f"{live_server.url}/")
    assert page.get_by_role("heading", name="Welcome, Carla").is_visible()
    assert page.get_by_text("Technical Governance Body").first.is_visible()
    # The navigation reaches each of the four areas.
    nav = page.get_by_role("navigation", name="Main")
    for area in ("Governance", "Charters", "Compute", "Roadmap"):
        assert nav.get_by_role("link", name=area).is_visible()


def test_the_skip_link_is_the_first_stop_for_keyboard_users(live_server, page):
    make_body()
    log_in(page, live_server.url, "carla")
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.textContent").strip() == "Skip to main content"
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"


def test_a_wrong_password_keeps_the_person_on_the_login_page(live_server, page):
    make_body()
    page.goto(f"{live_server.url}/login/")
    page.get_by_label("Username").fill("carla")
    page.get_by_label("Password").fill("not-the-password")
    page.get_by_role("button", name="Log in").click()
    assert page.get_by_role("alert").inner_text().startswith("Your username and password did not match")
