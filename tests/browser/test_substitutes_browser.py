"""A member sends a substitute and the substitute votes in the seat, in a real browser: each
changed page at 1366 and 390 px, axe-clean and without sideways scrolling."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from governance import services
from governance.choices import SubjectType
from governance.models import Vote
from tests.base import make_body
from tests.browser.axe import assert_accessible
from tests.browser.login import log_in
from tests.browser.portal import ARTIFACTS

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1366, 390)


def check(page, name: str) -> None:
    """Screenshot the page at both widths; axe finds nothing serious and nothing scrolls sideways."""
    folder = ARTIFACTS / "substitutes"
    folder.mkdir(parents=True, exist_ok=True)
    for width in WIDTHS:
        page.set_viewport_size({"width": width, "height": 900})
        page.screenshot(path=str(folder / f"{name}-{width}.png"), full_page=True)
        assert_accessible(page, f"{name} at {width} px")
        overflow = page.evaluate("document.documentElement.scrollWidth - document.documentElement.clientWidth")
        assert overflow <= 0, f"{name} scrolls sideways by {overflow} px at {width} px"
    page.set_viewport_size({"width": 1366, "height": 900})


def test_a_member_sends_a_substitute_who_votes_in_the_seat(page, live_server, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    body = make_body()
    ballot = services.create_ballot(
        body.public_chair, committee=body.committee, title="Adopt the meeting calendar", subject_type=SubjectType.MOTION
    )
    services.open_ballot(body.public_chair, ballot)

    log_in(page, live_server.url, "erik")
    page.goto(f"{live_server.url}/ballots/{ballot.pk}/")
    page.get_by_role("link", name="Send a substitute").click()
    check(page, "substitutes-form")
    page.get_by_label("Substitute", exact=True).select_option(label="Tara — Helios Compute")
    page.get_by_role("button", name="Send this substitute").click()
    expect(page.get_by_text("Tara will vote in your seat")).to_be_visible()
    check(page, "substitutes-named")
    page.goto(f"{live_server.url}/ballots/{ballot.pk}/")
    expect(page.locator("#my-substitute")).to_contain_text("Tara")
    check(page, "ballot-member-with-substitute")

    page.goto(f"{live_server.url}/account/")
    page.get_by_label("A daily digest").check()
    page.get_by_role("button", name="Save").click()
    expect(page.get_by_text("E-mails now reach you: a daily digest.")).to_be_visible()
    check(page, "account-delivery")

    page.context.clear_cookies()
    log_in(page, live_server.url, "tara")
    expect(page.get_by_role("heading", name="Waiting for your vote as a substitute")).to_be_visible()
    check(page, "home-substitute")
    page.get_by_role("link", name="Adopt the meeting calendar").first.click()
    check(page, "ballot-substitute")
    page.get_by_role("button", name="No").click()
    expect(page.get_by_text("Your vote in this seat is recorded: no.")).to_be_visible()
    check(page, "ballot-substitute-voted")
    # The committee's members see the open tally, with who voted for whom (not how).
    page.context.clear_cookies()
    log_in(page, live_server.url, "erik")
    page.goto(f"{live_server.url}/ballots/{ballot.pk}/")
    expect(page.locator("#tally-live")).to_contain_text("Tara for Erik (private)")
    check(page, "ballot-member-tally")
    vote = Vote.objects.get(ballot=ballot, voter=body.private_member)
    assert (vote.cast_by_id, vote.choice) == (body.private_staff.pk, "no")
