"""Fixtures of the metrics tests: a real Prometheus scraping a real node_exporter."""

from __future__ import annotations

import pytest

from tests.compute.metrics.promserver import missing_binaries, scraped_node_exporter
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
    with scraped_node_exporter() as server:
        yield server
