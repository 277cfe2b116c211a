"""Pre-serialised series answers: each series' data of /api/metrics/series/ kept as JSON bytes,
and the columns the dashboards draw kept as lists.

A 50-resource, 30-day hourly answer is 36,000 numbers: reading them from the rollups,
converting them to Python and encoding them as JSON costs far more than the rest of the
request. The JSON of each series' data is cached under its resource, metric, plan (resolution,
step, first and last slot, envelope or not) and the series' version token (SeriesVersion), which
the metric store replaces in the transaction of every batch that writes the series. A changed
series is therefore never answered from the cache; an unchanged one costs one small query for
the tokens and one cache round trip. What changes with time or permissions (names, freshness,
which resources the caller may read) is computed for every request, never cached.

Raw-sample reads are kept too: the utilization dashboard's 24 hours of 55 resources aggregate
about 77,000 samples, a third of the page's time, and every collection replaces the token, so a
kept read lasts until the next sample of its series arrives.
"""

from __future__ import annotations

import json

from django.core.cache import cache

from compute.choices import Resolution
from compute.models import SeriesVersion
from compute.services.metrics import store

TIMEOUT = 24 * 3600


def _timeout(plan: store.Plan) -> int:
    """How long a kept read may serve: a day for the rollups; for raw samples a little past the
    plan's own life, which ends at the next step as the charts' window moves on (a 1-hour chart
    at 15-second steps would otherwise leave thousands of dead entries a day per series)."""
    return TIMEOUT if plan.resolution != Resolution.RAW else max(60, 2 * plan.step)


CACHED_RESOLUTIONS = (Resolution.RAW, Resolution.HOUR, Resolution.DAY)
CHART_DIGITS = 2  # what a chart shows (and its table)


def _dumps(value) -> str:
    # As DRF's JSONRenderer writes it: compact, UTF-8, no NaN (none is ever stored).
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False)


def _fragment(columns: list[list], envelope: bool) -> str:
    text = f'"values":{_dumps(columns[0])}'
    if envelope:
        text += f',"min":{_dumps(columns[1])},"max":{_dumps(columns[2])}'
    return text


def _key(kind: str, resource_id: int, metric_id: int, plan: store.Plan, envelope: bool, token) -> str:
    start, end = int(plan.start.timestamp()), int(plan.end.timestamp())
    return f"{kind}:{resource_id}:{metric_id}:{plan.resolution}:{plan.step}:{start}:{end}:{int(envelope)}:{token}"


def _kept(asked, kind: str, make, digits: int = 4) -> dict:
    """{resource id: make(its columns)} for the request, from the cache where it can be; what
    had to be read is kept under the series' current tokens."""
    plan, envelope, ids = asked.plan, asked.envelope, asked.resource_ids
    if asked.metric_row is None:
        return {}
    metric_id = asked.metric_row.pk
    keys: dict[int, str] = {}
    if plan.resolution in CACHED_RESOLUTIONS:
        tokens = SeriesVersion.objects.filter(metric_id=metric_id, resource_id__in=ids).values_list(
            "resource_id", "token"
        )
        keys = {r: _key(kind, r, metric_id, plan, envelope, token) for r, token in tokens}
    found = cache.get_many(list(keys.values())) if keys else {}
    out = {resource_id: found[k] for resource_id, k in keys.items() if k in found}
    missing = [resource_id for resource_id in ids if resource_id not in out]
    if missing:
        data = store.read_series(missing, metric_id, plan, envelope=envelope, digits=digits)
        empty = [None] * plan.slots
        fresh = {r: make(data.get(r) or [empty, empty, empty]) for r in missing}
        out.update(fresh)
        cache.set_many({keys[r]: value for r, value in fresh.items() if r in keys}, _timeout(plan))
    return out


def _fragments(asked) -> dict[int, str]:
    """{resource id: the JSON of its data} for the request, from the cache where it can be."""
    return _kept(asked, "series:v1", lambda columns: _fragment(columns, asked.envelope))


def columns(asked, *, digits: int = 4) -> dict[int, list[list]]:
    """{resource id: [means, minima, maxima]} of store.read_series for the request, rounded to
    `digits`, from the cache where it can be (a chart's page asks CHART_DIGITS)."""
    return _kept(asked, f"columns:v1:{digits}", lambda columns: columns, digits)


def answer(asked) -> bytes:
    """The whole answer of /api/metrics/series/ as JSON bytes (the same document as series())."""
    data = _fragments(asked)
    empty = _fragment([[None] * asked.plan.slots] * 3, asked.envelope)
    header = _dumps(asked.header())[:-1]
    parts = []
    for resource_id in asked.resource_ids:
        about = _dumps(asked.about(resource_id))[:-1]
        parts.append(f"{about},{data.get(resource_id, empty)}}}")
    return f'{header},"series":[{",".join(parts)}]}}'.encode()
