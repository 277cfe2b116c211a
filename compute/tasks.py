"""Celery tasks of the compute app: thin wrappers that call compute.services."""

from celery import shared_task

from compute import notifications
from compute.services import ledger
from compute.services import metrics as services


@shared_task(ignore_result=True)
def collect_all_metrics() -> int:
    """One collection pass over every enabled metric source (run by beat)."""
    return services.collect_all_metrics()


@shared_task(ignore_result=True)
def expire_credit_pools() -> int:
    """Return unspent credits of ended pools to them (run by beat; safe to repeat)."""
    return ledger.expire_pools()


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_credit_alert(alert_id: int) -> int:
    """Email an account's alert, once (SMTP hiccups are retried with backoff)."""
    return notifications.send_credit_alert(alert_id)
