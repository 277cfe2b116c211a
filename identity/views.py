"""The login page: the password form, and a button for each configured identity provider."""

from __future__ import annotations

from functools import wraps
from urllib.parse import urlsplit

from allauth.socialaccount.adapter import get_adapter
from allauth.socialaccount.providers.openid_connect import views as oidc
from django.conf import settings
from django.contrib.auth import views as auth_views
from django.shortcuts import render

from identity.config import PROVIDER
from identity.forms import LoginForm


def issuer_origins() -> list[str]:
    """The configured issuers' origins: the sign-in buttons' forms end at one of them (a form
    posts to the portal, which redirects to the issuer), so the page's CSP form-action names
    them besides 'self'."""
    origins = []
    for app in settings.SOCIALACCOUNT_PROVIDERS.get(PROVIDER, {}).get("APPS", []):
        parts = urlsplit(app["settings"]["server_url"])
        origins.append(f"{parts.scheme}://{parts.netloc}")
    return sorted(set(origins))


def allow_issuer_forms(response):
    origins = issuer_origins()
    if origins:
        response._csp_update = {"form-action": origins}
    return response


def with_issuer_forms(view):
    @wraps(view)
    def wrapped(request, *args, **kwargs):
        return allow_issuer_forms(view(request, *args, **kwargs))

    return wrapped


def identity_providers(request) -> list[dict]:
    """Each configured issuer: its button label and the URL its sign-in form posts to."""
    return [
        {"name": app.name, "url": app.get_provider(request).get_login_url(request)}
        for app in get_adapter().list_apps(request, provider=PROVIDER)
    ]


class LoginView(auth_views.LoginView):
    authentication_form = LoginForm
    redirect_authenticated_user = True

    def get_context_data(self, **kwargs):
        return {**super().get_context_data(**kwargs), "identity_providers": identity_providers(self.request)}

    def render_to_response(self, context, **kwargs):
        return allow_issuer_forms(super().render_to_response(context, **kwargs))


def cancelled(request):
    """The provider refused or the person cancelled: allauth redirects here (its URL name)."""
    return render(request, "socialaccount/authentication_error.html", {"cancelled": True}, status=401)


# allauth's OpenID Connect sign-in (its confirmation page may post on to the issuer) and callback.
login = with_issuer_forms(oidc.login)
callback = oidc.callback
