"""Prometheus stops answering: the dashboards and the series API keep showing what was
collected before, and say that the source is down, since when and why; when it is back the
next pass fills in and the warning goes.

A real node_exporter scraped every second by a real Prometheus; the collection passes are the
ones beat runs (`collect_all_metrics`), against a server that is really stopped.
"""

from __future__ import annotations

import json
import re
import time

import pytest
from rest_framework.test import APIClient

from compute.collectors import catalogue
from compute.models import MetricSource, Resource
from compute.services.metrics import collection, sources
from governance.models import User
from tests.compute.metrics.promserver import scraped_node_exporter

pytestmark = [pytest.mark.django_db]

CPU_READY = 'rate(node_cpu_seconds_total{mode="idle"}[5s])'


@pytest.fixture
def prometheus():
    with scraped_node_exporter() as server:
        yield server


def cpu_chart(html: str) -> dict:
    data = re.search(r'<script id="chart-cpu-utilization-data" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(data.group(1))


def test_the_dashboards_show_the_last_data_and_why_it_is_stale_while_prometheus_is_down(prometheus, client):
    admin = User.objects.create_superuser("admin", "admin@example.org", "irrelevant-here")  # noqa: S106
    cluster = Resource.objects.create(name="Sovereign GPU cluster", kind="gpu_cluster", capacity=8, jurisdiction="EU")
    source = sources.create_source(
        admin,
        name="Cluster Prometheus",
        kind="prometheus",
        url=prometheus.url,
        resource=cluster,
        step_seconds=1,
        rate_window="5s",
    )
    prometheus.wait_for(CPU_READY)
    time.sleep(2)
    assert collection.collect_all_metrics() == 1
    client.force_login(admin)
    api = APIClient()
    api.force_authenticate(admin)
    series_url = f"/api/metrics/series/?resource={cluster.pk}&metric={catalogue.CPU_UTILIZATION}"

    prometheus.stop()
    assert collection.collect_all_metrics() == 0

    source.refresh_from_db()
    assert source.failing_since is not None
    html = client.get("/compute/dashboards/?range=1h").content.decode()
    chart = cpu_chart(html)
    [series] = chart["series"]
    assert any(value is not None for value in series["values"]), "the data collected before is still drawn"
    # The chart's data is only the line; its freshness is the line of text under the chart.
    assert "Cluster Prometheus down since" in html
    assert f"Prometheus at {prometheus.url} is unreachable" in html
    answer = api.get(series_url).json()
    [api_series] = answer["series"]
    assert any(value is not None for value in api_series["values"])
    assert api_series["freshness"]["state"] == "down"
    assert "is unreachable" in api_series["freshness"]["text"]
    assert api_series["freshness"]["since"] == source.failing_since.isoformat()

    # Back up: the next pass succeeds (the backoff only delays beat's next attempt) and the
    # warning is gone.
    prometheus.start()
    prometheus.wait_for(CPU_READY)
    assert collection.collect_all_metrics() == 1
    html = client.get("/compute/dashboards/?range=1h").content.decode()
    assert "down since" not in html
    assert "Collected just now (Cluster Prometheus)." in html
    assert api.get(series_url).json()["series"][0]["freshness"]["state"] == "fresh"
    assert MetricSource.objects.get(pk=source.pk).last_error == ""
