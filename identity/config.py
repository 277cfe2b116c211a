"""Identity providers from the environment, as django-allauth's OpenID Connect apps.

Why django-allauth (65.x) rather than mozilla-django-oidc: the body signs in people of several
partner organizations, each with its own identity provider. mozilla-django-oidc is configured
for one issuer per settings module (one set of OIDC_OP_* endpoints and one client); several
would mean subclassing its backend and views to swap settings per request. allauth's
`openid_connect` provider takes a list of apps, each its own issuer, client, discovery,
PKCE and ID-token verification, and its adapter gives one hook (pre_social_login) where the
portal decides who may come in. Only its OpenID Connect URLs are mounted: no local sign-up,
no allauth password pages.

One issuer:
    OIDC_ISSUER, OIDC_CLIENT_ID, OIDC_CLIENT_SECRET, and optionally OIDC_NAME (the button's
    label), OIDC_ORGANIZATION_CLAIM (default `organization`), OIDC_ROLES_CLAIM (default
    `roles`), OIDC_MFA_ACR (comma-separated acr values that mean multi-factor),
    OIDC_DISABLED_CLAIM (a claim that, when true, means the account is disabled), OIDC_SCOPE.
Several: OIDC_PROVIDERS=ministry,acme and then OIDC_MINISTRY_ISSUER, OIDC_MINISTRY_CLIENT_ID,
    OIDC_MINISTRY_CLIENT_SECRET, OIDC_MINISTRY_NAME, …; a claim setting not given per issuer
    falls back to the unsuffixed one. The unsuffixed OIDC_ISSUER, when set, is one more
    issuer (id `sso`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping

PROVIDER = "openid_connect"
DEFAULT_ID = "sso"
CLAIM_DEFAULTS = {
    "ORGANIZATION_CLAIM": "organization",
    "ROLES_CLAIM": "roles",
    "MFA_ACR": "",
    "DISABLED_CLAIM": "",
    "SCOPE": "openid profile email",
}
# amr values (RFC 8176) that mean a factor beyond a password was used (`pin` and `pwd` are
# what one knows, so they do not).
MFA_AMR = frozenset({"mfa", "otp", "hwk", "swk", "sms", "fpt", "face", "iris", "sc"})


class ConfigError(ValueError):
    pass


def _app(provider_id: str, get, fallback) -> dict:
    issuer = get("ISSUER").rstrip("/")
    client_id, secret = get("CLIENT_ID"), get("CLIENT_SECRET")
    if not (issuer and client_id):
        prefix = "OIDC_" if provider_id == DEFAULT_ID else f"OIDC_{provider_id.upper()}_"
        raise ConfigError(f"{prefix}ISSUER and {prefix}CLIENT_ID are both needed for the identity provider.")
    value = {key: get(key) or fallback(key) or default for key, default in CLAIM_DEFAULTS.items()}
    return {
        "provider_id": provider_id,
        "name": get("NAME") or re.sub(r"^https?://", "", issuer),
        "client_id": client_id,
        "secret": secret,
        "settings": {
            "server_url": issuer,
            "oauth_pkce_enabled": True,
            "scope": value["SCOPE"].split(),
            "organization_claim": value["ORGANIZATION_CLAIM"],
            "roles_claim": value["ROLES_CLAIM"],
            "mfa_acr": [acr.strip() for acr in value["MFA_ACR"].split(",") if acr.strip()],
            "disabled_claim": value["DISABLED_CLAIM"],
        },
    }


def apps_from_env(environ: Mapping[str, str]) -> list[dict]:
    """The configured identity providers, as allauth openid_connect APPS entries."""

    def unsuffixed(key: str) -> str:
        return environ.get(f"OIDC_{key}", "").strip()

    apps = []
    if unsuffixed("ISSUER"):
        apps.append(_app(DEFAULT_ID, unsuffixed, lambda key: ""))
    for name in filter(None, (part.strip() for part in environ.get("OIDC_PROVIDERS", "").split(","))):
        if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]*", name):
            raise ConfigError(f"OIDC_PROVIDERS: '{name}' must be letters and digits.")

        def suffixed(key: str, name: str = name) -> str:
            return environ.get(f"OIDC_{name.upper()}_{key}", "").strip()

        apps.append(_app(name.lower(), suffixed, unsuffixed))
    ids = [app["provider_id"] for app in apps]
    if len(set(ids)) != len(ids):
        raise ConfigError("OIDC_PROVIDERS names an identity provider twice.")
    return apps


def socialaccount_providers(apps: list[dict]) -> dict:
    return {PROVIDER: {"APPS": apps, "OAUTH_PKCE_ENABLED": True}}
