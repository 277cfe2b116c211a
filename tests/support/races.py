"""Real concurrency for tests: calls released at the same moment, each in its own thread and
therefore its own database connection (PostgreSQL row locks are what is being tested)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any


def together(*calls: Callable[[], Any], timeout: float = 30) -> list:
    """Run the calls at once in their own threads; return, in order, what each returned or the
    exception it raised (the test asserts on both)."""
    from django.db import connection

    barrier = threading.Barrier(len(calls))
    results: list = [None] * len(calls)

    def run(index: int, call: Callable[[], Any]) -> None:
        try:
            barrier.wait()
            results[index] = call()
        except Exception as error:  # noqa: BLE001 - returned to the test, which asserts on it
            results[index] = error
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(i, call)) for i, call in enumerate(calls)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout)
    return results


def race(worker: Callable[[Any], Any], arguments: list) -> tuple[list, list]:
    """Run `worker(argument)` for every argument at once; return (results, errors)."""
    outcomes = together(*(lambda argument=argument: worker(argument) for argument in arguments))
    errors = [outcome for outcome in outcomes if isinstance(outcome, Exception)]
    return [outcome for outcome in outcomes if not isinstance(outcome, Exception)], errors
