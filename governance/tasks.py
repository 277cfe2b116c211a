"""Celery tasks of the governance app: thin wrappers that take ids and call services.

Every task is safe to run twice: closing claims the ballot under a row lock, and each
notification claims its notice with a conditional update before sending.
"""

from __future__ import annotations

from datetime import timedelta

from celery.signals import worker_ready

from governance import digests, notifications, outbox, services
from governance.celery import portal_task
from governance.transparency import tasks as _transparency_tasks  # noqa: F401 - registers the log's tasks


@portal_task
def close_due_ballots() -> int:
    """Close every open ballot whose closing time has come (run by beat every minute)."""
    return len(services.close_due_ballots())


@portal_task
def send_ballot_reminders() -> int:
    """Enqueue the 24-hour reminders that are due (run by beat)."""
    due = notifications.ballots_needing_reminders()
    for ballot_id in due:
        # Straight to the broker: this already runs in a worker, and a lost reminder is
        # found again by the next run (the notice is claimed only when sent).
        remind_ballot_voters.delay(ballot_id)
    return len(due)


@portal_task
def notify_ballot_opened(ballot_id: int) -> int:
    return notifications.send_ballot_opened(ballot_id)


@portal_task
def remind_ballot_voters(ballot_id: int) -> int:
    return notifications.send_ballot_reminder(ballot_id)


@portal_task
def remind_missing_voters(ballot_id: int, user_ids: list[int]) -> int:
    return notifications.send_chair_reminder(ballot_id, user_ids)


@portal_task
def notify_ballot_result(ballot_id: int) -> int:
    return notifications.send_ballot_result(ballot_id)


@portal_task
def notify_substitution(substitution_id: int) -> int:
    """Tell the sector's co-chair and the substitute that a substitute was named."""
    return notifications.send_substitution_named(substitution_id)


@portal_task
def send_due_digests() -> int:
    """Enqueue the daily and weekly digests that are due (run by beat every hour); each is
    claimed once per person and period when sent."""
    due = digests.users_with_due_digests()
    for user_id in due:
        send_digest.delay(user_id)
    return len(due)


@portal_task
def send_digest(user_id: int) -> int:
    return digests.send_digest(user_id)


@portal_task
def flush_outbox() -> int:
    """Send the tasks that could not reach the broker when they were enqueued."""
    sent = outbox.flush_outbox()
    outbox.purge_sent()
    return sent


@worker_ready.connect
def _flush_outbox_on_start(sender=None, **kwargs):
    # A worker coming back after an outage picks up what waited, without waiting for beat.
    outbox.flush_outbox(older_than=timedelta(0))


@portal_task
def send_account_created_email(user_id: int) -> bool:
    """Welcome a new account holder."""
    return notifications.send_account_created(user_id)


@portal_task
def send_meeting_invitations(meeting_id: int) -> int:
    """Mail a meeting's invitation (or cancellation) to its roll, once per sequence."""
    return notifications.send_meeting_invitations(meeting_id)


@portal_task
def archive_minutes_pdf(minutes_id: int) -> str:
    """Make and archive the PDF of approved minutes (once; a second run finds it made)."""
    return services.archive_minutes_pdf(minutes_id)
