"""Small helpers every benchmark shares: timing, percentiles, and the row format the runner prints."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable


def timings(fn: Callable[[], object], repeat: int, warmup: int = 1) -> list[float]:
    """Seconds taken by each of `repeat` calls of fn, after `warmup` untimed calls."""
    for _ in range(warmup):
        fn()
    samples = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        samples.append(time.perf_counter() - start)
    return samples


def median(samples: list[float]) -> float:
    return statistics.median(samples)


def p99(samples: list[float]) -> float:
    ordered = sorted(samples)
    return ordered[min(len(ordered) - 1, round(0.99 * (len(ordered) - 1)))]


def row(benchmark: str, metric: str, median_value, p99_value=None, ratio=None, unit: str = "", note: str = "") -> dict:
    """One line of the results table. `ratio` compares with the baseline measured in the same run."""
    return {
        "benchmark": benchmark,
        "metric": metric,
        "median": median_value,
        "p99": p99_value,
        "ratio": ratio,
        "unit": unit,
        "note": note,
    }
