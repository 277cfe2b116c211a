"""The dashboards in a real browser: plotly (served from this site) draws the charts, with
gaps where data is missing, and the page raises no script error."""

from __future__ import annotations

import datetime

import pytest
from django.utils import timezone

from compute.models import Resource
from compute.services.metrics import store
from tests.base import make_body
from tests.browser.login import log_in

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def test_the_utilization_chart_draws_each_resource_with_its_gap(live_server, page):
    make_body()
    cluster = Resource.objects.create(name="Sovereign GPU cluster", kind="gpu_cluster", capacity=8, jurisdiction="EU")
    now = timezone.now().replace(second=0, microsecond=0)
    store.save(
        cluster.pk,
        [
            ("DCGM_FI_DEV_GPU_UTIL", now - datetime.timedelta(minutes=5 * i), 40.0 + i % 20)
            for i in range(288)
            if not 100 <= i < 130
        ],
    )
    errors = []
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on(
        "request", lambda request: errors.append(request.url) if not request.url.startswith(live_server.url) else None
    )
    log_in(page, live_server.url, "carla")
    page.goto(f"{live_server.url}/compute/dashboards/?range=24h")
    chart = page.locator("#chart-dcgm-fi-dev-gpu-util")
    chart.locator(".main-svg").first.wait_for()
    assert chart.locator(".scatterlayer .trace").count() == 1
    # The gap splits the line: plotly draws one path per continuous segment of the trace.
    assert chart.locator(".scatterlayer .trace path.js-line").count() == 2
    assert "GPU utilization by resource" in chart.inner_text()
    assert errors == []
