"""Local passwords are for break-glass administrators once single sign-on is configured."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.core.exceptions import PermissionDenied

from governance.roles import is_administrator

SSO_ONLY_MESSAGE = (
    "This account signs in through its organization's identity provider: use the “Sign in with” button. "
    "Local passwords are kept for the portal's break-glass administrators."
)


def sso_configured() -> bool:
    return bool(getattr(settings, "SOCIALACCOUNT_PROVIDERS", {}).get("openid_connect", {}).get("APPS"))


def password_refused(user) -> bool:
    """A person who has signed in through an identity provider, and is no administrator,
    signs in there only: their provider decides whether they still may."""
    from identity.services.identities import has_identity

    return sso_configured() and user is not None and not is_administrator(user) and has_identity(user)


def password_refused_for(username: str | None) -> bool:
    if not username or not sso_configured():
        return False
    model = get_user_model()
    user = model._default_manager.filter(**{model.USERNAME_FIELD: username}).first()
    return password_refused(user)


class PasswordBackend(ModelBackend):
    """Django's password backend, refusing people who sign in through their provider, so the
    login page and the API token endpoint alike turn their password away. Raising
    PermissionDenied stops Django from asking any other backend."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if password_refused_for(username or kwargs.get(get_user_model().USERNAME_FIELD)):
            raise PermissionDenied(SSO_ONLY_MESSAGE)
        return super().authenticate(request, username=username, password=password, **kwargs)
