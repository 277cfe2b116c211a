"""Collection passes over metric sources and pushed batches.

Collection is idempotent by construction: every source asks for instants aligned to its step,
and the store upserts on (resource, metric, time). A source that fails records why and since
when, backs off, and never stops the others.
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from compute.choices import MetricSourceKind
from compute.collectors import local, push
from compute.collectors.prometheus import CollectorError, PrometheusClient
from compute.models import MetricSource
from compute.services.metrics import attribution, store

logger = logging.getLogger(__name__)


# Backoff between beat-driven attempts at a failing source: 1, 2, 4 … minutes, at most 30.
MAX_BACKOFF = datetime.timedelta(minutes=30)
# A Prometheus sample may land a scrape interval late; the newest instants are re-read next pass.
REREAD = 2


@dataclass
class CollectionResult:
    source: str
    stored: int = 0
    attributed: int = 0
    error: str = ""
    skipped: str = ""
    note: str = ""


def _collect_prometheus(source: MetricSource, now: datetime.datetime) -> tuple[int, datetime.datetime]:
    step = source.step_seconds
    earliest = now - datetime.timedelta(hours=settings.METRICS_MAX_BACKFILL_HOURS)
    if source.collected_until:
        start = max(source.collected_until - datetime.timedelta(seconds=REREAD * step), earliest)
    else:
        start = now - datetime.timedelta(hours=settings.METRICS_INITIAL_BACKFILL_HOURS)
    client = PrometheusClient(source.url, bearer_token=source.bearer_token, timeout=settings.METRICS_HTTP_TIMEOUT)
    rows: list[tuple[str, datetime.datetime, float]] = []
    for name, query in source.effective_queries().items():
        for series in client.query_range(query, start, now, step):
            rows.extend((name, moment, value) for moment, value in series.points)
    return store.save(source.resource_id, rows), now


def _collect_local(source: MetricSource, now: datetime.datetime) -> tuple[int, datetime.datetime]:
    reading = local.read_host()
    step = source.step_seconds
    # One reading per step: a second pass within the same step overwrites it, never adds one.
    moment = datetime.datetime.fromtimestamp(int(now.timestamp()) // step * step, tz=datetime.UTC)
    source.status_note = " ".join(reading.notes)[:500]
    rows = [(name, moment, value) for name, value in reading.values.items()]
    return store.save(source.resource_id, rows), now


def _record_success(source: MetricSource, now: datetime.datetime, collected_until: datetime.datetime) -> None:
    MetricSource.objects.filter(pk=source.pk).update(
        last_success_at=now,
        last_error="",
        failing_since=None,
        consecutive_failures=0,
        next_attempt_at=None,
        collected_until=collected_until,
        status_note=source.status_note,
    )


def _record_failure(source: MetricSource, now: datetime.datetime, error: Exception) -> None:
    failures = source.consecutive_failures + 1
    backoff = min(datetime.timedelta(minutes=2 ** (failures - 1)), MAX_BACKOFF)
    MetricSource.objects.filter(pk=source.pk).update(
        last_error=str(error)[:2000],
        last_error_at=now,
        failing_since=source.failing_since or now,
        consecutive_failures=F("consecutive_failures") + 1,
        next_attempt_at=now + backoff,
    )


def collect_source(source_id: int, *, now: datetime.datetime | None = None) -> CollectionResult:
    """One collection pass over one source. Records success or the error; re-raises a
    CollectorError after recording it, so the Celery task can retry with backoff."""
    source = MetricSource.objects.select_related("resource").get(pk=source_id)
    result = CollectionResult(source=source.name)
    if not source.enabled:
        result.skipped = "disabled"
        return result
    if source.kind == MetricSourceKind.PUSH:
        result.skipped = "push sources are written by their agents"
        return result
    now = now or timezone.now()
    try:
        if source.kind == MetricSourceKind.PROMETHEUS:
            result.stored, until = _collect_prometheus(source, now)
            result.attributed = len(attribution.attribute_usage(source, now=now))
        else:
            result.stored, until = _collect_local(source, now)
    except CollectorError as error:
        _record_failure(source, now, error)
        logger.warning("Metric source %s failed: %s", source.name, error)
        result.error = str(error)
        raise
    _record_success(source, now, until)
    result.note = source.status_note
    return result


def due_sources(now: datetime.datetime | None = None) -> list[int]:
    """Enabled pulled sources not waiting out a backoff."""
    now = now or timezone.now()
    sources = MetricSource.objects.filter(enabled=True).exclude(kind=MetricSourceKind.PUSH)
    return [
        pk
        for pk, next_attempt in sources.values_list("pk", "next_attempt_at")
        if next_attempt is None or next_attempt <= now
    ]


def collect_all_metrics(report: Callable[[CollectionResult], None] | None = None) -> int:
    """One synchronous pass over every enabled pulled source, by name (the `collect_metrics`
    command; beat's tick enqueues one task per due source instead).

    A failing source is recorded and skipped; the others are still collected. `report` hears
    each source's result (a failed one with its `error`). Returns the number of sources
    collected successfully."""
    collected = 0
    sources = MetricSource.objects.filter(enabled=True).exclude(kind=MetricSourceKind.PUSH).order_by("name")
    for source_id, name in sources.values_list("pk", "name"):
        try:
            result = collect_source(source_id)
        except CollectorError as error:
            # Recorded on the source; the next one must still run.
            result = CollectionResult(source=name, error=str(error))
        else:
            collected += 1
        if report is not None:
            report(result)
    return collected


# --- Push API -----------------------------------------------------------------------------


def ingest_push(source: MetricSource, body: bytes) -> dict:
    """Store a batch an agent pushed. The whole batch is checked first: a defect anywhere
    refuses it with nothing stored."""
    if not source.enabled:
        raise PermissionDenied("This metric source is disabled.")
    if source.kind != MetricSourceKind.PUSH:
        raise PermissionDenied("This token belongs to a source that does not take pushed samples.")
    now = timezone.now()
    rows, missing = push.parse_batch(body, max_samples=settings.METRICS_PUSH_MAX_SAMPLES, now=now)
    horizon = store.raw_horizon(now)
    too_old = sum(1 for _, moment, _ in rows if moment < horizon)
    with transaction.atomic():
        stored = store.save(source.resource_id, rows) if rows else 0
        MetricSource.objects.filter(pk=source.pk).update(
            last_success_at=now,
            last_error="",
            failing_since=None,
            collected_until=max((m for _, m, _ in rows), default=source.collected_until),
        )
    return {"accepted": len(rows), "stored": stored, "missing": missing, "too_old": too_old}


def purge_raw_samples() -> int:
    """Drop raw samples older than the raw horizon (the rollups keep them)."""
    return store.purge_raw()
