"""A real Prometheus (and node_exporter) on free loopback ports, for the tests and the benchmark.

Debian's packages: /usr/bin/prometheus, /usr/bin/prometheus-node-exporter, /usr/bin/promtool.
Each server gets its own temporary config and data directory; stopping and starting again
keeps the data directory, as a restarted server would.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path

PROMETHEUS = os.environ.get("PROMETHEUS_BIN", "/usr/bin/prometheus")
NODE_EXPORTER = os.environ.get("NODE_EXPORTER_BIN", "/usr/bin/prometheus-node-exporter")
PROMTOOL = os.environ.get("PROMTOOL_BIN", "/usr/bin/promtool")


def missing_binaries(*names: str) -> str | None:
    """Why the real servers cannot run here, or None."""
    for path in names or (PROMETHEUS, NODE_EXPORTER, PROMTOOL):
        if not (shutil.which(path) or os.access(path, os.X_OK)):
            return f"{path} not found: apt-get install prometheus prometheus-node-exporter"
    return None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_http(url: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310 - a loopback test URL
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{url} did not come up within {timeout:.0f} s")
        time.sleep(0.2)


class NodeExporter:
    def __init__(self) -> None:
        self.port = free_port()
        self.process: subprocess.Popen | None = None

    @property
    def address(self) -> str:
        return f"127.0.0.1:{self.port}"

    def start(self) -> None:
        # Only the collectors the portal reads: quick scrapes on a shared machine.
        self.process = subprocess.Popen(
            [
                NODE_EXPORTER,
                f"--web.listen-address={self.address}",
                "--collector.disable-defaults",
                "--collector.cpu",
                "--collector.meminfo",
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        _wait_http(f"http://{self.address}/metrics")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=15)
        self.process = None


class PrometheusServer:
    """A Prometheus scraping `targets` every `scrape_interval`, or none (for backfilled data)."""

    def __init__(self, targets: list[str] | None = None, scrape_interval: str = "1s", data_dir: str | None = None):
        self.port = free_port()
        self.home = Path(tempfile.mkdtemp(prefix="tgb-prometheus-"))
        self.data_dir = Path(data_dir) if data_dir else self.home / "data"
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.config = self.home / "prometheus.yml"
        config = {"global": {"scrape_interval": scrape_interval, "evaluation_interval": scrape_interval}}
        if targets:
            config["scrape_configs"] = [{"job_name": "node", "static_configs": [{"targets": targets}]}]
        # JSON is YAML: no YAML library needed.
        self.config.write_text(json.dumps(config))
        self.process: subprocess.Popen | None = None
        self.log = self.home / "prometheus.log"

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(
                [
                    PROMETHEUS,
                    f"--config.file={self.config}",
                    f"--storage.tsdb.path={self.data_dir}",
                    f"--web.listen-address=127.0.0.1:{self.port}",
                    "--storage.tsdb.retention.time=3650d",
                    "--log.level=warn",
                ],
                stdout=log,
                stderr=log,
            )
        try:
            _wait_http(f"{self.url}/-/ready", timeout=60)
        except RuntimeError:
            self.stop()
            raise RuntimeError(f"Prometheus did not start: {self.log.read_text()[-2000:]}") from None

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)
        self.process = None

    def cleanup(self) -> None:
        self.stop()
        shutil.rmtree(self.home, ignore_errors=True)

    def query(self, promql: str) -> list[dict]:
        url = f"{self.url}/api/v1/query?{urllib.parse.urlencode({'query': promql})}"
        with urllib.request.urlopen(url, timeout=10) as response:  # noqa: S310 - a loopback test URL
            return json.loads(response.read())["data"]["result"]

    def wait_for(self, promql: str, timeout: float = 60.0) -> list[dict]:
        """Poll an instant query until it returns something."""
        deadline = time.monotonic() + timeout
        while True:
            result = self.query(promql)
            if result:
                return result
            if time.monotonic() > deadline:
                raise RuntimeError(f"{promql} returned nothing within {timeout:.0f} s")
            time.sleep(0.5)


@contextlib.contextmanager
def scraped_node_exporter():
    """node_exporter on a free loopback port, scraped every second by a Prometheus of its own.
    Fails in CI (skips elsewhere) when either binary is missing."""
    from tests.conftest import missing

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


def create_blocks(openmetrics_path: Path, data_dir: Path) -> None:
    """Backfill TSDB blocks from an OpenMetrics file with promtool (before the server starts)."""
    subprocess.run(
        [PROMTOOL, "tsdb", "create-blocks-from", "openmetrics", str(openmetrics_path), str(data_dir)],
        check=True,
        capture_output=True,
        timeout=1800,
    )
