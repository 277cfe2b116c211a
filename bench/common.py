"""Small helpers every benchmark shares: timing, percentiles, and the row format the runner prints."""

from __future__ import annotations

import multiprocessing
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


def in_parallel(work: Callable[[tuple], tuple[float | None, str]], tasks: list[tuple], workers: int):
    """Run `work(task)` for every task on `workers` processes at once, as a web server's workers
    would (threads would measure Python's global lock, not the database). `work` returns
    (seconds, "") or (None, an error code), and is first called with ("connect",) once per
    process, untimed. Returns the seconds of each task that succeeded, the wall time, and the
    error codes of those that did not."""
    from django.db import connections

    connections.close_all()  # the children must open their own connections
    context = multiprocessing.get_context("fork")
    with context.Pool(workers) as pool:
        pool.map(work, [("connect",)] * workers, chunksize=1)
        started = time.perf_counter()
        results = pool.map(work, tasks, chunksize=1)
        wall = time.perf_counter() - started
    return [s for s, _ in results if s is not None], wall, [e for s, e in results if s is None]
