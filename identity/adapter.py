"""The portal's hooks into django-allauth: who comes in through an identity provider."""

from __future__ import annotations

from allauth.account.adapter import DefaultAccountAdapter
from allauth.core.exceptions import ImmediateHttpResponse
from allauth.socialaccount.adapter import DefaultSocialAccountAdapter
from django.shortcuts import render

from identity.services.identities import SignInRefused, identity_from_claims, sign_in

LOGIN_BACKEND = "identity.backends.PasswordBackend"


def identity_of(sociallogin):
    """The Identity a completed provider sign-in carries."""
    data = sociallogin.account.extra_data or {}
    app = sociallogin.provider.app
    return identity_from_claims(
        app.settings.get("server_url", ""), data.get("id_token") or {}, data.get("userinfo") or {}, app.settings
    )


class AccountAdapter(DefaultAccountAdapter):
    def is_open_for_signup(self, request) -> bool:
        # No local sign-up: accounts are made by administrators, or by a mapped provider.
        return False


class SocialAccountAdapter(DefaultSocialAccountAdapter):
    def pre_social_login(self, request, sociallogin) -> None:
        """Decide before allauth logs anyone in: refuse (revoking what the person holds), or
        make/update the person and link the identity so allauth logs them in."""
        identity = identity_of(sociallogin)
        user = sociallogin.user if sociallogin.is_existing else None
        try:
            user = sign_in(identity, user)
        except SignInRefused as refused:
            response = render(
                request,
                "identity/refused.html",
                {"reason": refused.message, "provider": sociallogin.provider.name},
                status=403,
            )
            raise ImmediateHttpResponse(response) from refused
        user.backend = LOGIN_BACKEND
        if not sociallogin.is_existing:
            sociallogin.user = user
            sociallogin.save(request)
        else:
            sociallogin.user = user

    def is_auto_signup_allowed(self, request, sociallogin) -> bool:
        return False

    def is_open_for_signup(self, request, sociallogin) -> bool:
        return False
