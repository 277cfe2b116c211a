"""Usage attribution: GPU-hours per charter and hour from Prometheus series, kept and
handed to the credit ledger in batches (usage.post_usage_batch)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from charters.models import Charter
from compute.collectors.prometheus import PrometheusClient, Series
from compute.models import MetricSource, UsageAttribution
from compute.services.credits import batches, usage
from governance import values as governance_values

# Usage of an hour is attributed once its last scrapes have surely arrived.
ATTRIBUTION_LAG = datetime.timedelta(minutes=5)


@dataclass(frozen=True)
class UsageRow:
    """What the ledger's usage lines carry: unit-hours per charter per resource per hour."""

    source: str
    resource_id: int
    charter_id: int
    hour: datetime.datetime
    unit_hours: Decimal


def ledger_source_key(source: MetricSource) -> str:
    """The `source` of the ledger's idempotency key: stable across renames of the source."""
    return ledger_source_key_of(source.pk)


def ledger_source_key_of(source_id: int) -> str:
    return f"metric-source:{source_id}"


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
        elif (charter_id := governance_values.optional_id(value)) is not None:
            wanted[value] = charter_id
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
    """Keep the rows, and hand the ledger, in one batch, the ones it has not taken yet.

    A row kept before keeps its first figure (as the ledger's key does); the ledger is
    idempotent on (source, resource, charter, hour), so a row posted twice is charged once;
    `posted_at` records that the ledger took it."""
    with transaction.atomic():
        UsageAttribution.objects.bulk_create(
            [
                UsageAttribution(
                    source=source,
                    resource_id=row.resource_id,
                    charter_id=row.charter_id,
                    hour=row.hour,
                    unit_hours=row.unit_hours,
                )
                for row in rows
            ],
            ignore_conflicts=True,
        )
        _post(UsageAttribution.objects.filter(source=source, posted_at__isnull=True))


def post_pending_usage() -> int:
    """Hand the ledger, in one batch, every attributed hour it has not taken yet."""
    with transaction.atomic():
        return _post(UsageAttribution.objects.filter(posted_at__isnull=True))


def _post(pending) -> int:
    attributions = list(pending.select_for_update(of=("self",)).order_by("hour", "resource_id", "charter_id", "pk"))
    if not attributions:
        return 0
    usage.post_usage_batch(
        (
            batches.usage_line(
                source=ledger_source_key_of(a.source_id),
                resource_id=a.resource_id,
                charter_id=a.charter_id,
                hour=a.hour,
                unit_hours=a.unit_hours,
            )
            for a in attributions
        ),
        source="metric attribution",
    )
    UsageAttribution.objects.filter(pk__in=[a.pk for a in attributions]).update(posted_at=timezone.now())
    return len(attributions)
