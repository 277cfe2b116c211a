"""Every public page in a real Chromium, on the seeded demo portal, as a visitor who never signs
in: no serious or critical WCAG 2.1 AA violation (axe-core), at a desktop's width and a phone's,
and no page wider than a phone's screen."""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urlsplit

import pytest
from django.urls import resolve

from tests.browser.axe import violations
from tests.browser.portal import start_demo_portal, stop_demo_portal

pytestmark = [pytest.mark.browser]

HREF = re.compile(r'href="([^"#]+)"')
WIDTHS = {"desktop": 1366, "phone": 390}


@pytest.fixture(scope="module")
def demo_portal():
    portal = start_demo_portal()
    yield portal
    stop_demo_portal(portal)


def public_pages(request, base: str) -> dict[str, str]:
    """One address per public page pattern, found by following the public pages' links."""
    found: dict[str, str] = {}
    queue, seen = deque(["/", "/public/"]), set()
    while queue:
        path = queue.popleft()
        if path in seen:
            continue
        seen.add(path)
        response = request.get(base + path)
        assert response.status == 200, f"{path}: HTTP {response.status}"
        if not response.headers.get("content-type", "").startswith("text/html"):
            continue
        name = resolve(urlsplit(path).path).view_name
        found.setdefault(name, path)
        for href in HREF.findall(response.text()):
            parts = urlsplit(href.replace("&amp;", "&"))
            if not parts.netloc and parts.path.startswith("/public/"):
                target = resolve(parts.path).view_name
                if target not in found:
                    queue.append(parts.path + (f"?{parts.query}" if parts.query else ""))
    return found


def test_every_public_page_is_accessible_on_a_desktop_and_a_phone(browser, demo_portal):
    base = demo_portal.url
    problems: list[str] = []
    for label, width in WIDTHS.items():
        context = browser.new_context(viewport={"width": width, "height": 900})
        page = context.new_page()
        page.set_default_timeout(30_000)
        pages = public_pages(page.request, base)
        assert {"public:decisions", "public:decision", "public:charter", "public:minutes", "public:record"} <= set(
            pages
        )
        for _name, path in sorted(pages.items()):
            response = page.goto(base + path)
            assert response and response.status == 200, path
            problems += [
                f"{label} {path}: {v['id']} ({v['impact']}): {v['help']} at {v['targets']}" for v in violations(page)
            ]
            overflow = page.evaluate("document.documentElement.scrollWidth - window.innerWidth")
            if overflow > 1:
                problems.append(f"{label} {path}: the page is {overflow}px wider than the screen")
        context.close()
    assert not problems, "\n".join(problems)
