"""Fixtures of the charters tests."""

import pytest
from django.test import override_settings


@pytest.fixture(autouse=True, scope="session")
def _quick_password_hashing():
    """Each test class seats a dozen people; hashing their passwords with the production
    hasher costs over a second each on a shared machine, and says nothing about charters."""
    quick = override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
    quick.enable()
    yield
    quick.disable()
