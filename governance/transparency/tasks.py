"""Celery tasks of the log: thin, idempotent, one integration at a time (the row lock)."""

from __future__ import annotations

from governance.celery import portal_task
from governance.choices import WitnessAnswer
from governance.transparency import integrate
from governance.transparency.integrate import WitnessUnavailable


@portal_task(retry_backoff_max=60)
def integrate_log() -> int:
    """Integrate the events waiting (on commit, and by beat every few seconds)."""
    integrate.started("integrate")
    return integrate.integrate()


@portal_task(retry_on=(WitnessUnavailable,), retry_backoff_max=120, max_retries=8)
def push_checkpoint() -> int:
    """Push the newest checkpoint to the witnesses; retried with backoff while one is away."""
    integrate.started("push")
    results = integrate.push_latest()
    if any(result.status == WitnessAnswer.UNAVAILABLE for result in results):
        raise WitnessUnavailable("; ".join(r.detail for r in results if r.status == WitnessAnswer.UNAVAILABLE))
    return sum(result.status == WitnessAnswer.COSIGNED for result in results)
