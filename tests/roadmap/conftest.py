"""Fixtures of the roadmap tests."""

from __future__ import annotations

import pytest
from django.test.utils import override_settings


@pytest.fixture(scope="package", autouse=True)
def _fast_password_hashing():
    """Each test class seats a dozen people; a slow hasher protects real passwords, not these."""
    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        yield
