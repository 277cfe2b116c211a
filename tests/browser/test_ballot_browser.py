"""A member votes in a real browser and watches the per-sector tally change in place."""

from __future__ import annotations

import pytest
from playwright.sync_api import expect

from governance import services
from governance.choices import SubjectType
from tests.base import make_body
from tests.browser.login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_a_member_votes_and_sees_the_tally_change(page, live_server, settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    body = make_body()
    ballot = services.create_ballot(
        body.public_chair, committee=body.committee, title="Adopt the meeting calendar", subject_type=SubjectType.MOTION
    )
    services.open_ballot(body.public_chair, ballot)

    refused = []
    page.on("console", lambda message: "Content Security Policy" in message.text and refused.append(message.text))
    log_in(page, live_server.url, "carla")
    expect(page.get_by_role("heading", name="Waiting for your vote")).to_be_visible()
    page.get_by_role("link", name="Adopt the meeting calendar").first.click()

    public_yes = page.locator('#tally-live tr[data-sector="public"] [data-count="yes"]')
    expect(public_yes).to_have_text("0")
    # plotly.js is a few megabytes: give a busy machine time to load and draw it.
    expect(page.locator("#tally-chart .main-svg").first).to_be_visible(timeout=30_000)

    page.get_by_role("button", name="Yes").click()
    expect(page.get_by_text("Your vote is recorded: yes.")).to_be_visible()
    expect(public_yes).to_have_text("1")
    expect(page.locator("#my-vote-status")).to_contain_text("You voted yes")

    # Another member votes elsewhere: the open page picks it up by itself (htmx polling).
    services.cast_vote(body.private_member, ballot, "no")
    expect(page.locator('#tally-live tr[data-sector="private"] [data-count="no"]')).to_have_text("1", timeout=30_000)
    expect(page.locator("#tally-chart .main-svg").first).to_be_visible()
    assert refused == [], refused  # the page's scripts all obey the strict CSP
