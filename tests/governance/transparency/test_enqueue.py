"""A burst of commits asks the worker for one integration, not one per commit: the one waiting
in the queue takes every event committed before it starts (real Redis broker and cache)."""

from __future__ import annotations

import pytest
from django.core.cache import cache

from governance.transparency.integrate import QUEUED, send_once, started

pytestmark = pytest.mark.redis


@pytest.fixture
def queue(real_celery, settings):
    import redis

    client = redis.Redis.from_url(settings.REDIS_URL)
    name = real_celery.conf.task_default_queue
    client.delete(name)
    for key in QUEUED.values():
        cache.delete(key)
    yield lambda: client.llen(name)
    client.delete(name)
    for key in QUEUED.values():
        cache.delete(key)


def test_a_burst_of_commits_enqueues_one_integration_until_it_starts(queue):
    for _ in range(20):
        send_once("integrate")
    assert queue() == 1
    started("integrate")  # the worker took it: the next commit asks again
    send_once("integrate")
    send_once("integrate")
    assert queue() == 2


def test_integrations_and_pushes_wait_in_the_queue_independently(queue):
    send_once("integrate")
    send_once("push")
    send_once("push")
    assert queue() == 2
