"""Ways in: API tokens, two-factor on every one of them, signing out everywhere, password
changes (DESIGN.md 2.7). Every act here is audited; no key is ever stored or logged."""

from __future__ import annotations

import datetime
import secrets

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django_otp import match_token

from governance.audit import record_event
from governance.exceptions import DomainError
from governance.models import ApiToken, User
from governance.models.tokens import hash_key


class TwoFactorRequired(DomainError):
    """The person has two-factor sign-in and sent no code, or a wrong one (HTTP 400)."""

    status_code = 400
    default_code = "otp_required"


def token_lifetime() -> datetime.timedelta:
    return datetime.timedelta(hours=settings.API_TOKEN_HOURS)


def check_second_factor(user: User, otp: str | None) -> bool:
    """Whether the person passes two-factor: True when they have a confirmed device and the
    code matches it, False when they have none; raises when a code is needed and missing or
    wrong."""
    from governance.two_factor import has_two_factor

    if not has_two_factor(user):
        return False
    if not otp:
        raise TwoFactorRequired(
            "This account signs in with two factors: send the current code from the authenticator app as `otp`.",
        )
    if match_token(user, otp.strip()) is None:
        raise TwoFactorRequired("The two-factor code is wrong or expired.", code="otp_invalid")
    return True


@transaction.atomic
def issue_token(user: User, *, otp: str | None = None, verified: bool | None = None) -> tuple[str, ApiToken]:
    """A new API token for the person, valid for API_TOKEN_HOURS; returns the key (shown this
    once, stored only as its hash) and the token row. A person with two-factor sign-in must
    pass it here too, so a password alone never opens the API."""
    two_factor = check_second_factor(user, otp) if verified is None else verified
    key = secrets.token_hex(20)
    now = timezone.now()
    token = ApiToken.objects.create(
        user=user,
        key_hash=hash_key(key),
        prefix=key[:8],
        expires_at=now + token_lifetime(),
        verified_two_factor=two_factor,
    )
    record_event(
        user,
        "token.issued",
        token,
        after={"user": user.pk, "expires_at": token.expires_at, "two_factor": two_factor},
    )
    return key, token


def authenticate_key(key: str) -> ApiToken | None:
    """The usable token with this key, if any (its last use is noted at most once a minute)."""
    token = ApiToken.objects.usable().select_related("user").filter(key_hash=hash_key(key)).first()
    if token is None:
        return None
    now = timezone.now()
    if token.last_used_at is None or now - token.last_used_at > datetime.timedelta(minutes=1):
        ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    return token


@transaction.atomic
def revoke_token(actor: User, token: ApiToken) -> ApiToken:
    """Revoke one token: its holder, or an administrator."""
    from governance.permissions import can_change_user, require

    require(can_change_user(actor, token.user), "Only the token's holder or an administrator revokes it.")
    updated = ApiToken.objects.filter(pk=token.pk, revoked_at__isnull=True).update(revoked_at=timezone.now())
    token.refresh_from_db()
    if updated:
        record_event(actor, "token.revoked", token, after={"user": token.user_id})
    return token


@transaction.atomic
def sign_out_everywhere(actor: User, user: User) -> int:
    """End every session of the person and revoke every API token they hold; returns how
    many tokens were revoked. The session this is asked from ends too."""
    from governance.permissions import can_change_user, require

    require(can_change_user(actor, user), "Only the person themselves or an administrator signs them out.")
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    User.objects.filter(pk=user.pk).update(sign_in_epoch=F("sign_in_epoch") + 1)
    user.refresh_from_db(fields=["sign_in_epoch"])
    record_event(actor, "user.signed_out_everywhere", user, after={"tokens_revoked": revoked})
    return revoked


@transaction.atomic
def password_changed(user: User) -> int:
    """After a person changes their password: audit it and revoke their API tokens (a token
    issued under the old password should not outlive it). Other sessions end by themselves,
    since Django's session hash covers the password."""
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    record_event(user, "user.password_changed", user, after={"tokens_revoked": revoked})
    return revoked
