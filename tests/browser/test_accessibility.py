"""Every page of the portal, checked with axe-core in Chromium, as the people who use it.

The crawl starts at the home page of each persona on the seeded demo portal and follows the
links it finds, opening one address per URL pattern and person (the patterns come from the
URL resolver, so a new page is crawled the day it is linked). Each page must answer 200 and
have no serious or critical WCAG 2.1 AA violation. Afterwards every page pattern must have been
reached, except the ones named in NOT_PAGES with the reason they are not pages.
"""

from __future__ import annotations

import html
import re
import time
from collections import Counter, deque
from urllib.parse import urljoin, urlsplit

import pytest
from django.urls import Resolver404, URLPattern, URLResolver, get_resolver, resolve
from playwright.sync_api import expect

from governance.management.commands.seed_demo import DEMO_PASSWORD
from tests.browser.axe import assert_accessible, violations
from tests.browser.login import log_in
from tests.otp import totp

pytestmark = [pytest.mark.browser]

# The people whose pages differ: what each sees and may do changes the forms on a page. (A
# member's vote form is checked by journey 1, in tests/browser/test_journeys.py.)
PERSONAS = ["admin", "ana.public", "paula.pm", "sam.staff", "grace.secretary"]

# URL patterns that are not pages a person reads, and why.
NOT_PAGES = {
    "logout": "POST only",
    "two-factor-verify": "reached only with a confirmed TOTP device; the two-factor test below opens it",
    "healthz": "JSON health check for the load balancer",
    "ballots:tally": "htmx fragment of the ballot page, checked inside it",
    "ballots:vote": "POST only",
    "notification-delivery": "the account page's e-mail form posts here (a refused choice shows the account page)",
    "substitute-withdraw": "POST only",
    "ballots:recuse": "POST only",
    "ballots:open": "POST only",
    "ballots:close": "POST only",
    "ballots:second": "POST only",
    "ballots:remind": "POST only",
    "meetings:status": "POST only",
    "meetings:agenda": "POST only",
    "meetings:attendance": "POST only",
    "meetings:minutes-approve": "POST only",
    "meetings:roll-call": "CSV download",
    "meetings:minutes-pdf": "PDF download (tests/governance/test_minutes_pdf.py reads its text)",
    "meetings:calendar-feed": "iCalendar download",
    "meetings:reply": "opened from the invitation's signed link; tests/browser/test_meeting_pages.py checks it",
    "public:minutes-pdf": "PDF download (tests/governance/test_minutes_pdf.py reads its text)",
    "sops:version": "POST only",
    "sops:ballot": "POST only",
    "charters:prepare-ballot": "POST only",
    "charters:amendment-withdraw": "POST only",
    "charters:agreement-sign": "POST only",
    "charters:agreement-renew": "POST only",
    "charters:step": "POST only",
    "charters:step-withdraw": "POST only",
    "compute:security-upload": "POST only",
    "meetings:minutes-draft": "POST only",
    "charters:model-prov": "PROV-JSON download",
    "compute:request-quote": "htmx fragment of the request form, checked inside it",
    "compute:request-action": "POST only",
    "compute:account-transfer": "POST only (the form is on the account page)",
    "compute:account-refund": "POST only (the form is on the account page)",
    "compute:transfer-action": "POST only",
    "compute:refund-action": "POST only",
    "compute:reversal-action": "POST only",
    "roadmap:prepare-ballot": "POST only",
    "roadmap:roadmap-revise": "POST only",
    "roadmap:milestones-csv": "CSV download",
    "roadmap:rebaseline-withdraw": "POST only",
    "roadmap:calendar-feed": "iCalendar download",
    "membership-change-propose": "POST only (the form is on the committee page)",
    "membership-change-act": "POST only",
    "sign-out-everywhere": "POST only (the button is on the account page)",
    "issue-api-token": "POST only (the button is on the account page; the answer shows the token once)",
    "openid_connect_login": "single sign-on, with no provider in the demo: tests/identity drive it in a browser",
    "openid_connect_callback": "the identity provider's redirect back: tests/identity drive it in a browser",
    "socialaccount_login_cancelled": "after a provider's refusal: tests/identity check it with axe",
    "audit-log": "the auditor's page (uma.auditor is not crawled); tests/governance/transparency opens it",
    "audit-verify": "POST only (the button is on the audit page)",
    "audit-csv": "CSV download",
    "transparency:checkpoint": "text/plain signed note, not a page",
    "transparency:keys": "text/plain key list, not a page",
    "transparency:inclusion": "JSON proof, not a page",
    "transparency:consistency": "JSON proof, not a page",
    "transparency:entries": "JSON entries, not a page",
    "public:data-csv": "CSV download (tests/public/test_downloads.py parses every one)",
    "public:data-json": "JSON download (tests/public/test_downloads.py parses every one)",
    "public:decisions-feed": "Atom feed (tests/public/test_downloads.py validates it)",
    "public:receipt": "text/plain receipt, not a page",
    "public:decision-event": "JSON of a logged event, not a page",
}

LINKS = """() => Array.from(document.querySelectorAll('a[href]'), a => a.href)"""


def page_patterns() -> set[str]:
    """The name of every URL pattern outside /api/ and /admin/."""
    names: set[str] = set()

    def walk(patterns, prefix: str, namespace: str) -> None:
        for entry in patterns:
            route = str(entry.pattern)
            if isinstance(entry, URLResolver):
                inner = f"{namespace}{entry.namespace}:" if entry.namespace else namespace
                walk(entry.url_patterns, prefix + route, inner)
            elif isinstance(entry, URLPattern) and entry.name:
                path = prefix + route
                if not path.startswith(("api/", "admin/", "static/")):
                    names.add(namespace + entry.name)

    walk(get_resolver().url_patterns, "", "")
    return names


def pattern_of(path: str) -> str | None:
    try:
        match = resolve(path)
    except Resolver404:
        return None
    return match.view_name


# Addresses fetched per pattern and person to discover links: the demo's first charter may not
# have the second version whose comparison page a later one links to.
FETCHES_PER_PATTERN = 3
HREF = re.compile(r'href="([^"#]+)')


def crawl(page, base: str, start: str, checked: set[str], problems: list[str]) -> None:
    """Breadth-first through the links of the site. The first address of each pattern is
    opened in the browser and checked with axe; a few more are fetched over HTTP (with the
    same session) to answer 200 and to find the links only they carry."""
    queue = deque([start])
    queued = {urlsplit(start).path}
    fetched: Counter[str] = Counter()
    while queue:
        path = queue.popleft()
        name = pattern_of(urlsplit(path).path)
        if name is None or name in NOT_PAGES or name not in PATTERNS or fetched[name] >= FETCHES_PER_PATTERN:
            continue
        fetched[name] += 1
        if name not in checked:
            checked.add(name)
            response = page.goto(base + path)
            status = response.status if response else None
            links = page.evaluate(LINKS) if status == 200 else []
            if status == 200:
                problems.extend(
                    f"{path}: {v['id']} ({v['impact']}): {v['help']} at {v['targets']}" for v in violations(page)
                )
        else:
            response = page.request.get(base + path)
            status = response.status
            links = [html.unescape(href) for href in HREF.findall(response.text())] if status == 200 else []
        if status != 200:
            problems.append(f"{path}: HTTP {status}")
        for href in links:
            parts = urlsplit(urljoin(base + path, href))
            if f"{parts.scheme}://{parts.netloc}" != base or parts.path in queued:
                continue
            queued.add(parts.path)
            queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))


PATTERNS = page_patterns()


def test_every_page_has_no_serious_accessibility_violation(browser, demo_portal):
    base = demo_portal.url
    reached: dict[str, set[str]] = {}
    problems: list[str] = []

    anonymous = browser.new_context()
    # A visitor who never signs in starts at the public home (which links the sign-in page).
    crawl(anonymous.new_page(), base, "/", reached.setdefault("anonymous", set()), problems)
    anonymous.close()
    for username in PERSONAS:
        context = browser.new_context(viewport={"width": 1280, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        log_in(page, base, username, DEMO_PASSWORD)
        crawl(page, base, "/", reached.setdefault(username, set()), problems)
        context.close()

    assert not problems, "\n".join(problems)
    everything = set().union(*reached.values())
    unreached = PATTERNS - set(NOT_PAGES) - everything
    assert not unreached, f"no link leads to these pages for any persona: {sorted(unreached)}"
    assert set(NOT_PAGES) <= PATTERNS, f"NOT_PAGES names patterns that no longer exist: {set(NOT_PAGES) - PATTERNS}"


def test_two_factor_pages_are_accessible_and_hold_the_login_until_the_code(browser, demo_portal):
    """The admin turns two-factor sign-in on in the browser; the next login stops at the code page."""
    base = demo_portal.url
    context = browser.new_context()
    page = context.new_page()
    log_in(page, base, "admin", DEMO_PASSWORD)
    page.get_by_role("link", name="Two-factor sign-in").click()
    assert_accessible(page, "two-factor enrolment")
    secret = page.locator("#totp-secret").inner_text().strip()
    page.get_by_label("Six-digit code").fill(totp(secret))
    page.get_by_role("button", name="Turn on two-factor sign-in").click()
    expect(page.locator("#two-factor-status")).to_contain_text("Two-factor sign-in is on")
    page.get_by_role("button", name="Log out").click()

    page.goto(f"{base}/login/")
    page.get_by_label("Username").fill("admin")
    page.get_by_label("Password").fill(DEMO_PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_role("heading", name="Your two-factor code")).to_be_visible()
    assert_accessible(page, "two-factor code")
    page.goto(f"{base}/charters/")  # held at the code page until the code is given, then sent on
    expect(page.get_by_role("heading", name="Your two-factor code")).to_be_visible()
    # The next 30-second step's code: a code once used is refused, and the device accepts one
    # step of clock drift.
    page.get_by_label("Six-digit code").fill(totp(secret, at=time.time() + 30))
    page.get_by_role("button", name=re.compile("Verify|Continue|Sign in")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Project charters")
    context.close()
