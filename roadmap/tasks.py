"""Celery tasks of the roadmap app: thin wrappers that take ids and call roadmap.services.

Both are safe to run twice: a reminder is claimed by a unique row per initiative and period,
and its email by a conditional update before sending. Transient failures are retried with the
portal's policy (governance.celery.portal_task).
"""

from __future__ import annotations

from governance.celery import portal_task
from roadmap.services import reports


@portal_task
def send_report_reminders() -> int:
    """Claim the reminders of progress reports falling due and enqueue their emails (beat, hourly)."""
    return len(reports.send_report_reminders())


@portal_task
def email_report_reminder(reminder_id: int) -> bool:
    """Email one claimed reminder to the initiative's owner."""
    return reports.email_report_reminder(reminder_id)
