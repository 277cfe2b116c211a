"""The metric store: ingestion rate beside a raw COPY of the same rows, and a 30-day dashboard
query through /api/metrics/series/ beside the same query answered by a real Prometheus.

Volume (environment):
  METRICS_BENCH_RESOURCES (default 50) x METRICS_BENCH_DAYS (default 30) of 1-minute samples
  for the dashboard query; METRICS_BENCH_BATCH (default 100,000) rows per ingestion batch and
  METRICS_BENCH_REPEAT (default 5) batches. Smaller values make a quick run.
"""

from __future__ import annotations

import datetime
import json
import os
import tempfile
import time
import urllib.parse
import urllib.request
from pathlib import Path

from bench.common import free_port, median, p99, row, start_gunicorn, timings

METRIC = "DCGM_FI_DEV_GPU_UTIL"


def _env(name: str, default: int) -> int:
    return int(os.environ.get(name, default))


def _value(resource: int, minute: int) -> float:
    # A cheap deterministic wave: real-looking, and identical for the portal and Prometheus.
    return round(50 + 40 * ((minute * 7 + resource * 13) % 97) / 97 - 20 * ((minute // 60) % 2), 2)


def run() -> list[dict]:
    from django.db import connection
    from django.utils import timezone

    from compute.choices import ResourceKind
    from compute.models import Resource, Sample
    from compute.services.metrics import store

    rows_out: list[dict] = []
    n_resources = _env("METRICS_BENCH_RESOURCES", 50)
    days = _env("METRICS_BENCH_DAYS", 30)
    batch = _env("METRICS_BENCH_BATCH", 100_000)
    repeat = _env("METRICS_BENCH_REPEAT", 5)

    resources = [
        Resource.objects.create(
            name=f"Bench node {n:03d}", kind=ResourceKind.GPU_CLUSTER, capacity=8, jurisdiction="EU"
        )
        for n in range(n_resources)
    ]
    metric_id = store.metric_ids({METRIC})[METRIC]
    end = timezone.now().replace(minute=0, second=0, microsecond=0)
    start = end - datetime.timedelta(days=days)

    # --- 1. Ingestion, beside a plain COPY (executemany on SQLite) of the same rows ---------
    table = Sample._meta.db_table
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(f"CREATE TABLE bench_copy (LIKE {table} INCLUDING ALL)")
        else:
            cursor.execute(
                "CREATE TABLE bench_copy (resource_id integer, metric_id integer, time datetime, value real, "
                "PRIMARY KEY (resource_id, metric_id, time))"
            )
    ingest_resource = resources[0].pk
    batches = []
    base = start - datetime.timedelta(days=1)  # before the dashboard data: no overlap
    for b in range(repeat + 1):
        first = base - datetime.timedelta(minutes=batch * (b + 1))
        batches.append(
            [(ingest_resource, metric_id, first + datetime.timedelta(minutes=i), _value(0, i)) for i in range(batch)]
        )
    adapt = connection.ops.adapt_datetimefield_value

    def copy_baseline(rows):
        if connection.vendor == "postgresql":
            store.copy_into("bench_copy", rows)
        else:
            with connection.cursor() as cursor:
                cursor.executemany(
                    "INSERT INTO bench_copy (resource_id, metric_id, time, value) VALUES (%s, %s, %s, %s)",
                    [(r, m, adapt(t), v) for r, m, t, v in rows],
                )

    store_times, copy_times = [], []
    with _retention(days + 400):
        for i, rows in enumerate(batches):
            started = time.perf_counter()
            store.ingest(rows)
            elapsed = time.perf_counter() - started
            started = time.perf_counter()
            copy_baseline(rows)
            copy_elapsed = time.perf_counter() - started
            if i:  # the first of each is a warm-up
                store_times.append(elapsed)
                copy_times.append(copy_elapsed)
    store_rate = [batch / t for t in store_times]
    copy_rate = [batch / t for t in copy_times]
    baseline_name = "raw COPY, same rows" if connection.vendor == "postgresql" else "raw executemany, same rows"
    rows_out.append(
        row("metrics", baseline_name, median(copy_rate), None, 1.0, "samples/s", f"{batch:,} rows a batch; baseline")
    )
    rows_out.append(
        row(
            "metrics",
            "ingest: upsert + hourly + daily rollups",
            median(store_rate),
            None,
            median(store_rate) / median(copy_rate),
            "samples/s",
            "ratio vs raw copy (target >= 0.5)",
        )
    )

    # --- 2. Dashboard query: resources x days of 1-minute samples at hourly resolution -------
    minutes = days * 24 * 60
    load_started = time.perf_counter()
    total = load_history(resources, metric_id, start, minutes)
    load_seconds = time.perf_counter() - load_started
    rows_out.append(
        row("metrics", "bulk load for the query", total / load_seconds, None, None, "samples/s", f"{total:,} samples")
    )

    from django.test import Client

    from governance.models import User

    user = User.objects.create_user("bench-reader", "reader@example.org", "bench-password-1")
    client = Client(HTTP_HOST="localhost")  # the bench runs outside the test runner: a real allowed host
    client.force_login(user)
    params = {
        "resource": ",".join(str(r.pk) for r in resources),
        "metric": METRIC,
        "start": start.isoformat(),
        "end": end.isoformat(),
        "step": 3600,
    }

    def portal_query():
        response = client.get("/api/metrics/series/", params)
        assert response.status_code == 200, response.content[:300]
        return response.content

    body = json.loads(portal_query())
    assert body["resolution"] == "hour" and len(body["series"]) == n_resources
    points = sum(len(s["values"]) for s in body["series"])
    portal = timings(portal_query, repeat=30, warmup=3)
    rows_out.append(
        row(
            "metrics",
            f"series API: {n_resources} resources x {days} d, hourly",
            median(portal) * 1000,
            p99(portal) * 1000,
            None,
            "ms",
            f"{points:,} points, end to end through Django (in-process client)",
        )
    )

    # The same request over HTTP through gunicorn, as a browser or Grafana would send it.
    over_http = _portal_over_http(user, params)
    rows_out.append(
        row(
            "metrics",
            f"series API over HTTP (gunicorn): {n_resources} x {days} d, hourly",
            median(over_http) * 1000,
            p99(over_http) * 1000,
            None,
            "ms",
            f"{points:,} points; gunicorn {GUNICORN_WORKERS} workers, keep-alive client, token auth",
        )
    )

    prometheus_row = _prometheus_query(n_resources, start, end, minutes, median(over_http))
    rows_out.append(prometheus_row)
    return rows_out


GUNICORN_WORKERS = 2


def _database_url() -> str:
    """The URL of the database this benchmark wrote (the runner's throwaway one)."""
    from django.db import connection

    conf = connection.settings_dict
    if connection.vendor == "postgresql":
        auth = conf["USER"] + (f":{conf['PASSWORD']}" if conf.get("PASSWORD") else "")
        return f"postgres://{auth}@{conf['HOST'] or '127.0.0.1'}:{conf['PORT'] or 5432}/{conf['NAME']}"
    return f"sqlite:///{conf['NAME']}"


def _portal_over_http(user, params: dict) -> list[float]:
    """Seconds of each of 30 series requests to a real gunicorn on loopback (after 3 warm-ups)."""
    import http.client

    from governance.services import tokens

    token = tokens.issue_token(user, verified=False)[0]
    port = free_port()
    env = {
        **os.environ,
        "DATABASE_URL": _database_url(),
        "DJANGO_SETTINGS_MODULE": "governance.settings",
        "DEBUG": "0",
        "LOG_LEVEL": "WARNING",
    }
    server = start_gunicorn(port, workers=GUNICORN_WORKERS, env=env)
    path = f"/api/metrics/series/?{urllib.parse.urlencode(params)}"
    headers = {"Authorization": f"Token {token}", "Host": "localhost"}
    try:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=120)

        def query():
            conn.request("GET", path, headers=headers)
            response = conn.getresponse()
            body = response.read()
            assert response.status == 200, body[:300]
            return body

        return timings(query, repeat=30, warmup=3)
    finally:
        server.terminate()
        server.wait(timeout=30)


def load_history(resources, metric_id: int, start: datetime.datetime, minutes: int, progress=None) -> int:
    """Write `minutes` of 1-minute samples from `start` for each resource through the metric
    store (upsert and rollups, as the collectors write them); returns the samples written.
    `progress(done)` is called after each resource."""
    from django.utils import timezone

    from compute.services.metrics import store

    days = (timezone.now() - start).days + 1
    with _retention(days + 400):
        for n, resource in enumerate(resources):
            store.ingest(
                (resource.pk, metric_id, start + datetime.timedelta(minutes=i), _value(n, i)) for i in range(minutes)
            )
            if progress:
                progress(n + 1)
    return len(resources) * minutes


class _retention:
    """Raw retention long enough for the benchmark's history (restored afterwards)."""

    def __init__(self, days: int) -> None:
        self.days = days

    def __enter__(self):
        from django.test import override_settings

        self.override = override_settings(METRICS_RAW_RETENTION_DAYS=self.days)
        self.override.enable()

    def __exit__(self, *exc):
        self.override.disable()


def _prometheus_query(n_resources: int, start, end, minutes: int, portal_median: float) -> dict:
    """Prometheus answering the same question over HTTP; the ratio is the portal's median over it."""
    from tests.compute.metrics.promserver import PrometheusServer, create_blocks, missing_binaries

    reason = missing_binaries("/usr/bin/prometheus", "/usr/bin/promtool")
    if reason:
        return row("metrics", "Prometheus, same query", None, None, None, "ms", f"skipped: {reason}")
    with tempfile.TemporaryDirectory(prefix="tgb-bench-prom-") as work:
        work = Path(work)
        first = int(start.timestamp())
        # promtool (2.42) cuts 2-hour blocks and re-reads its whole input for each: one small
        # file per 2-hour window keeps the backfill linear.
        window = 120
        for offset in range(0, minutes, window):
            source = work / "window.om"
            with source.open("w") as out:
                out.write(f"# TYPE {METRIC} gauge\n")
                for n in range(n_resources):
                    label = f'{METRIC}{{resource="{n:03d}"}}'
                    out.writelines(
                        f"{label} {_value(n, i)} {first + 60 * i}\n"
                        for i in range(offset, min(offset + window, minutes))
                    )
                out.write("# EOF\n")
            create_blocks(source, work / "data")
        server = PrometheusServer(scrape_interval="1m", data_dir=str(work / "data"))
        try:
            server.start()
            blocks = _settle(work / "data")
            # The same question: each resource's hourly mean over the range, one point an hour.
            query = {
                "query": f"avg_over_time({METRIC}[1h])",
                "start": int(start.timestamp()) + 3600,
                "end": int(end.timestamp()),
                "step": 3600,
            }
            url = f"{server.url}/api/v1/query_range?{urllib.parse.urlencode(query)}"

            def prometheus_query():
                with urllib.request.urlopen(url, timeout=120) as response:  # noqa: S310 - loopback
                    return response.read()

            result = json.loads(prometheus_query())["data"]["result"]
            assert len(result) == n_resources, len(result)
            points = sum(len(s["values"]) for s in result)
            samples = timings(prometheus_query, repeat=30, warmup=3)
        finally:
            server.cleanup()
    return row(
        "metrics",
        "Prometheus 2.42, same query",
        median(samples) * 1000,
        p99(samples) * 1000,
        portal_median / median(samples),
        "ms",
        f"{points:,} points over HTTP, {blocks} TSDB blocks; ratio = portal over gunicorn / Prometheus (target <= 0.5)",
    )


def _settle(data_dir: Path, timeout: float = 300) -> int:
    """Wait for Prometheus to compact the backfilled 2-hour blocks into larger ones, as a
    server that has run for a month would have them; returns the number of blocks left."""

    def count() -> int:
        return sum(1 for p in data_dir.iterdir() if p.is_dir() and (p / "meta.json").exists())

    started = time.monotonic()
    deadline = started + timeout
    last, steady = count(), 0
    # Prometheus plans compactions once a minute: give it at least two rounds.
    while time.monotonic() < deadline and (steady < 5 or time.monotonic() - started < 130):
        time.sleep(3)
        now = count()
        steady = steady + 1 if now == last else 0
        last = now
    return last
