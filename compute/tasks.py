"""Celery tasks of the compute app: thin wrappers that call compute.services."""

from celery import shared_task

from compute.services import metrics as services


@shared_task(ignore_result=True)
def collect_all_metrics() -> int:
    """One collection pass over every enabled metric source (run by beat)."""
    return services.collect_all_metrics()
