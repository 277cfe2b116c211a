"""Celery tasks of the roadmap app: thin wrappers that take ids and call roadmap.services.

Both are safe to run twice: a reminder is claimed by a unique row per initiative and period,
and its email by a conditional update before sending.
"""

from __future__ import annotations

from smtplib import SMTPException

from celery import shared_task
from django.db import OperationalError

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
def send_report_reminders() -> int:
    """Claim the reminders of progress reports falling due and enqueue their emails (beat, hourly)."""
    from roadmap import services

    return len(services.send_report_reminders())


@shared_task(**RETRY)
def email_report_reminder(reminder_id: int) -> bool:
    """Email one claimed reminder to the initiative's owner."""
    from roadmap import services

    return services.email_report_reminder(reminder_id)
