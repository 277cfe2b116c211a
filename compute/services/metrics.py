"""Metrics: sources, collection passes, pushed batches, usage attribution and series reads.

Collection is idempotent by construction: every source asks for instants aligned to its step,
and the store upserts on (resource, metric, time). A source that fails records why and since
when, backs off, and never stops the others.
"""

from __future__ import annotations

import datetime
import logging
import math
import secrets
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.timesince import timesince

from charters.models import Charter
from compute.choices import MetricSourceKind
from compute.collectors import catalogue, local, push
from compute.collectors.prometheus import CollectorError, PrometheusClient, Series
from compute.models import Metric, MetricSource, Resource, UsageAttribution
from compute.models.metrics import hash_token
from compute.services import metric_store
from governance.audit import record_event, snapshot
from governance.roles import is_administrator

logger = logging.getLogger(__name__)

SOURCE_FIELDS = [
    "name",
    "kind",
    "resource",
    "enabled",
    "url",
    "queries",
    "selector",
    "rate_window",
    "charter_label",
    "charter_map",
    "step_seconds",
]
# Backoff between beat-driven attempts at a failing source: 1, 2, 4 … minutes, at most 30.
MAX_BACKOFF = datetime.timedelta(minutes=30)
# A Prometheus sample may land a scrape interval late; the newest instants are re-read next pass.
REREAD = 2
# Usage of an hour is attributed once its last scrapes have surely arrived.
ATTRIBUTION_LAG = datetime.timedelta(minutes=5)


def _require_admin(actor) -> None:
    if not is_administrator(actor):
        raise PermissionDenied("Only portal administrators manage metric sources.")


# --- Sources ------------------------------------------------------------------------------


def _new_token() -> str:
    return f"tgbm_{secrets.token_urlsafe(32)}"


@transaction.atomic
def create_source(actor, **fields: Any) -> MetricSource:
    """Register a metric source. A push source gets its token here, shown once (`plain_token`)."""
    _require_admin(actor)
    bearer_token = fields.pop("bearer_token", "")
    source = MetricSource(**{k: v for k, v in fields.items() if k in SOURCE_FIELDS}, bearer_token=bearer_token or "")
    token = _new_token() if source.kind == MetricSourceKind.PUSH else ""
    source.token_hash = hash_token(token) if token else ""
    source.full_clean()
    source.save()
    source.plain_token = token
    record_event(actor, "metric_source.created", source, after=snapshot(source, SOURCE_FIELDS))
    return source


@transaction.atomic
def update_source(actor, source: MetricSource, **fields: Any) -> MetricSource:
    """Change a source's settings; the kind is fixed once created (its token and state depend on it)."""
    _require_admin(actor)
    if "kind" in fields and fields["kind"] != source.kind:
        raise ValidationError({"kind": "A source's kind cannot change; create a new source instead."})
    before = snapshot(source, SOURCE_FIELDS)
    if "bearer_token" in fields:
        source.bearer_token = fields.pop("bearer_token") or ""
    for name, value in fields.items():
        if name in SOURCE_FIELDS:
            setattr(source, name, value)
    source.full_clean()
    source.save()
    record_event(actor, "metric_source.updated", source, before=before, after=snapshot(source, SOURCE_FIELDS))
    return source


@transaction.atomic
def rotate_token(actor, source: MetricSource) -> str:
    """Give a push source a new token; the old one stops working at once."""
    _require_admin(actor)
    if source.kind != MetricSourceKind.PUSH:
        raise ValidationError("Only a push source has a token.")
    token = _new_token()
    source.token_hash = hash_token(token)
    source.save(update_fields=["token_hash", "updated_at"])
    record_event(actor, "metric_source.token_rotated", source)
    return token


def source_for_token(token: str) -> MetricSource | None:
    if not token:
        return None
    return MetricSource.objects.select_related("resource").filter(token_hash=hash_token(token)).first()


# --- Metric names -------------------------------------------------------------------------


def metric_ids(names: set[str]) -> dict[str, int]:
    """Ids of the named metrics, registering the ones seen for the first time."""
    known = dict(Metric.objects.filter(name__in=names).values_list("name", "id"))
    missing = names - known.keys()
    if missing:
        Metric.objects.bulk_create(
            [Metric(name=n, unit=catalogue.info(n).unit, label=catalogue.info(n).label) for n in sorted(missing)],
            ignore_conflicts=True,
        )
        known = dict(Metric.objects.filter(name__in=names).values_list("name", "id"))
    return known


def store(resource_id: int, rows: list[tuple[str, datetime.datetime, float]]) -> int:
    """Upsert (metric name, time, value) rows of one resource into the store."""
    ids = metric_ids({name for name, _, _ in rows})
    return metric_store.ingest((resource_id, ids[name], moment, value) for name, moment, value in rows)


# --- Collection ---------------------------------------------------------------------------


@dataclass
class CollectionResult:
    source: str
    stored: int = 0
    attributed: int = 0
    error: str = ""
    skipped: str = ""


def _collect_prometheus(source: MetricSource, now: datetime.datetime) -> tuple[int, datetime.datetime]:
    step = source.step_seconds
    earliest = now - datetime.timedelta(hours=settings.METRICS_MAX_BACKFILL_HOURS)
    if source.collected_until:
        start = max(source.collected_until - datetime.timedelta(seconds=REREAD * step), earliest)
    else:
        start = now - datetime.timedelta(hours=settings.METRICS_INITIAL_BACKFILL_HOURS)
    client = PrometheusClient(source.url, bearer_token=source.bearer_token, timeout=settings.METRICS_HTTP_TIMEOUT)
    rows = []
    for name, query in source.effective_queries().items():
        for series in client.query_range(query, start, now, step):
            rows.extend((name, moment, value) for moment, value in series.points)
    return store(source.resource_id, rows), now


def _collect_local(source: MetricSource, now: datetime.datetime) -> tuple[int, datetime.datetime]:
    reading = local.read_host()
    step = source.step_seconds
    # One reading per step: a second pass within the same step overwrites it, never adds one.
    moment = datetime.datetime.fromtimestamp(int(now.timestamp()) // step * step, tz=datetime.UTC)
    source.status_note = " ".join(reading.notes)[:500]
    rows = [(name, moment, value) for name, value in reading.values.items()]
    return store(source.resource_id, rows), now


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
            result.attributed = len(attribute_usage(source, now=now))
        else:
            result.stored, until = _collect_local(source, now)
    except CollectorError as error:
        _record_failure(source, now, error)
        logger.warning("Metric source %s failed: %s", source.name, error)
        result.error = str(error)
        raise
    _record_success(source, now, until)
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


def collect_all_metrics() -> int:
    """One synchronous pass over every enabled source (the `collect_metrics` command).

    A failing source is recorded and skipped; the others are still collected. Returns the
    number of sources collected successfully."""
    collected = 0
    for source_id in (
        MetricSource.objects.filter(enabled=True).exclude(kind=MetricSourceKind.PUSH).values_list("pk", flat=True)
    ):
        try:
            collect_source(source_id)
            collected += 1
        except CollectorError:
            continue  # recorded on the source; the next one must still run
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
    horizon = metric_store.raw_horizon(now)
    too_old = sum(1 for _, moment, _ in rows if moment < horizon)
    with transaction.atomic():
        stored = store(source.resource_id, rows) if rows else 0
        MetricSource.objects.filter(pk=source.pk).update(
            last_success_at=now,
            last_error="",
            failing_since=None,
            collected_until=max((m for _, m, _ in rows), default=source.collected_until),
        )
    return {"accepted": len(rows), "stored": stored, "missing": missing, "too_old": too_old}


# --- Usage attribution --------------------------------------------------------------------


@dataclass(frozen=True)
class UsageRow:
    """What the ledger's post_usage takes: unit-hours per charter per resource per hour."""

    source: str
    resource_id: int
    charter_id: int
    hour: datetime.datetime
    unit_hours: Decimal


def ledger_source_key(source: MetricSource) -> str:
    """The `source` of the ledger's idempotency key: stable across renames of the source."""
    return f"metric-source:{source.pk}"


def usage_rows(
    series: list[Series], *, source_key: str, resource_id: int, step: int, label: str, charters: dict[str, int]
) -> tuple[list[UsageRow], set[str]]:
    """GPU-hours per charter and hour from `count by (label)` series sampled every `step` s.

    Each point counts the GPUs a charter held for the step that starts at it; a missing point
    (no scrape) charges nothing. Returns the rows and the label values no charter matched."""
    totals: dict[tuple[int, datetime.datetime], float] = defaultdict(float)
    unmatched: set[str] = set()
    for item in series:
        value = item.labels.get(label, "")
        charter_id = charters.get(value)
        if charter_id is None:
            unmatched.add(value)
            continue
        for moment, gpus in item.points:
            hour = moment.replace(minute=0, second=0, microsecond=0)
            totals[(charter_id, hour)] += gpus * step / 3600
    rows = [
        UsageRow(source_key, resource_id, charter_id, hour, Decimal(str(round(total, 4))).quantize(Decimal("0.0001")))
        for (charter_id, hour), total in sorted(totals.items(), key=lambda item: (item[0][1], item[0][0]))
        if total > 0
    ]
    return rows, unmatched


def charter_lookup(source: MetricSource, values: set[str]) -> dict[str, int]:
    """Label value → charter id: the source's explicit mapping first, else the value as an id."""
    wanted: dict[str, int] = {}
    for value in values:
        if value in source.charter_map:
            wanted[value] = source.charter_map[value]
        elif value.isdigit():
            wanted[value] = int(value)
    existing = set(Charter.objects.filter(pk__in=set(wanted.values())).values_list("pk", flat=True))
    return {value: pk for value, pk in wanted.items() if pk in existing}


def attribute_usage(source: MetricSource, *, now: datetime.datetime | None = None) -> list[UsageRow]:
    """Attribute every complete hour since the last one attributed; store and post the rows."""
    query = source.attribution_query()
    if not query:
        return []
    now = now or timezone.now()
    last_complete = (now - ATTRIBUTION_LAG).replace(minute=0, second=0, microsecond=0)
    first = source.attributed_until or last_complete - datetime.timedelta(hours=settings.METRICS_INITIAL_BACKFILL_HOURS)
    first = max(first, now - datetime.timedelta(hours=settings.METRICS_MAX_BACKFILL_HOURS)).replace(
        minute=0, second=0, microsecond=0
    )
    if first >= last_complete:
        return []
    step = source.step_seconds
    client = PrometheusClient(source.url, bearer_token=source.bearer_token, timeout=settings.METRICS_HTTP_TIMEOUT)
    series = client.query_range(query, first, last_complete - datetime.timedelta(seconds=step), step)
    values = {item.labels.get(source.charter_label, "") for item in series}
    rows, unmatched = usage_rows(
        series,
        source_key=ledger_source_key(source),
        resource_id=source.resource_id,
        step=step,
        label=source.charter_label,
        charters=charter_lookup(source, values),
    )
    save_attribution(source, rows)
    note = f"Unattributed {source.charter_label} values: {', '.join(sorted(unmatched))[:300]}" if unmatched else ""
    MetricSource.objects.filter(pk=source.pk).update(attributed_until=last_complete, status_note=note)
    source.status_note, source.attributed_until = note, last_complete
    return rows


def save_attribution(source: MetricSource, rows: list[UsageRow]) -> None:
    """Keep the rows, and hand each to the ledger's post_usage where that service exists.

    The ledger is idempotent on (source, resource, charter, hour), so a row posted twice is
    charged once; `posted_at` records that the ledger took it."""
    post_usage = _ledger_post_usage()
    for row in rows:
        with transaction.atomic():
            attribution, _ = UsageAttribution.objects.get_or_create(
                source=source,
                resource_id=row.resource_id,
                charter_id=row.charter_id,
                hour=row.hour,
                defaults={"unit_hours": row.unit_hours},
            )
            if post_usage and attribution.posted_at is None:
                post_usage(
                    source=row.source,
                    resource=Resource.objects.get(pk=row.resource_id),
                    charter=Charter.objects.get(pk=row.charter_id),
                    hour=row.hour,
                    unit_hours=attribution.unit_hours,
                )
                UsageAttribution.objects.filter(pk=attribution.pk).update(posted_at=timezone.now())


def _ledger_post_usage():
    """compute.services.ledger.post_usage when the ledger half of the app provides it."""
    from compute.services import ledger

    return getattr(ledger, "post_usage", None)


def post_pending_usage() -> int:
    """Hand the ledger every attributed hour it has not taken yet (after the ledger arrives)."""
    post_usage = _ledger_post_usage()
    if not post_usage:
        return 0
    posted = 0
    for attribution in UsageAttribution.objects.filter(posted_at__isnull=True).select_related(
        "source", "resource", "charter"
    ):
        with transaction.atomic():
            post_usage(
                source=ledger_source_key(attribution.source),
                resource=attribution.resource,
                charter=attribution.charter,
                hour=attribution.hour,
                unit_hours=attribution.unit_hours,
            )
            UsageAttribution.objects.filter(pk=attribution.pk).update(posted_at=timezone.now())
        posted += 1
    return posted


# --- Freshness and series -----------------------------------------------------------------


def freshness(source: MetricSource | None, now: datetime.datetime | None = None) -> dict:
    """How fresh a source's data is, as the line under a chart says it."""
    now = now or timezone.now()
    if source is None:
        return {"state": "none", "text": "No metric source collects this resource."}
    if not source.enabled:
        return {"state": "disabled", "text": f"Source {source.name} is disabled."}
    if source.failing_since:
        return {
            "state": "down",
            "text": f"Source {source.name} down since {source.failing_since:%Y-%m-%d %H:%M} UTC: "
            f"{source.last_error[:160]}",
            "since": source.failing_since.isoformat(),
        }
    if not source.last_success_at:
        return {"state": "waiting", "text": f"Source {source.name} has not been collected yet."}
    age = now - source.last_success_at
    ago = "just now" if age < datetime.timedelta(minutes=1) else f"{timesince(source.last_success_at, now)} ago"
    stale = age > datetime.timedelta(seconds=max(3 * source.step_seconds, 600))
    return {
        "state": "stale" if stale else "fresh",
        "text": f"{'Stale: last collected' if stale else 'Collected'} {ago} ({source.name}).",
        "at": source.last_success_at.isoformat(),
    }


def _parse_time(raw: str | None, default: datetime.datetime, name: str) -> datetime.datetime:
    if raw in (None, ""):
        return default
    from django.utils.dateparse import parse_datetime

    try:
        moment = datetime.datetime.fromtimestamp(float(raw), tz=datetime.UTC)
    except ValueError:
        moment = parse_datetime(raw)
        if moment is None:
            raise ValidationError({name: f"'{raw}' is neither an ISO 8601 time nor epoch seconds."}) from None
        if timezone.is_naive(moment):
            moment = moment.replace(tzinfo=datetime.UTC)
    return moment


def series(
    user,
    *,
    resources: list[str],
    metric: str,
    start: str | None,
    end: str | None,
    step: str | None,
    envelope: bool = False,
) -> dict:
    """Downsampled series of one metric for one or more resources: the answer of
    /api/metrics/series/ and the data of the dashboards.

    `times` holds the start of each slot (UTC); each series has `values` (the mean per slot)
    aligned with it, and with `envelope` also `min` and `max` per slot.

    Every slot of the planned grid is present; a slot without data is null, so a chart
    draws a gap there, never a zero."""
    now = timezone.now()
    end_at = _parse_time(end, now, "end")
    start_at = _parse_time(start, end_at - datetime.timedelta(hours=24), "start")
    if start_at >= end_at:
        raise ValidationError({"start": "start must be before end."})
    if end_at - start_at > datetime.timedelta(days=3660):
        raise ValidationError({"start": "A series spans at most ten years."})
    try:
        step_seconds = int(step) if step not in (None, "") else None
    except ValueError:
        raise ValidationError({"step": "step is a whole number of seconds."}) from None
    if step_seconds is not None and step_seconds < 1:
        raise ValidationError({"step": "step is at least one second."})
    if not metric:
        raise ValidationError({"metric": "Name the metric, e.g. DCGM_FI_DEV_GPU_UTIL."})
    try:
        resource_ids = sorted({int(r) for item in resources for r in str(item).split(",") if r.strip()})
    except ValueError:
        raise ValidationError({"resource": "resource is one or more resource ids."}) from None
    if not resource_ids:
        raise ValidationError({"resource": "Name at least one resource."})
    if len(resource_ids) > 200:
        raise ValidationError({"resource": "At most 200 resources at a time."})
    visible = {r.pk: r for r in Resource.objects.visible_to(user).filter(pk__in=resource_ids)}
    unknown = [r for r in resource_ids if r not in visible]
    if unknown:
        raise ValidationError({"resource": f"Unknown resource(s): {', '.join(map(str, unknown))}."})
    sources: dict[int, MetricSource] = {}
    for source in MetricSource.objects.filter(resource_id__in=resource_ids).order_by("-enabled", "pk"):
        sources.setdefault(source.resource_id, source)
    if step_seconds is None:
        # A chart wants a few hundred points, and never slots finer than the data arrives in
        # (a 2-minute grid over 5-minute data would be mostly gaps).
        span = (end_at - start_at).total_seconds()
        sampled = max((s.step_seconds for s in sources.values() if s.enabled), default=60)
        step_seconds = max(sampled, math.ceil(span / settings.METRICS_DEFAULT_POINTS))
    plan = metric_store.plan(start_at, end_at, step_seconds)
    metric_row = Metric.objects.filter(name=metric).first()
    data = metric_store.read_series(resource_ids, metric_row.pk, plan, envelope=envelope) if metric_row else {}
    first = int(plan.start.timestamp())
    times = [
        datetime.datetime.fromtimestamp(first + i * plan.step, tz=datetime.UTC).isoformat().replace("+00:00", "Z")
        for i in range(plan.slots)
    ]
    empty = [None] * plan.slots
    info = catalogue.info(metric)
    out = []
    for resource_id in resource_ids:
        columns = data.get(resource_id) or [empty, empty, empty]
        series_out = {
            "resource": resource_id,
            "resource_name": visible[resource_id].name,
            "values": columns[0],
            "freshness": freshness(sources.get(resource_id), now),
        }
        if envelope:
            series_out["min"], series_out["max"] = columns[1], columns[2]
        out.append(series_out)
    return {
        "metric": metric,
        "label": metric_row.label if metric_row and metric_row.label else info.label,
        "unit": metric_row.unit if metric_row else info.unit,
        "start": plan.start.isoformat(),
        "end": plan.end.isoformat(),
        "step": plan.step,
        "resolution": plan.resolution,
        # One time axis for every series: the slots are the same, and sending them once keeps
        # a 50-resource answer small.
        "times": times,
        "series": out,
    }


def purge_raw_samples() -> int:
    return metric_store.purge_raw()
