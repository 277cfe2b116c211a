"""The metric store: bulk upserts of raw samples, incremental rollups, retention, series reads.

Ingestion stages a batch in a temporary table (PostgreSQL COPY; executemany on SQLite) and
upserts the samples on their (resource, metric, time) key.

On PostgreSQL the rollups are then merged incrementally: the upsert returns the rows it wrote,
aggregated per hour in the same statement (`metric_ingest_delta`: one row per series, hour and
whether the rows were new), and those aggregates are added into the hourly and daily buckets
(count and sum add, minima take the least, maxima the greatest), so the raw samples are never
read back. A bucket in which the batch *changed* a value that was already stored cannot be
corrected by adding (the old value may have been its minimum): such buckets, and the days that
hold them, are recomputed from their source rows, as every touched bucket is on SQLite.
Unchanged values that a collector sends again write nothing and touch no rollup. Either way
every rollup equals the aggregate of the raw data (tests/compute/metrics).
"""

from __future__ import annotations

import datetime
import io
import math
import uuid
from collections.abc import Iterable
from dataclasses import dataclass

import psycopg
from django.conf import settings
from django.db import connection, transaction
from django.utils import timezone

from compute.choices import Resolution
from compute.collectors import catalogue
from compute.models import DailyRollup, HourlyRollup, Metric, Sample, SeriesVersion

STAGE = "metric_ingest_stage"
DELTA = "metric_ingest_delta"
HOUR = 3600
DAY = 86400


def raw_horizon(now: datetime.datetime | None = None) -> datetime.datetime:
    """Raw samples older than this are purged (whole days, so rollups of kept hours stay exact)."""
    now = now or timezone.now()
    day = (now - datetime.timedelta(days=settings.METRICS_RAW_RETENTION_DAYS)).astimezone(datetime.UTC)
    return day.replace(hour=0, minute=0, second=0, microsecond=0)


def _sql(pg: str, lite: str) -> str:
    return pg if connection.vendor == "postgresql" else lite


def _stage_table() -> None:
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (resource_id bigint, metric_id bigint, "
                "time timestamptz, value double precision) ON COMMIT DELETE ROWS"
            )
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {DELTA} (resource_id bigint, metric_id bigint, "
                "bucket timestamptz, inserted boolean, count bigint, sum double precision, "
                "min double precision, max double precision) ON COMMIT DELETE ROWS"
            )
            cursor.execute(f"TRUNCATE {DELTA}")  # noqa: S608 - a constant name
        else:
            cursor.execute(
                f"CREATE TEMP TABLE IF NOT EXISTS {STAGE} (resource_id integer, metric_id integer, "
                "time datetime, value real)"
            )
        # Cleared first: inside an outer transaction (a test, a larger import) the previous
        # batch's rows would still be there. TRUNCATE leaves no dead rows behind.
        cursor.execute(_sql(f"TRUNCATE {STAGE}", f"DELETE FROM {STAGE}"))  # noqa: S608 - a constant name


def _copy_rows(cursor, table: str, rows: list[tuple[int, int, datetime.datetime, float]]) -> None:
    """COPY rows into a table in PostgreSQL's text format, in large writes."""
    with cursor.copy(f"COPY {table} (resource_id, metric_id, time, value) FROM STDIN") as copy:
        buffer = io.StringIO()
        for n, (resource_id, metric_id, moment, value) in enumerate(rows, 1):
            buffer.write(f"{resource_id}\t{metric_id}\t{moment.isoformat()}\t{value!r}\n")
            if n % 50_000 == 0:
                copy.write(buffer.getvalue())
                buffer = io.StringIO()
        copy.write(buffer.getvalue())


def copy_into(table: str, rows: list[tuple[int, int, datetime.datetime, float]]) -> None:
    """Plain COPY of rows into `table` (the benchmark's baseline; PostgreSQL only)."""
    connection.ensure_connection()
    with connection.connection.cursor() as raw:
        _copy_rows(raw, table, rows)


def ingest(rows: Iterable[tuple[int, int, datetime.datetime, float]]) -> int:
    """Upsert (resource_id, metric_id, time, value) rows and bring the rollups up to date.

    Times are truncated to whole seconds; a later row for the same key wins; non-finite values
    and rows older than the raw retention horizon are dropped. Returns the rows kept."""
    horizon = raw_horizon()
    isfinite = math.isfinite
    batch: dict[tuple[int, int, datetime.datetime], float] = {}
    for resource_id, metric_id, moment, value in rows:
        if value is None or not isfinite(value) or moment < horizon:
            continue
        if moment.microsecond:
            moment = moment.replace(microsecond=0)
        batch[(resource_id, metric_id, moment)] = value
    if not batch:
        return 0
    staged = [(r, m, t, v) for (r, m, t), v in batch.items()]
    _check_series({(r, m) for r, m, _ in batch})
    with transaction.atomic():
        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                # Compiling these short statements costs more than running them.
                cursor.execute("SET LOCAL jit = off")
        _stage_table()
        with connection.cursor() as cursor:
            if connection.vendor == "postgresql":
                if not _copy_if_new(cursor, staged):
                    with connection.connection.cursor() as raw:
                        _copy_rows(raw, STAGE, staged)
                    _upsert_and_merge(cursor)
            else:
                adapt = connection.ops.adapt_datetimefield_value
                cursor.executemany(
                    f"INSERT INTO {STAGE} (resource_id, metric_id, time, value) VALUES (%s, %s, %s, %s)",  # noqa: S608
                    [(r, m, adapt(t), v) for r, m, t, v in staged],
                )
                _upsert_samples(cursor)
                _refresh_hourly(cursor)
                _refresh_daily(cursor)
                cursor.execute(f"DELETE FROM {STAGE}")  # noqa: S608 - PostgreSQL empties it at commit
        _new_versions({(r, m) for r, m, _ in batch})
    return len(staged)


def _check_series(series: set[tuple[int, int]]) -> None:
    """The batch's resources and metrics exist (the samples table leaves that to the store)."""
    from compute.models import Resource

    resources, metrics = {r for r, _ in series}, {m for _, m in series}
    if Resource.objects.filter(pk__in=resources).count() != len(resources):
        raise ValueError(f"Samples for a resource that does not exist (ids {sorted(resources)}).")
    if Metric.objects.filter(pk__in=metrics).count() != len(metrics):
        raise ValueError(f"Samples of a metric that does not exist (ids {sorted(metrics)}).")


# Whether any stored sample lies within a series' time span in the batch: one probe of the
# primary key per series (a batch holds a few), so an all-new batch is known before writing.
ANY_STORED = f"""
SELECT EXISTS (
    SELECT 1 FROM (VALUES {{spans}}) AS b (resource_id, metric_id, first, last)
    CROSS JOIN LATERAL (
        SELECT 1 FROM {Sample._meta.db_table} s
        WHERE s.resource_id = b.resource_id AND s.metric_id = b.metric_id AND s.time >= b.first AND s.time <= b.last
        LIMIT 1
    ) x
)
"""  # noqa: S608 - the model's table; the spans are bound


def _copy_if_new(cursor, staged: list[tuple[int, int, datetime.datetime, float]]) -> bool:
    """PostgreSQL, the common case of a collector's next samples: when no stored sample lies in
    the batch's spans, COPY it straight into the samples and add its per-hour aggregates
    (summed here, on the way) to the rollups. False, having written nothing, when some sample
    may already be stored (the batch then goes through the staged upsert); a batch written by
    someone else meanwhile makes the COPY fail on the key, rolled back to its savepoint."""
    spans: dict[tuple[int, int], list[datetime.datetime]] = {}
    hours: dict[tuple[int, int, int], list] = {}
    for resource_id, metric_id, moment, value in staged:
        span = spans.get((resource_id, metric_id))
        if span is None:
            spans[(resource_id, metric_id)] = [moment, moment]
        elif moment < span[0]:
            span[0] = moment
        elif moment > span[1]:
            span[1] = moment
        hour = (resource_id, metric_id, int(moment.timestamp()) // HOUR)
        bucket = hours.get(hour)
        if bucket is None:
            hours[hour] = [1, value, value, value]
        else:
            bucket[0] += 1
            bucket[1] += value
            if value < bucket[2]:
                bucket[2] = value
            elif value > bucket[3]:
                bucket[3] = value
    params = [x for (r, m), (first, last) in spans.items() for x in (r, m, first, last)]
    values = ", ".join(["(%s::bigint, %s::bigint, %s::timestamptz, %s::timestamptz)"] * len(spans))
    cursor.execute(ANY_STORED.format(spans=values), params)
    if cursor.fetchone()[0]:
        return False
    try:
        with transaction.atomic(), connection.connection.cursor() as raw:
            _copy_rows(raw, Sample._meta.db_table, staged)
    except psycopg.errors.UniqueViolation:
        return False
    with (
        connection.connection.cursor() as raw,
        raw.copy(
            f"COPY {DELTA} (resource_id, metric_id, bucket, inserted, count, sum, min, max) FROM STDIN"  # noqa: S608
        ) as copy,
    ):
        for (series_resource, series_metric, hour_number), (count, total, low, high) in hours.items():
            hour_start = datetime.datetime.fromtimestamp(hour_number * HOUR, tz=datetime.UTC)
            copy.write_row((series_resource, series_metric, hour_start, True, count, total, low, high))
    for target, unit in ((HourlyRollup._meta.db_table, "hour"), (DailyRollup._meta.db_table, "day")):
        cursor.execute(MERGE.format(target=target, unit=unit, delta=DELTA))
    return True


def _new_versions(series: set[tuple[int, int]]) -> None:
    """A fresh token for each series the batch wrote, in its transaction: cached answers over
    them (series_cache) are not found again."""
    token = uuid.uuid4()
    SeriesVersion.objects.bulk_create(
        [SeriesVersion(resource_id=r, metric_id=m, token=token) for r, m in sorted(series)],
        update_conflicts=True,
        unique_fields=["resource", "metric"],
        update_fields=["token"],
    )


def _upsert_samples(cursor) -> None:
    table = Sample._meta.db_table
    # Rewriting an unchanged value would only leave a dead row behind on PostgreSQL.
    cursor.execute(
        f"INSERT INTO {table} (resource_id, metric_id, time, value) "  # noqa: S608 - constant table names
        f"SELECT resource_id, metric_id, time, value FROM {STAGE} WHERE true "
        "ON CONFLICT (resource_id, metric_id, time) DO UPDATE SET value = excluded.value "
        f"WHERE {table}.value <> excluded.value"
    )


# PostgreSQL: the upsert, with what it wrote summed per (series, hour, new or changed). xmax is
# 0 on a row this statement inserted, and this transaction's id on one it updated.
UPSERT_AND_SUM = f"""
WITH written AS (
    INSERT INTO {Sample._meta.db_table} AS s (resource_id, metric_id, time, value)
    SELECT resource_id, metric_id, time, value FROM {STAGE}
    ON CONFLICT (resource_id, metric_id, time) DO UPDATE SET value = excluded.value
    WHERE s.value <> excluded.value
    RETURNING s.resource_id, s.metric_id, s.time, s.value, s.xmax = 0 AS inserted
)
INSERT INTO {DELTA} (resource_id, metric_id, bucket, inserted, count, sum, min, max)
SELECT resource_id, metric_id, date_trunc('hour', time), inserted, count(*), sum(value), min(value), max(value)
FROM written GROUP BY 1, 2, 3, 4
"""  # noqa: S608 - constant table names

# Buckets (of `unit`) where the batch only added samples: merged by adding.
MERGE = """
INSERT INTO {target} AS r (resource_id, metric_id, bucket, count, sum, min, max)
SELECT d.resource_id, d.metric_id, date_trunc('{unit}', d.bucket), sum(d.count), sum(d.sum), min(d.min), max(d.max)
FROM {delta} d
WHERE d.inserted AND NOT EXISTS (
    SELECT 1 FROM {delta} c WHERE NOT c.inserted AND c.resource_id = d.resource_id AND c.metric_id = d.metric_id
      AND date_trunc('{unit}', c.bucket) = date_trunc('{unit}', d.bucket))
GROUP BY 1, 2, 3
ON CONFLICT (resource_id, metric_id, bucket) DO UPDATE SET
    count = r.count + excluded.count, sum = r.sum + excluded.sum,
    min = LEAST(r.min, excluded.min), max = GREATEST(r.max, excluded.max)
"""


def _upsert_and_merge(cursor) -> None:
    """PostgreSQL: upsert the staged batch and merge what it wrote into the rollups."""
    cursor.execute(UPSERT_AND_SUM)
    for target, unit in ((HourlyRollup._meta.db_table, "hour"), (DailyRollup._meta.db_table, "day")):
        cursor.execute(MERGE.format(target=target, unit=unit, delta=DELTA))
    # Buckets where a stored value changed: recomputed, hours first, then their days.
    cursor.execute(f"SELECT EXISTS (SELECT 1 FROM {DELTA} WHERE NOT inserted)")  # noqa: S608 - a constant name
    if cursor.fetchone()[0]:
        _refresh_hourly(cursor, changed=True)
        _refresh_daily(cursor, changed=True)


def _touched(unit: str, changed: bool = False) -> str:
    """The distinct (resource, metric, bucket) of the staged batch; with `changed` (PostgreSQL),
    those where the batch changed a stored value."""
    if changed:
        return (
            f"SELECT DISTINCT resource_id, metric_id, date_trunc('{unit}', bucket) AS bucket "  # noqa: S608
            f"FROM {DELTA} WHERE NOT inserted"
        )
    lite_format = "%Y-%m-%d %H:00:00" if unit == "hour" else "%Y-%m-%d 00:00:00"
    return _sql(
        f"SELECT DISTINCT resource_id, metric_id, date_trunc('{unit}', time) AS bucket FROM {STAGE}",  # noqa: S608
        f"SELECT DISTINCT resource_id, metric_id, strftime('{lite_format}', time) AS bucket FROM {STAGE}",  # noqa: S608
    )


def _refresh(
    cursor, target: str, source: str, time_col: str, unit: str, aggregates: tuple[str, ...], changed: bool = False
) -> None:
    """Recompute the `unit` buckets of `target` that the staged batch touched, from `source`.

    On PostgreSQL each touched bucket is a LATERAL probe of the source's primary key
    (resource, metric, time range): the planner cannot tell how few buckets a batch touches
    and would otherwise merge-join whole series against it."""
    count, total, low, high = aggregates
    if connection.vendor == "postgresql":
        sql = (
            f"WITH t AS ({_touched(unit, changed)}) "  # noqa: S608 - constant names
            f"INSERT INTO {target} (resource_id, metric_id, bucket, count, sum, min, max) "
            "SELECT t.resource_id, t.metric_id, t.bucket, a.count, a.sum, a.min, a.max FROM t CROSS JOIN LATERAL ("
            f"SELECT {count} AS count, {total} AS sum, {low} AS min, {high} AS max FROM {source} s "
            f"WHERE s.resource_id = t.resource_id AND s.metric_id = t.metric_id "
            f"AND s.{time_col} >= t.bucket AND s.{time_col} < t.bucket + interval '1 {unit}') a "
            "WHERE a.count > 0 "
        )
    else:
        sql = (
            f"WITH t AS ({_touched(unit)}) "  # noqa: S608 - constant names
            f"INSERT INTO {target} (resource_id, metric_id, bucket, count, sum, min, max) "
            f"SELECT s.resource_id, s.metric_id, t.bucket, {count}, {total}, {low}, {high} "
            f"FROM t JOIN {source} s ON s.resource_id = t.resource_id AND s.metric_id = t.metric_id "
            f"AND s.{time_col} >= t.bucket AND s.{time_col} < datetime(t.bucket, '+1 {unit}') "
            "WHERE true GROUP BY s.resource_id, s.metric_id, t.bucket "
        )
    cursor.execute(
        sql + "ON CONFLICT (resource_id, metric_id, bucket) DO UPDATE SET "  # noqa: S608 - constant names
        "count = excluded.count, sum = excluded.sum, min = excluded.min, max = excluded.max"
    )


def _refresh_hourly(cursor, changed: bool = False) -> None:
    _refresh(
        cursor,
        HourlyRollup._meta.db_table,
        Sample._meta.db_table,
        "time",
        "hour",
        ("count(*)", "sum(s.value)", "min(s.value)", "max(s.value)"),
        changed,
    )


def _refresh_daily(cursor, changed: bool = False) -> None:
    _refresh(
        cursor,
        DailyRollup._meta.db_table,
        HourlyRollup._meta.db_table,
        "bucket",
        "day",
        ("sum(s.count)", "sum(s.sum)", "min(s.min)", "max(s.max)"),
        changed,
    )


def purge_raw(now: datetime.datetime | None = None) -> int:
    """Delete raw samples older than the retention horizon; the rollups keep their history.

    Series by series, so each delete is a range scan of the primary key."""
    horizon = raw_horizon(now)
    deleted = 0
    series = HourlyRollup.objects.filter(bucket__lt=horizon).values_list("resource_id", "metric_id").distinct()
    for resource_id, metric_id in series:
        count, _ = Sample.objects.filter(resource_id=resource_id, metric_id=metric_id, time__lt=horizon).delete()
        deleted += count
    return deleted


# --- Reading series -----------------------------------------------------------------------

# Steps a chart may be drawn at: each divides the next coarser bucket, so slots line up.
NICE_STEPS = [1, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, HOUR, 2 * HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY]


@dataclass(frozen=True)
class Plan:
    step: int
    resolution: str
    start: datetime.datetime
    end: datetime.datetime

    @property
    def slots(self) -> int:
        return int((self.end - self.start).total_seconds() // self.step)


def plan(start: datetime.datetime, end: datetime.datetime, step: int | None, *, max_points: int | None = None) -> Plan:
    """The step and the table a series over [start, end) is read at.

    The step is the one asked for, raised to the next nice step that keeps the chart within
    max_points; the resolution is the coarsest stored one that is not coarser than the step,
    and never raw for a range that reaches past the raw retention horizon."""
    max_points = max_points or settings.METRICS_MAX_POINTS
    needed = max(step or 1, math.ceil((end - start).total_seconds() / max_points))
    if start < raw_horizon():
        needed = max(needed, HOUR)  # the raw samples of that time are gone; the rollups remain
    chosen = next((s for s in NICE_STEPS if s >= needed), math.ceil(needed / DAY) * DAY)
    if chosen % DAY == 0:
        resolution = Resolution.DAY
    elif chosen % HOUR == 0:
        resolution = Resolution.HOUR
    else:
        resolution = Resolution.RAW
    aligned_start = datetime.datetime.fromtimestamp(math.floor(start.timestamp() / chosen) * chosen, tz=datetime.UTC)
    aligned_end = datetime.datetime.fromtimestamp(math.ceil(end.timestamp() / chosen) * chosen, tz=datetime.UTC)
    return Plan(step=chosen, resolution=resolution, start=aligned_start, end=aligned_end)


def _rounded(expression: str, digits: int = 4) -> str:
    """A value rounded to `digits` decimals by the database: short JSON, no Python loop over it."""
    # Float arithmetic on PostgreSQL: rounding through numeric costs more than the query.
    scale = 10**digits
    return _sql(f"round(({expression}) * {scale}) / {scale}", f"round({expression}, {digits})")


def read_series(
    resource_ids: list[int], metric_id: int, plan_: Plan, *, envelope: bool = False, digits: int = 4
) -> dict[int, list[list]]:
    """resource id → [means, minima, maxima], each a list over the planned slots with None
    where a slot holds no data (minima and maxima only with `envelope`), rounded to `digits`
    decimals (4 for the API; a chart shows 2)."""
    if not resource_ids:
        return {}
    step = plan_.step
    buckets: dict[str, int] = {Resolution.HOUR: HOUR, Resolution.DAY: DAY}
    bucket = buckets.get(plan_.resolution)
    if plan_.resolution == Resolution.RAW:
        table, time_col = Sample._meta.db_table, "time"
        mean, low, high = "avg(value)", "min(value)", "max(value)"
    elif step == bucket:
        # One rollup row per slot: read the rows as they lie in the primary key, no grouping.
        model = HourlyRollup if plan_.resolution == Resolution.HOUR else DailyRollup
        table, time_col = model._meta.db_table, "bucket"
        mean, low, high = "sum / count", "min", "max"
    else:
        model = HourlyRollup if plan_.resolution == Resolution.HOUR else DailyRollup
        table, time_col = model._meta.db_table, "bucket"
        mean, low, high = "sum(sum) / sum(count)", "min(min)", "max(max)"
    first, slots = int(plan_.start.timestamp()), plan_.slots
    aggregates = [mean, *([low, high] if envelope else [])]
    placeholders = ", ".join(["%s"] * len(resource_ids))
    where = f"WHERE metric_id = %s AND resource_id IN ({placeholders}) AND {time_col} >= %s AND {time_col} < %s"
    if connection.vendor == "postgresql" and step != bucket:
        # Grouped by date_bin (the slot's start), and the slot's index computed once per slot
        # instead of once per row: a 50-resource 24-hour read aggregates ~75,000 samples, and
        # the per-row arithmetic (numeric, with extract()) cost as much as the aggregation.
        inner = ", ".join(f"{a} AS c{n}" for n, a in enumerate(aggregates))
        outer = ", ".join(_rounded(f"c{n}", digits) for n in range(len(aggregates)))
        query = (
            f"SELECT resource_id, CAST(floor((date_part('epoch', slot_start) - {first}) / {step}) AS bigint), "  # noqa: S608
            f"{outer} FROM (SELECT resource_id, date_bin('{step} seconds', {time_col}, to_timestamp({first})) "
            f"AS slot_start, {inner} FROM {table} {where} GROUP BY resource_id, slot_start) AS slots"
        )
    else:
        # The slot's position on the planned grid, computed by the database.
        slot = _sql(
            f"CAST(floor((date_part('epoch', {time_col}) - {first}) / {step}) AS bigint)",
            # Integer division floors for the non-negative offsets SQLite works with here.
            f"((CAST(strftime('%%s', {time_col}) AS INTEGER) - {first}) / {step})",  # %% : the query has params
        )
        # No ORDER BY: each row lands in its slot by index, whatever order the rows come in.
        columns = ", ".join(_rounded(a, digits) for a in aggregates)
        query = f"SELECT resource_id, {slot} AS slot, {columns} FROM {table} {where}"  # noqa: S608
        if step != bucket:
            query += " GROUP BY resource_id, slot"
    result = {rid: [[None] * slots for _ in aggregates] for rid in resource_ids}
    adapt = connection.ops.adapt_datetimefield_value
    with connection.cursor() as cursor:
        cursor.execute(query, [metric_id, *resource_ids, adapt(plan_.start), adapt(plan_.end)])
        if envelope:
            for resource_id, index, mean_value, low_value, high_value in cursor.fetchall():
                means, lows, highs = result[resource_id]
                means[index], lows[index], highs[index] = mean_value, low_value, high_value
        else:
            for resource_id, index, mean_value in cursor.fetchall():
                result[resource_id][0][index] = mean_value
    return result


# --- By metric name ---------------------------------------------------------------------


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


def save(resource_id: int, rows: list[tuple[str, datetime.datetime, float]]) -> int:
    """Upsert (metric name, time, value) rows of one resource into the store. A reading so
    large that its rollups could overflow (catalogue.is_storable) is dropped, whichever
    collector brought it; pushed batches are held to each metric's plausible range before."""
    rows = [(name, moment, value) for name, moment, value in rows if value is None or catalogue.is_storable(value)]
    ids = metric_ids({name for name, _, _ in rows})
    return ingest((resource_id, ids[name], moment, value) for name, moment, value in rows)
