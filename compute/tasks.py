"""Celery tasks of the compute app: thin wrappers that call compute.services."""

from django.db import transaction

from compute import notifications
from compute.collectors.prometheus import SourceRefused, SourceUnavailable
from compute.services.credits import pools
from compute.services.metrics import attribution, collection, security
from governance.celery import portal_task


@portal_task
def collect_all_metrics() -> int:
    """Beat's collection tick: one task per source that is due, so a slow or failing source
    never holds up the others. Sources backing off after failures wait their turn."""
    due = collection.due_sources()
    for source_id in due:
        transaction.on_commit(lambda source_id=source_id: collect_source.delay(source_id))
    return len(due)


@portal_task(retry_on=(SourceUnavailable,), retry_backoff=15, max_retries=4)
def collect_source(source_id: int) -> None:
    """Collect one source. An unreachable source is retried with exponential backoff; a
    refused query is a configuration error, recorded on the source and not retried."""
    try:
        collection.collect_source(source_id)
    except SourceRefused:
        return


@portal_task
def ingest_watched_reports() -> int:
    """Pick up new security reports from every watched directory."""
    return security.scan_watched_directories()


@portal_task
def purge_raw_samples() -> int:
    """Drop raw samples past the retention horizon; the rollups keep the history."""
    return collection.purge_raw_samples()


@portal_task
def post_pending_usage() -> int:
    """Hand the ledger the attributed usage it has not taken yet."""
    return attribution.post_pending_usage()


@portal_task
def expire_credit_pools() -> int:
    """Return unspent credits of ended pools to them (run by beat; safe to repeat)."""
    return pools.expire_pools()


@portal_task(retry_on=(OSError,), max_retries=5)
def send_credit_alert(alert_id: int) -> int:
    """Email an account's alert, once (SMTP hiccups are retried with backoff)."""
    return notifications.send_credit_alert(alert_id)


@portal_task
def refresh_usage_months() -> int:
    """Sum the new usage into the public monthly aggregates (idempotent)."""
    from compute.services.credits import usage_months

    return usage_months.refresh_usage_months()
