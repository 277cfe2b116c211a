"""The public view's tests start with an empty cache: with Redis it outlives the test database,
and a page cached by an earlier run must not answer for this one."""

import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    cache.clear()
    yield
