"""Celery tasks of the charters app: thin wrappers that take ids and call the app's services."""

from charters import notifications
from charters.services import agreements
from governance.celery import portal_task


# Not retried: beat runs it again tomorrow, and each agreement is flagged once.
@portal_task(autoretry_for=())
def flag_expired_agreements() -> int:
    """Flag expired data use agreements and suspend the charters relying on them (run by beat;
    safe to run twice: each agreement is flagged once)."""
    return agreements.flag_expired_agreements()


# Not retried: a retry after a failed email would write again to the people already told.
@portal_task(autoretry_for=())
def notify_charter_status(charter_id: int, step: str) -> int:
    """Email the people a charter's step concerns (enqueued by the step, through the outbox)."""
    return notifications.send_status_changed(charter_id, step)


# Not retried, for the same reason.
@portal_task(autoretry_for=())
def notify_step_consent(consent_id: int) -> int:
    """Tell the other sectors' co-chairs that one co-chair asks to suspend, resume or
    terminate a charter and waits for them."""
    return notifications.send_step_consent(consent_id)
