"""Small helpers every benchmark shares: timing, percentiles, and the row format the runner prints."""

from __future__ import annotations

import http.client
import multiprocessing
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


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


def free_port() -> int:
    """A TCP port on loopback that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_gunicorn(port: int, *, workers: int, threads: int | None = None, env: dict | None = None):
    """The portal under a real gunicorn on loopback (gthread when `threads` is given), returned
    once it answers HTTP (`/healthz/`, whatever its status: the benchmark's own requests check
    theirs); killed with its error output if it never does."""
    command = [sys.executable, "-m", "gunicorn", "governance.wsgi", "--bind", f"127.0.0.1:{port}"]
    command += ["--workers", str(workers), "--log-level", "warning"]
    if threads is not None:
        command += ["--threads", str(threads), "--worker-class", "gthread"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    for _ in range(300):
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz/", headers={"Host": "localhost"})
            connection.getresponse().read()
            return server
        except OSError:
            time.sleep(0.1)
    server.kill()
    raise RuntimeError(f"gunicorn did not start: {server.stderr.read().decode()[-2000:]}")
