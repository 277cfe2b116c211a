"""Fixtures of the browser tests that run against the seeded demo portal."""

from __future__ import annotations

import pytest

from tests.browser.portal import Journey, start_demo_portal, stop_demo_portal


@pytest.fixture(scope="session")
def demo_portal():
    """The portal started as `make run` starts it, on the demo body; shared by the session."""
    portal = start_demo_portal()
    yield portal
    stop_demo_portal(portal)


@pytest.fixture
def journey(page, demo_portal, request):
    """A journey through the demo portal whose steps are screenshotted and checked with axe."""
    return Journey(name=request.node.name.removeprefix("test_"), page=page, portal=demo_portal)
