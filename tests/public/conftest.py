"""The public view's tests start with an empty cache: with Redis it outlives the test database,
and a page cached by an earlier run must not answer for this one."""

import pytest
from django.core.cache import cache
from django.test import TestCase


@pytest.fixture(autouse=True)
def _empty_cache(request):
    # Only the Django test cases touch the cache (the browser test runs a portal of its own).
    if isinstance(request.instance, TestCase):
        cache.clear()
    yield
