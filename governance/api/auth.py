"""API authentication by expiring, hashed tokens (`Authorization: Token <key>`)."""

from __future__ import annotations

from rest_framework import exceptions
from rest_framework.authentication import TokenAuthentication

from governance.services import tokens


class ExpiringTokenAuthentication(TokenAuthentication):
    """DRF's header format, checked against the hashed, expiring tokens of governance.ApiToken."""

    def authenticate_credentials(self, key):
        token = tokens.authenticate_key(key)
        if token is None:
            raise exceptions.AuthenticationFailed("The token is invalid, expired or revoked.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("This account is inactive.")
        return token.user, token
