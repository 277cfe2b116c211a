"""Enqueueing Celery tasks so that none is lost and none runs for a change that rolled back.

    from governance.outbox import enqueue
    enqueue("governance.tasks.notify_ballot_opened", ballot.pk)

`enqueue` records the task in the caller's transaction and sends it to the broker once the
transaction commits. If the broker is unreachable then (Redis down), the request still
succeeds and the task waits in the outbox; `flush_outbox` (a beat task, also run by the
worker when it starts) sends it when the broker is back.
"""

from __future__ import annotations

import importlib
import logging
from datetime import timedelta

from django.db import transaction
from django.db.models import F
from django.utils import timezone

from governance.celery import app
from governance.models import OutboxTask

logger = logging.getLogger(__name__)

# Short, so a request never waits long on a broker that is down; the sweep retries later.
_PUBLISH_RETRY_POLICY = {"max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.2}


def enqueue(task: str, *args, **kwargs) -> OutboxTask:
    """Record `task(*args, **kwargs)` now; send it when the current transaction commits."""
    entry = OutboxTask.objects.create(task=task, args=list(args), kwargs=kwargs)
    transaction.on_commit(lambda: _send(entry.pk))
    return entry


def _send(entry_id: int) -> bool:
    entry = OutboxTask.objects.filter(pk=entry_id, sent_at__isnull=True).first()
    if entry is None:
        return True
    if app.conf.task_always_eager:
        # Eager mode (tests, benchmarks): run it here and now, as the worker would.
        importlib.import_module(entry.task.rsplit(".", 1)[0])  # registers the task
        app.tasks[entry.task].apply(args=entry.args, kwargs=entry.kwargs, throw=True)
        OutboxTask.objects.filter(pk=entry.pk).update(sent_at=timezone.now(), attempts=F("attempts") + 1)
        return True
    try:
        app.send_task(entry.task, args=entry.args, kwargs=entry.kwargs, retry=True, retry_policy=_PUBLISH_RETRY_POLICY)
    except Exception as error:  # noqa: BLE001 - any broker failure leaves the task in the outbox
        logger.warning("Broker unavailable; %s stays in the outbox: %s", entry, error)
        OutboxTask.objects.filter(pk=entry.pk).update(attempts=F("attempts") + 1, last_error=str(error)[:2000])
        return False
    OutboxTask.objects.filter(pk=entry.pk).update(sent_at=timezone.now(), attempts=F("attempts") + 1, last_error="")
    return True


def flush_outbox(older_than: timedelta = timedelta(seconds=5), limit: int = 500) -> int:
    """Send what is still unsent (oldest first); returns how many were sent. Stops at the
    first broker failure: the rest waits for the next sweep."""
    cutoff = timezone.now() - older_than
    sent = 0
    pending = OutboxTask.objects.filter(sent_at__isnull=True, created_at__lte=cutoff).values_list("pk", flat=True)
    for entry_id in list(pending[:limit]):
        if not _send(entry_id):
            break
        sent += 1
    return sent


def purge_sent(older_than: timedelta = timedelta(days=7)) -> int:
    """Forget tasks sent long ago."""
    deleted, _ = OutboxTask.objects.filter(sent_at__lt=timezone.now() - older_than).delete()
    return deleted
