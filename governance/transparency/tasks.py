"""Celery tasks of the log: thin, idempotent, one integration at a time (the row lock)."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from governance.transparency import integrate
from governance.transparency.integrate import WitnessUnavailable


@shared_task(
    autoretry_for=(OperationalError,), retry_backoff=True, retry_backoff_max=60, max_retries=6, ignore_result=True
)
def integrate_log() -> int:
    """Integrate the events waiting (on commit, and by beat every few seconds)."""
    return integrate.integrate()


@shared_task(
    autoretry_for=(WitnessUnavailable, OperationalError),
    retry_backoff=True,
    retry_backoff_max=120,
    retry_jitter=True,
    max_retries=8,
    ignore_result=True,
)
def push_checkpoint() -> int:
    """Push the newest checkpoint to the witnesses; retried with backoff while one is away."""
    results = integrate.push_latest()
    if any(result.status == "unavailable" for result in results):
        raise WitnessUnavailable("; ".join(r.detail for r in results if r.status == "unavailable"))
    return sum(result.status == "cosigned" for result in results)
