"""The Celery application (configured from Django settings, CELERY_* names) and the one task
decorator every app uses, so retries, backoff and logging follow one policy."""

from __future__ import annotations

import os
from collections.abc import Callable
from smtplib import SMTPException
from typing import Any

from celery import Celery, shared_task

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "governance.settings")

app = Celery("tgb")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

# Transient failures (the database restarting, the mail server or a metric source away) are
# retried with exponential backoff; anything else is a bug and surfaces at once. The database
# error is named by its module path so this module need not import Django's db layer before
# settings are configured.
TRANSIENT_ERRORS: tuple[type[BaseException], ...] = (SMTPException, ConnectionError, TimeoutError)


def _transient_errors() -> tuple[type[BaseException], ...]:
    from django.db import OperationalError

    return (OperationalError, *TRANSIENT_ERRORS)


def portal_task(fn: Callable[..., Any] | None = None, *, retry_on: tuple[type[BaseException], ...] = (), **options):
    """`shared_task` with the portal's policy: results ignored, transient errors (and those
    in `retry_on`) retried with jittered exponential backoff up to ten minutes apart, six
    times; `options` override any of it (`max_retries=4`, `retry_backoff=15`…). Celery's
    worker logs every retry and failure with the task's name and id; arguments are ids."""
    policy: dict[str, Any] = {
        "ignore_result": True,
        "autoretry_for": (*_transient_errors(), *retry_on),
        "retry_backoff": True,
        "retry_backoff_max": 600,
        "retry_jitter": True,
        "max_retries": 6,
    }
    policy.update(options)
    decorator = shared_task(**policy)
    return decorator(fn) if fn is not None else decorator
