"""The dashboards in a real browser: plotly (served from this site) draws the charts, with
gaps where data is missing, no line for a resource no source collects, the legend clear of
the axis title, the security trend as one small chart per resource; axe-clean and without
sideways scroll at 1366 and 390 px, and the page raises no script error. Screenshots go to
test-artifacts/dashboards/."""

from __future__ import annotations

import datetime
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone

from compute.models import MetricSource, Resource, SecurityScan
from compute.services.metrics import sources, store
from tests.base import make_body
from tests.browser.axe import violations
from tests.browser.login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHOTS = Path(settings.BASE_DIR) / "test-artifacts" / "dashboards"
NO_SIDEWAYS_SCROLL = "document.documentElement.scrollWidth <= window.innerWidth"
OVERLAP = """(chart) => {
    const a = chart.querySelector('.legend'), b = chart.querySelector('.g-xtitle');
    if (!a || !b) { return 'missing ' + (!a ? 'legend' : 'x title'); }
    const r = a.getBoundingClientRect(), s = b.getBoundingClientRect();
    return (r.left < s.right && s.left < r.right && r.top < s.bottom && s.top < r.bottom) ? 'overlap' : 'clear';
}"""


def _history(now):
    body = make_body()
    cluster = Resource.objects.create(name="Sovereign GPU cluster", kind="gpu_cluster", capacity=8, jurisdiction="EU")
    orphan = Resource.objects.create(name="Unwatched GPUs", kind="gpu_cluster", capacity=8, jurisdiction="EU")
    storage = Resource.objects.create(name="Object store", kind="storage", capacity=100, jurisdiction="EU")
    for resource, base in ((cluster, 40.0), (orphan, 80.0), (storage, 5.0)):
        store.save(
            resource.pk,
            [
                ("DCGM_FI_DEV_GPU_UTIL", now - datetime.timedelta(minutes=5 * i), base + i % 20)
                for i in range(288)
                if not 100 <= i < 130
            ],
        )
    for resource in (cluster, storage):
        source = sources.create_source(body.admin, name=f"Agent of {resource.name}", kind="push", resource=resource)
        MetricSource.objects.filter(pk=source.pk).update(last_success_at=now - datetime.timedelta(minutes=2))
    for n, resource in enumerate((cluster, orphan, storage)):
        for week in range(10):
            when = now - datetime.timedelta(days=70 - 7 * week)
            SecurityScan.objects.create(
                resource=resource, kind="lynis", scanned_at=when, score=45 + 12 * n + 2 * week, digest=f"l{n}{week}"
            )
            SecurityScan.objects.create(
                resource=resource, kind="openscap", scanned_at=when, score=60 - 5 * n + week, digest=f"o{n}{week}"
            )
    return body


@pytest.mark.parametrize("width", [1366, 390])
def test_the_dashboards_draw_only_collected_data_clearly(live_server, page, width):
    now = timezone.now().replace(second=0, microsecond=0)
    _history(now)
    SHOTS.mkdir(parents=True, exist_ok=True)
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "request", lambda request: errors.append(request.url) if not request.url.startswith(live_server.url) else None
    )
    page.set_viewport_size({"width": width, "height": 900})
    log_in(page, live_server.url, "carla")
    page.goto(f"{live_server.url}/compute/dashboards/?range=24h")
    chart = page.locator("#chart-dcgm-fi-dev-gpu-util")
    chart.locator(".main-svg").first.wait_for()
    # One line: the collected cluster. Not the resource no source collects, not the storage.
    assert chart.locator(".scatterlayer .trace").count() == 1
    # The gap splits the line: plotly draws one path per continuous segment of the trace.
    assert chart.locator(".scatterlayer .trace path.js-line").count() == 2
    assert chart.locator(".legend .traces").count() == 1
    assert "Sovereign GPU cluster" in chart.locator(".legend").text_content()
    assert chart.evaluate(OVERLAP) == "clear"
    assert page.evaluate(NO_SIDEWAYS_SCROLL), page.evaluate("document.documentElement.scrollWidth")
    assert violations(page) == []
    page.screenshot(path=str(SHOTS / f"utilization-{width}.png"), full_page=True)

    page.goto(f"{live_server.url}/compute/dashboards/security/")
    smalls = page.locator('[data-chart="trend"]')
    assert smalls.count() == 3  # one scores chart per resource
    for n in range(3):
        smalls.nth(n).locator(".main-svg").first.wait_for()
        assert smalls.nth(n).locator(".scatterlayer .trace").count() == 2  # OpenSCAP and Lynis
    assert "since " in page.locator("#trend-title").inner_text()
    assert page.evaluate(NO_SIDEWAYS_SCROLL), page.evaluate("document.documentElement.scrollWidth")
    assert violations(page) == []
    page.screenshot(path=str(SHOTS / f"security-{width}.png"), full_page=True)
    assert errors == []
