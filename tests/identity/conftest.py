"""Fixtures of the single sign-on tests: a real OpenID provider and the portal pointed at it."""

from __future__ import annotations

import pytest

from identity.config import apps_from_env, socialaccount_providers
from tests.identity.provider import IdentityProviders


@pytest.fixture(scope="session")
def identity_providers(live_server, tmp_path_factory):
    """Two issuers (the ministry's and Helios's) in one Node.js process, for the session."""
    providers = IdentityProviders(tmp_path_factory.mktemp("oidc"), live_server.url)
    yield providers
    providers.stop()


@pytest.fixture
def sso(identity_providers, settings):
    """The portal configured from the environment variables a deployment would set, with
    every test account as the provider first knew it."""
    identity_providers.reset()
    env = identity_providers.env(OIDC_MFA_ACR="urn:tgb:mfa", OIDC_DISABLED_CLAIM="account_disabled")
    settings.SOCIALACCOUNT_PROVIDERS = socialaccount_providers(apps_from_env(env))
    return identity_providers
