"""Collection from a real Prometheus scraping a real node_exporter (Debian's packages), started
on free loopback ports for these tests."""

from __future__ import annotations

import datetime
import time
from decimal import Decimal
from pathlib import Path

import pytest
from django.db.models import Count
from django.utils import timezone

from charters.models import Charter
from compute import selectors
from compute.collectors.prometheus import MAX_POINTS_PER_CHUNK, PrometheusClient, SourceUnavailable
from compute.models import DailyRollup, HourlyRollup, MetricSource, Resource, Sample, UsageAttribution
from compute.services.metrics import attribution, collection, sources
from governance.choices import Sector
from governance.models import Committee, Organization, User
from tests.compute.metrics.promserver import PrometheusServer, create_blocks, free_port, missing_binaries
from tests.conftest import missing

pytestmark = [pytest.mark.prometheus, pytest.mark.django_db]


@pytest.fixture
def admin():
    return User.objects.create_superuser("admin", "admin@example.org", "correct-horse-battery-staple")


@pytest.fixture
def cluster():
    return Resource.objects.create(name="Sovereign GPU cluster", kind="gpu_cluster", capacity=8, jurisdiction="EU")


def prometheus_source(admin, resource, url, **extra) -> MetricSource:
    return sources.create_source(
        admin,
        name=f"Prometheus {resource.name}",
        kind="prometheus",
        url=url,
        resource=resource,
        step_seconds=1,
        rate_window="5s",
        **extra,
    )


def cpu_samples(resource):
    return Sample.objects.filter(resource=resource, metric__name="cpu_utilization")


def test_a_collection_pass_stores_real_cpu_samples(node_prometheus, admin, cluster):
    source = prometheus_source(admin, cluster, node_prometheus.url)
    node_prometheus.wait_for('rate(node_cpu_seconds_total{mode="idle"}[5s])')
    time.sleep(3)

    result = collection.collect_source(source.pk)

    assert result.stored > 0
    values = list(cpu_samples(cluster).values_list("value", flat=True))
    assert len(values) >= 2
    assert all(0 <= v <= 100 for v in values)
    # Memory comes from node_exporter too; the DCGM metrics are absent here and stay absent
    # (no zero rows stand in for them).
    assert Sample.objects.filter(resource=cluster, metric__name="memory_utilization").exists()
    assert not Sample.objects.filter(resource=cluster, metric__name__startswith="DCGM_").exists()
    source.refresh_from_db()
    assert source.last_success_at is not None
    assert source.last_error == ""
    # The rollups follow the raw samples in the same pass.
    hourly = HourlyRollup.objects.filter(resource=cluster, metric__name="cpu_utilization")
    assert sum(h.count for h in hourly) == len(values)
    assert DailyRollup.objects.filter(resource=cluster, metric__name="cpu_utilization").exists()


def test_a_second_pass_adds_no_duplicates(node_prometheus, admin, cluster):
    source = prometheus_source(admin, cluster, node_prometheus.url)
    node_prometheus.wait_for('rate(node_cpu_seconds_total{mode="idle"}[5s])')
    time.sleep(3)
    now = timezone.now()
    collection.collect_source(source.pk, now=now)
    first = set(cpu_samples(cluster).values_list("time", flat=True))

    # The same instant again: nothing new.
    collection.collect_source(source.pk, now=now)
    assert set(cpu_samples(cluster).values_list("time", flat=True)) == first
    assert cpu_samples(cluster).count() == len(first)

    # Later: the overlap is read again, only the new instants are added.
    time.sleep(2)
    collection.collect_source(source.pk)
    times = list(cpu_samples(cluster).values_list("time", flat=True))
    assert len(times) == len(set(times))
    assert set(times) > first
    hourly_count = sum(
        HourlyRollup.objects.filter(resource=cluster, metric__name="cpu_utilization").values_list("count", flat=True)
    )
    assert hourly_count == len(times)


def test_a_stopped_prometheus_is_recorded_and_the_next_pass_after_restart_fills_in(node_prometheus, admin, cluster):
    source = prometheus_source(admin, cluster, node_prometheus.url)
    node_prometheus.wait_for('rate(node_cpu_seconds_total{mode="idle"}[5s])')
    time.sleep(2)
    collection.collect_source(source.pk)
    source.refresh_from_db()
    collected_until = source.collected_until
    before = cpu_samples(cluster).count()
    time.sleep(3)  # data the next pass has not read yet

    node_prometheus.stop()
    with pytest.raises(SourceUnavailable):
        collection.collect_source(source.pk)
    source.refresh_from_db()
    assert "unreachable" in source.last_error
    assert source.failing_since is not None
    assert source.consecutive_failures == 1
    assert source.next_attempt_at > timezone.now()
    assert source.collected_until == collected_until  # nothing was skipped over
    assert selectors.freshness(source)["state"] == "down"
    assert "down since" in selectors.freshness(source)["text"]

    node_prometheus.start()
    node_prometheus.wait_for('rate(node_cpu_seconds_total{mode="idle"}[5s])')
    collection.collect_source(source.pk)
    source.refresh_from_db()
    assert source.last_error == ""
    assert source.failing_since is None
    assert source.consecutive_failures == 0
    # The seconds scraped before the stop, which the failed pass could not read, are in now.
    filled = cpu_samples(cluster).filter(
        time__gt=collected_until, time__lt=collected_until + datetime.timedelta(seconds=3)
    )
    assert filled.exists()
    assert cpu_samples(cluster).count() > before


def test_a_down_source_never_stops_the_others(node_prometheus, admin, cluster):
    other = Resource.objects.create(name="Research CPU pool", kind="cpu_pool", capacity=64, jurisdiction="EU")
    down = prometheus_source(admin, other, f"http://127.0.0.1:{free_port()}")
    up = prometheus_source(admin, cluster, node_prometheus.url)
    node_prometheus.wait_for('rate(node_cpu_seconds_total{mode="idle"}[5s])')
    time.sleep(2)

    collected = collection.collect_all_metrics()

    assert collected == 1
    down.refresh_from_db()
    up.refresh_from_db()
    assert down.last_error and down.failing_since
    assert up.last_success_at and not up.last_error
    assert cpu_samples(cluster).exists()


@pytest.fixture
def eager_celery(settings):
    """Tasks run in this thread, their retries too, and a final failure is returned, not raised.

    Celery reads these from the Django settings (config_from_object), so they are set there."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    settings.CELERY_TASK_EAGER_PROPAGATES = False
    return settings


def test_the_celery_task_retries_an_unreachable_source_with_backoff(admin, cluster, eager_celery):
    from compute import tasks

    down = prometheus_source(admin, cluster, f"http://127.0.0.1:{free_port()}")
    assert SourceUnavailable in tasks.collect_source.autoretry_for
    assert tasks.collect_source.retry_backoff

    # Eagerly, Celery runs the retries at once (the countdowns only apply on a worker).
    result = tasks.collect_source.apply(args=[down.pk], throw=False)

    assert isinstance(result.result, SourceUnavailable)

    down.refresh_from_db()
    # The first try and every retry reached the source and were recorded.
    assert down.consecutive_failures == tasks.collect_source.max_retries + 1
    # Beat leaves a backing-off source alone until its next attempt is due.
    assert down.pk not in collection.due_sources()


@pytest.fixture
def backfilled_prometheus(tmp_path):
    """A Prometheus holding four hours of DCGM samples backfilled with promtool, every 15 s:
    GPU 0 and 1 held by charter A throughout, GPU 2 by charter B for the last two hours,
    GPU 3 idle (no project label)."""
    reason = missing_binaries()
    if reason:
        missing(reason)
    end = int(time.time()) // 3600 * 3600  # the top of the current hour
    start = end - 4 * 3600
    lines = ["# TYPE DCGM_FI_DEV_GPU_UTIL gauge"]
    for gpu, project, since in (
        ("0", "alpha", start),
        ("1", "alpha", start),
        ("2", "beta", end - 7200),
        ("3", "", start),
    ):
        labels = f'gpu="{gpu}",Hostname="node-1"' + (f',project="{project}"' if project else "")
        lines.extend(f"DCGM_FI_DEV_GPU_UTIL{{{labels}}} {50 + int(gpu)} {t}" for t in range(since, end, 15))
    lines.append("# EOF")
    path = tmp_path / "dcgm.om"
    path.write_text("\n".join(lines) + "\n")
    server = PrometheusServer(scrape_interval="15s", data_dir=str(tmp_path / "data"))
    create_blocks(path, Path(server.data_dir))
    try:
        server.start()
        server.wait_for("count_over_time(DCGM_FI_DEV_GPU_UTIL[6h])", timeout=60)
        server.window = (start, end)
        yield server
    finally:
        server.cleanup()


def test_a_long_range_is_asked_for_in_chunks_prometheus_accepts(backfilled_prometheus):
    start, end = backfilled_prometheus.window
    client = PrometheusClient(backfilled_prometheus.url)
    # Four hours at one-second steps: 14,400 points, past Prometheus's 11,000-point limit.
    series = client.query_range(
        'DCGM_FI_DEV_GPU_UTIL{gpu="0"}',
        datetime.datetime.fromtimestamp(start, tz=datetime.UTC),
        datetime.datetime.fromtimestamp(end - 1, tz=datetime.UTC),
        1,
    )
    assert len(series) == 1
    points = series[0].points
    assert len(points) > MAX_POINTS_PER_CHUNK
    times = [t for t, _ in points]
    assert len(times) == len(set(times)) == 4 * 3600
    assert all(isinstance(v, float) and v == 50.0 for _, v in points)


def test_gpu_hours_are_attributed_per_charter_per_hour_from_prometheus_labels(backfilled_prometheus, admin, cluster):
    start, end = backfilled_prometheus.window
    organization = Organization.objects.create(name="Ministry", sector=Sector.PUBLIC)
    committee = Committee.objects.create(name="TGB")

    def charter(title):
        return Charter.objects.create(
            committee=committee,
            title=title,
            summary="-",
            lead_organization=organization,
            ip_framework="joint_pool",
            created_by=admin,
        )

    alpha, beta = charter("Alpha"), charter("Beta")
    source = sources.create_source(
        admin,
        name="DCGM",
        kind="prometheus",
        url=backfilled_prometheus.url,
        resource=cluster,
        step_seconds=60,
        charter_label="project",
        charter_map={"alpha": alpha.pk, "beta": beta.pk},
    )
    now = datetime.datetime.fromtimestamp(end, tz=datetime.UTC) + datetime.timedelta(minutes=10)

    rows = attribution.attribute_usage(source, now=now)

    hours = {(r.charter_id, r.hour): r.unit_hours for r in rows}
    first_hour = datetime.datetime.fromtimestamp(end - 3 * 3600, tz=datetime.UTC)
    last_hour = datetime.datetime.fromtimestamp(end - 3600, tz=datetime.UTC)
    assert hours[(alpha.pk, last_hour)] == Decimal("2.0000")  # two GPUs for the whole hour
    assert hours[(beta.pk, last_hour)] == Decimal("1.0000")
    assert hours[(alpha.pk, first_hour)] == Decimal("2.0000")
    assert (beta.pk, first_hour) not in hours  # beta held nothing then
    assert all(r.source == f"metric-source:{source.pk}" for r in rows)
    stored = UsageAttribution.objects.filter(source=source)
    assert stored.count() == len(rows)
    assert not stored.values("charter", "hour").annotate(n=Count("pk")).filter(n__gt=1).exists()

    # Attributed hours are not attributed again.
    assert attribution.attribute_usage(source, now=now) == []
    assert UsageAttribution.objects.filter(source=source).count() == len(rows)
