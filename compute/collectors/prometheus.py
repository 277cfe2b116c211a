"""A small client for Prometheus's HTTP API: `query_range`, chunked under the server's limit.

Prometheus refuses a range query that would return more than 11,000 points per series, so a
long range is asked for in chunks of at most MAX_POINTS_PER_CHUNK steps. Evaluation instants
are aligned to multiples of the step, so two passes over overlapping ranges ask for the very
same instants and their samples upsert onto each other instead of piling up.

Values arrive as strings ("0.25", "NaN", "+Inf"); anything that is not a finite number is a
missing value and is dropped, never turned into zero.
"""

from __future__ import annotations

import datetime
import json
import math
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field

# Under Prometheus's hard limit of 11,000 with room for the inclusive end point.
MAX_POINTS_PER_CHUNK = 10_000


class CollectorError(Exception):
    """A source could not be read. `transient` errors are retried with backoff."""

    transient = False


class SourceUnavailable(CollectorError):
    """The source did not answer (refused, timed out, 5xx): worth retrying later."""

    transient = True


class SourceRefused(CollectorError):
    """The source answered that the request is wrong (bad query, 4xx): retrying will not help."""


@dataclass
class Series:
    labels: dict[str, str]
    points: list[tuple[datetime.datetime, float]] = field(default_factory=list)


def parse_value(raw) -> float | None:
    """A Prometheus sample value (a string) as a float, or None when it is NaN or infinite."""
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def aligned_chunks(
    start: datetime.datetime, end: datetime.datetime, step: int
) -> Iterator[tuple[datetime.datetime, datetime.datetime]]:
    """[start, end] cut into inclusive chunks of at most MAX_POINTS_PER_CHUNK instants, every
    instant a multiple of `step` seconds since the epoch."""
    first = math.ceil(start.timestamp() / step) * step
    last = math.floor(end.timestamp() / step) * step
    span = (MAX_POINTS_PER_CHUNK - 1) * step
    while first <= last:
        chunk_end = min(first + span, last)
        yield (
            datetime.datetime.fromtimestamp(first, tz=datetime.UTC),
            datetime.datetime.fromtimestamp(chunk_end, tz=datetime.UTC),
        )
        first = chunk_end + step


class PrometheusClient:
    def __init__(self, base_url: str, *, bearer_token: str = "", timeout: float = 10.0) -> None:
        self.base_url = base_url.rstrip("/")
        self.bearer_token = bearer_token
        self.timeout = timeout

    def _get(self, path: str, params: dict) -> dict:
        url = f"{self.base_url}{path}?{urllib.parse.urlencode(params)}"
        if not url.startswith(("http://", "https://")):
            raise SourceRefused(f"Not an http(s) URL: {self.base_url}")
        request = urllib.request.Request(url, headers={"Accept": "application/json"})  # noqa: S310 - scheme checked above
        if self.bearer_token:
            request.add_header("Authorization", f"Bearer {self.bearer_token}")
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310 - scheme checked above
                body = response.read()
        except urllib.error.HTTPError as error:
            detail = _error_detail(error)
            if error.code >= 500 or error.code == 429:
                raise SourceUnavailable(f"Prometheus answered {error.code}: {detail}") from error
            raise SourceRefused(f"Prometheus refused the query ({error.code}): {detail}") from error
        except (urllib.error.URLError, TimeoutError, ConnectionError, OSError) as error:
            reason = getattr(error, "reason", error)
            raise SourceUnavailable(f"Prometheus at {self.base_url} is unreachable: {reason}") from error
        try:
            payload = json.loads(body)
        except ValueError as error:
            raise SourceRefused("Prometheus answered with something that is not JSON.") from error
        if payload.get("status") != "success":
            raise SourceRefused(f"Prometheus error: {payload.get('error', 'unknown error')}")
        return payload["data"]

    def query_range(self, query: str, start: datetime.datetime, end: datetime.datetime, step: int) -> list[Series]:
        """Every series the query returns over [start, end], merged across chunks."""
        merged: dict[tuple, Series] = {}
        for chunk_start, chunk_end in aligned_chunks(start, end, step):
            data = self._get(
                "/api/v1/query_range",
                {"query": query, "start": chunk_start.timestamp(), "end": chunk_end.timestamp(), "step": step},
            )
            if data.get("resultType") != "matrix":
                raise SourceRefused(f"Expected a range vector from query_range, got {data.get('resultType')}.")
            for item in data.get("result", []):
                labels = item.get("metric", {})
                series = merged.setdefault(tuple(sorted(labels.items())), Series(labels=labels))
                for timestamp, raw in item.get("values", []):
                    value = parse_value(raw)
                    if value is not None:
                        series.points.append(
                            (datetime.datetime.fromtimestamp(float(timestamp), tz=datetime.UTC), value)
                        )
        return list(merged.values())


def _error_detail(error: urllib.error.HTTPError) -> str:
    try:
        return json.loads(error.read()).get("error", error.reason)
    except (ValueError, AttributeError):
        return str(error.reason)
