"""Fixtures of the metrics tests: a real Prometheus scraping a real node_exporter."""

from __future__ import annotations

import pytest

from tests.compute.metrics.promserver import NodeExporter, PrometheusServer, missing_binaries
from tests.conftest import missing


@pytest.fixture(autouse=True)
def _require_prometheus(request):
    if request.node.get_closest_marker("prometheus"):
        reason = missing_binaries()
        if reason:
            missing(reason)


@pytest.fixture
def node_prometheus():
    """node_exporter on a free loopback port, scraped every second by a Prometheus of its own."""
    reason = missing_binaries()
    if reason:
        missing(reason)
    exporter = NodeExporter()
    exporter.start()
    server = PrometheusServer(targets=[exporter.address], scrape_interval="1s")
    try:
        server.start()
        yield server
    finally:
        server.cleanup()
        exporter.stop()
