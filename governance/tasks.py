"""Celery tasks of the governance app: thin wrappers that take ids and call services."""

from datetime import timedelta

from celery import shared_task
from celery.signals import worker_ready

from governance import notifications, outbox


@shared_task(ignore_result=True)
def flush_outbox() -> int:
    """Send the tasks that could not reach the broker when they were enqueued."""
    sent = outbox.flush_outbox()
    outbox.purge_sent()
    return sent


@worker_ready.connect
def _flush_outbox_on_start(sender=None, **kwargs):
    # A worker coming back after an outage picks up what waited, without waiting for beat.
    outbox.flush_outbox(older_than=timedelta(0))


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_account_created_email(user_id: int) -> bool:
    """Welcome a new account holder (SMTP hiccups are retried with backoff)."""
    return notifications.send_account_created(user_id)
