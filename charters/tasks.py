"""Celery tasks of the charters app: thin wrappers that take ids and call the app's services."""

from celery import shared_task

from charters import notifications, services


@shared_task(ignore_result=True)
def flag_expired_agreements() -> int:
    """Flag expired data use agreements and suspend the charters relying on them (run by beat;
    safe to run twice: each agreement is flagged once)."""
    return services.flag_expired_agreements()


@shared_task(ignore_result=True)
def notify_charter_status(charter_id: int, step: str) -> int:
    """Email the people a charter's step concerns (enqueued by the step, through the outbox)."""
    return notifications.send_status_changed(charter_id, step)
