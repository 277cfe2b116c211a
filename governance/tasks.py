"""Celery tasks of the governance app: thin wrappers that take ids and call services.

Every task is safe to run twice: closing claims the ballot under a row lock, and each
notification claims its notice with a conditional update before sending.
"""

from __future__ import annotations

from datetime import timedelta
from smtplib import SMTPException

from celery import shared_task
from celery.signals import worker_ready
from django.db import OperationalError

from governance import notifications, outbox, services
from governance.transparency import tasks as _transparency_tasks  # noqa: F401 - registers the log's tasks

# Transient failures (the database restarting, the mail server away) are retried with
# exponential backoff; anything else is a bug and surfaces at once.
RETRY = {
    "autoretry_for": (OperationalError, SMTPException, ConnectionError, TimeoutError),
    "retry_backoff": True,
    "retry_backoff_max": 600,
    "retry_jitter": True,
    "max_retries": 6,
    "ignore_result": True,
}


@shared_task(**RETRY)
def close_due_ballots() -> int:
    """Close every open ballot whose closing time has come (run by beat every minute)."""
    return len(services.close_due_ballots())


@shared_task(**RETRY)
def send_ballot_reminders() -> int:
    """Enqueue the 24-hour reminders that are due (run by beat)."""
    due = notifications.ballots_needing_reminders()
    for ballot_id in due:
        # Straight to the broker: this already runs in a worker, and a lost reminder is
        # found again by the next run (the notice is claimed only when sent).
        remind_ballot_voters.delay(ballot_id)
    return len(due)


@shared_task(**RETRY)
def notify_ballot_opened(ballot_id: int) -> int:
    return notifications.send_ballot_opened(ballot_id)


@shared_task(**RETRY)
def remind_ballot_voters(ballot_id: int) -> int:
    return notifications.send_ballot_reminder(ballot_id)


@shared_task(**RETRY)
def notify_ballot_result(ballot_id: int) -> int:
    return notifications.send_ballot_result(ballot_id)


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


@shared_task(**RETRY)
def send_account_created_email(user_id: int) -> bool:
    """Welcome a new account holder."""
    return notifications.send_account_created(user_id)
