"""The auditor's page of the record in a real browser: from the header to the events, a filter,
an event's object, its receipt downloaded and checked offline, and "verify now" with each
sector's witness agreeing."""

from __future__ import annotations

import tempfile
from io import StringIO
from pathlib import Path

import pytest
from django.core.management import call_command
from django.test import override_settings
from playwright.sync_api import expect

from governance import services
from governance.choices import SubjectType, VoteChoice
from governance.transparency.integrate import integrate, push_latest
from tests.base import make_body
from tests.browser.axe import assert_accessible
from tests.browser.login import log_in
from tests.governance.transparency.witnesses import start_witness
from tests.support.ballots import close_by_both

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def witnessed():
    """A real witness process per sector, listed in a LOG_WITNESSES file."""
    directory = Path(tempfile.mkdtemp(prefix="tgb-audit-page-"))
    running = [start_witness(sector, directory) for sector in ("public", "private")]
    (directory / "witnesses").write_text("".join(w.line() for w in running))
    with override_settings(LOG_WITNESSES=str(directory / "witnesses")):
        yield directory
    for witness in running:
        witness.process.stop()


def test_an_auditor_filters_the_record_downloads_a_receipt_and_verifies(page, live_server, settings, witnessed):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    body = make_body()
    ballot = services.create_ballot(
        body.public_chair, committee=body.committee, title="Adopt the meeting calendar", subject_type=SubjectType.MOTION
    )
    services.open_ballot(body.public_chair, ballot)
    for voter in (body.public_chair, body.private_chair, body.public_member, body.private_member):
        services.cast_vote(voter, ballot, VoteChoice.YES)
    close_by_both(ballot, body.public_chair, body.private_chair)
    integrate()
    push_latest()

    log_in(page, live_server.url, "uma")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Audit log").click()
    expect(page.get_by_role("heading", name="Audit log", level=1)).to_be_visible()
    expect(page.get_by_text("No checkpoint has been cosigned")).to_have_count(0)
    assert_accessible(page, "the audit page")

    page.get_by_label("Verb").select_option("ballot.closed")
    page.get_by_role("button", name="Filter").click()
    rows = page.locator("table tbody tr")
    expect(rows).to_have_count(1)
    expect(rows.first).to_contain_text("ballot.closed")

    with page.expect_download() as download:
        rows.first.get_by_role("link", name="Receipt of event").click()
    receipt = witnessed / "receipt.txt"
    download.value.save_as(receipt)
    keys = witnessed / "keys"
    keys.write_bytes(page.request.get(f"{live_server.url}/transparency/keys").body())
    out = StringIO()
    call_command("verify_receipt", str(receipt), "--keys", str(keys), stdout=out)
    assert "Receipt verified" in out.getvalue()

    rows.first.get_by_role("link", name="Adopt the meeting calendar", exact=True).click()
    expect(page.get_by_role("heading", name="Adopt the meeting calendar")).to_be_visible()
    page.go_back()

    page.get_by_role("button", name="Verify now").click()
    status = page.get_by_role("status")
    expect(status).to_contain_text("The record holds")
    expect(status).to_contain_text("The public witness")
    expect(status.get_by_text("agrees")).to_have_count(2)
    assert_accessible(page, "the audit page after verification")
