"""Celery tasks of the charters app: thin wrappers that call charters.services."""

from celery import shared_task

from charters import services


@shared_task(ignore_result=True)
def flag_expired_agreements() -> int:
    """Flag expired data use agreements and suspend the charters relying on them (run by beat;
    safe to run twice: each agreement is flagged once)."""
    return services.flag_expired_agreements()
