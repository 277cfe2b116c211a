"""Suite-wide fixtures and the rule that service tests fail, not skip, in CI.

Locally a test marked `postgres` or `redis` skips when the service is missing, with the
reason. With CI=true (or TGB_REQUIRE_SERVICES=1) it fails instead: CI must never go green
because a real service was silently out of reach.
"""

from __future__ import annotations

import os
import shutil

import pytest
from django.conf import settings
from django.db import connection

CHROMIUM = os.environ.get("CHROMIUM_PATH", "/usr/bin/chromium")

# Tests read what a view rendered (its context, its queries) and render pages again after
# changes the database does not see (a setting, the clock): every request renders here. The
# page cache is tested on its own (tests/governance/test_page_cache.py) and served the load
# benchmark over gunicorn.
settings.SIGNED_IN_PAGE_CACHE_SECONDS = 0


def services_required() -> bool:
    return os.environ.get("CI", "").lower() in ("1", "true", "yes") or os.environ.get("TGB_REQUIRE_SERVICES") == "1"


def missing(reason: str) -> None:
    """Fail in CI, skip elsewhere."""
    if services_required():
        pytest.fail(f"{reason} (required in CI)", pytrace=False)
    pytest.skip(reason)


def redis_reachable() -> str | None:
    """The reason Redis cannot be used, or None when it answers a PING."""
    if not settings.REDIS_URL:
        return "REDIS_URL is not set"
    import redis

    try:
        redis.Redis.from_url(settings.REDIS_URL, socket_connect_timeout=2).ping()
    except redis.RedisError as error:
        return f"Redis at {settings.REDIS_URL} is unreachable: {error}"
    return None


@pytest.fixture(autouse=True, scope="session")
def _celery_runs_tasks_in_process():
    """Tasks run in the test process when their transaction commits; tests of the real
    worker and broker switch this off for themselves (see `real_celery`)."""
    from governance.celery import app

    app.conf.update(CELERY_TASK_ALWAYS_EAGER=True)
    yield


@pytest.fixture
def real_celery():
    """Send tasks to the real broker for this test, as production does."""
    from governance.celery import app

    app.conf.update(CELERY_TASK_ALWAYS_EAGER=False)
    yield app
    app.conf.update(CELERY_TASK_ALWAYS_EAGER=True)


@pytest.fixture(autouse=True)
def _require_marked_services(request):
    if request.node.get_closest_marker("postgres") and connection.vendor != "postgresql":
        missing("needs PostgreSQL: set DATABASE_URL to a postgres:// URL")
    if request.node.get_closest_marker("redis"):
        reason = redis_reachable()
        if reason:
            missing(reason)


@pytest.fixture(scope="session")
def browser():
    """A real headless Chromium (Debian's), driven by Playwright."""
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        missing(f"Chromium not found at {CHROMIUM}: apt-get install chromium")
    # Playwright's sync API runs an event loop in this thread; the ORM calls the tests make
    # around it are ordinary synchronous ones.
    os.environ.setdefault("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=[
                "--no-sandbox",
                "--disable-gpu",
                "--disable-quic",
                "--no-first-run",
                "--disable-background-networking",
                "--disable-component-update",
                "--disable-sync",
            ],
        )
        yield browser
        browser.close()


@pytest.fixture
def page(browser, request):
    """A fresh browser context per test; a screenshot of the last state is kept on failure."""
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    # Irreversible acts ask first (data-confirm): the person agrees, and what they were asked
    # is kept for the test to check.
    page.confirmations = []

    def agree(dialog):
        page.confirmations.append(dialog.message)
        dialog.accept()

    page.on("dialog", agree)
    yield page
    artifacts = settings.BASE_DIR / "test-artifacts"
    artifacts.mkdir(exist_ok=True)
    page.screenshot(path=str(artifacts / f"{request.node.name}.png"), full_page=True)
    context.close()


def pytest_collection_modifyitems(config, items):
    """`make test` runs one pytest-xdist worker per core; the tests that share the demo portal
    go to one worker, so the portal is migrated and seeded once, not once per worker."""
    if not config.pluginmanager.hasplugin("xdist"):
        return
    for item in items:
        if "demo_portal" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.xdist_group("demo-portal"))
