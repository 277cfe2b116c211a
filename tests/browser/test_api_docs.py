"""The interactive API docs work offline, under the strict Content-Security-Policy."""

import pytest

from tests.base import make_body
from tests.browser.login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_api_docs_render_from_local_assets_without_csp_violations(live_server, page):
    make_body()
    violations, outside = [], []
    page.on(
        "console",
        lambda message: violations.append(message.text) if "Content Security Policy" in message.text else None,
    )
    page.on(
        "request", lambda request: outside.append(request.url) if not request.url.startswith(live_server.url) else None
    )
    log_in(page, live_server.url, "carla")
    page.goto(f"{live_server.url}/api/docs/")
    page.locator(".swagger-ui .info .title").wait_for()
    assert "TGB portal API" in page.locator(".swagger-ui .info .title").inner_text()
    assert page.get_by_text("/api/committees/").first.is_visible()
    assert violations == []
    assert [url for url in outside if not url.startswith("data:")] == []
