"""The batch an agent pushes to /api/metrics/ingest/, checked whole before anything is stored.

    {"samples": [{"metric": "DCGM_FI_DEV_GPU_UTIL", "time": "2026-01-31T12:00:00Z", "value": 42.5}, ...]}

`time` is an ISO 8601 instant with its offset, or seconds since the epoch; `value` a number, or
a string as Prometheus writes them ("42.5", "NaN"). A null, NaN or infinite value is a missing
reading: accepted, counted, and not stored. Any other defect refuses the whole batch.
"""

from __future__ import annotations

import datetime
import math

from django.core.exceptions import ValidationError
from django.utils.dateparse import parse_datetime

from compute.collectors import catalogue
from governance import limits, values

MAX_ERRORS_REPORTED = 5
FUTURE_TOLERANCE = datetime.timedelta(minutes=5)


def _time(raw, now: datetime.datetime) -> datetime.datetime:
    if isinstance(raw, bool):
        raise ValueError("time must be an ISO 8601 instant or epoch seconds")
    if isinstance(raw, int | float):
        if not math.isfinite(raw):
            raise ValueError("time must be finite")
        try:
            moment = datetime.datetime.fromtimestamp(raw, tz=datetime.UTC)
        except (OverflowError, OSError):
            raise ValueError("time is out of range") from None
    elif isinstance(raw, str):
        moment = parse_datetime(raw)
        if moment is None:
            raise ValueError(f"'{raw[:40]}' is not an ISO 8601 instant")
        if moment.tzinfo is None:
            raise ValueError("time needs a UTC offset (e.g. 'Z')")
    else:
        raise ValueError("time must be an ISO 8601 instant or epoch seconds")
    try:
        moment = moment.astimezone(datetime.UTC).replace(microsecond=0)
    except OverflowError:
        raise ValueError("time is out of range") from None
    if moment > now + FUTURE_TOLERANCE:
        raise ValueError("time is in the future")
    if moment.date() < values.EARLIEST:
        raise ValueError(f"time is before {values.EARLIEST.isoformat()}")
    return moment


def _value(metric: str, raw) -> float | None:
    if raw is None:
        return None
    if isinstance(raw, bool):
        raise ValueError("value must be a number")
    if isinstance(raw, str):
        try:
            raw = float(raw)
        except ValueError:
            raise ValueError(f"'{raw[:40]}' is not a number") from None
    if not isinstance(raw, int | float):
        raise ValueError("value must be a number")
    try:
        value = float(raw)
    except OverflowError:
        raise ValueError("value is out of range") from None
    if not math.isfinite(value):
        return None
    if not catalogue.is_plausible(metric, value):
        low, high = catalogue.plausible_range(metric)
        raise ValueError(f"value {value:g} is outside the plausible range of {metric} ({low:g} to {high:g})")
    return value


def parse_batch(body: bytes, *, max_samples: int, now: datetime.datetime) -> tuple[list[tuple], int]:
    """The (metric, time, value) triples of a pushed batch and the count of missing values.

    Raises ValidationError naming the first defects; nothing is returned half-checked."""
    try:
        # NaN is a missing reading here (Prometheus writes it); depth and text are bounded.
        payload = limits.loads(body, allow_nan=True)
    except (ValueError, UnicodeDecodeError) as error:
        raise ValidationError(f"The body is not valid JSON: {error}") from None
    if not isinstance(payload, dict) or not isinstance(payload.get("samples"), list):
        raise ValidationError('Send an object with a "samples" list.')
    samples = payload["samples"]
    if not samples:
        raise ValidationError('"samples" is empty.')
    if len(samples) > max_samples:
        raise ValidationError(f"At most {max_samples} samples per batch; this one has {len(samples)}.")
    rows, missing, errors = [], 0, []
    for index, sample in enumerate(samples):
        try:
            if not isinstance(sample, dict):
                raise ValueError("each sample must be an object")
            unknown = set(sample) - {"metric", "time", "value"}
            if unknown:
                raise ValueError(f"unknown field(s): {', '.join(sorted(unknown))}")
            metric = sample.get("metric")
            if not isinstance(metric, str) or not catalogue.METRIC_NAME.match(metric):
                raise ValueError("metric must be a Prometheus-style name")
            moment = _time(sample.get("time"), now)
            if "value" not in sample:
                raise ValueError("value is required (null for a missing reading)")
            value = _value(metric, sample["value"])
        except ValueError as error:
            errors.append(f"samples[{index}]: {error}")
            if len(errors) >= MAX_ERRORS_REPORTED:
                break
            continue
        if value is None:
            missing += 1
        else:
            rows.append((metric, moment, value))
    if errors:
        raise ValidationError(errors)
    return rows, missing
