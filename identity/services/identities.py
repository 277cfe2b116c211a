"""Signing in through an identity provider, and taking access away (DESIGN.md 2.7).

A sign-in makes or updates only the person (their name, e-mail, organization) and the portal
roles that no seat carries (SSO_ROLES). It never creates, changes or ends a seat: seats follow
2.7. A person the provider no longer vouches for — no mapping matches their claims, or the
provider marks the account disabled — is refused, and every session and API token they hold
is revoked at once.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from governance.audit import record_event, snapshot
from governance.exceptions import DomainError
from governance.models import ApiToken, User
from governance.permissions import require
from governance.roles import is_administrator
from governance.services.people import grant_role, revoke_role
from identity.config import MFA_AMR
from identity.models import SSO_ROLES, OrganizationMapping

PERSON_FIELDS = ["username", "email", "first_name", "last_name", "organization", "is_active"]


class SignInRefused(DomainError):
    """The identity provider signed the person in, but the portal does not let them in."""

    status_code = 403
    default_code = "sign_in_refused"


@dataclass(frozen=True)
class Identity:
    """What a sign-in says about a person, read from the ID token and the userinfo response."""

    issuer: str
    subject: str
    email: str = ""
    username: str = ""
    first_name: str = ""
    last_name: str = ""
    organizations: tuple[str, ...] = ()
    roles: tuple[str, ...] = ()
    disabled: bool = False
    multi_factor: bool = False
    amr: tuple[str, ...] = field(default=())
    acr: str = ""


def _values(claim) -> tuple[str, ...]:
    """A claim as a tuple of strings: a list stays a list, a string splits on commas and spaces."""
    if claim is None or claim == "":
        return ()
    if isinstance(claim, list | tuple):
        return tuple(str(value) for value in claim if value not in (None, ""))
    return tuple(value for value in re.split(r"[,\s]+", str(claim)) if value)


def _truthy(claim) -> bool:
    if isinstance(claim, str):
        return claim.strip().lower() in {"1", "true", "yes", "disabled"}
    return bool(claim)


def identity_from_claims(issuer: str, id_token: dict, userinfo: dict, app_settings: dict) -> Identity:
    """Read the claims the way the issuer's settings name them (see identity/config.py)."""
    claims = {**id_token, **userinfo}
    amr = _values(id_token.get("amr"))
    acr = str(id_token.get("acr") or "")
    mfa_acr = set(app_settings.get("mfa_acr") or ())
    disabled_claim = app_settings.get("disabled_claim") or ""
    return Identity(
        issuer=str(id_token.get("iss") or issuer).rstrip("/"),
        subject=str(claims.get("sub") or ""),
        email=str(claims.get("email") or ""),
        username=str(claims.get("preferred_username") or ""),
        first_name=str(claims.get("given_name") or ""),
        last_name=str(claims.get("family_name") or ""),
        organizations=_values(claims.get(app_settings.get("organization_claim") or "organization")),
        roles=_values(claims.get(app_settings.get("roles_claim") or "roles")),
        disabled=bool(disabled_claim) and _truthy(claims.get(disabled_claim)),
        multi_factor=bool(MFA_AMR.intersection(amr)) or (bool(acr) and acr in mfa_acr),
        amr=amr,
        acr=acr,
    )


def matching_mapping(identity: Identity) -> OrganizationMapping | None:
    """The administrator's mapping for this person's organization claim at this issuer."""
    if not identity.organizations:
        return None
    return (
        OrganizationMapping.objects.select_related("organization")
        .prefetch_related("roles")
        .filter(issuer=identity.issuer, claim_value__in=identity.organizations)
        .order_by("claim_value")
        .first()
    )


def _free_username(identity: Identity) -> str:
    base = identity.username or identity.email.split("@")[0] or f"sso-{identity.subject}"
    base = re.sub(r"[^\w.@+-]", "-", base)[:140] or "sso"
    candidate, number = base, 1
    while User.objects.filter(username=candidate).exists():
        number += 1
        candidate = f"{base}-{number}"
    return candidate


def _set_sso_roles(user: User, wanted: set[str]) -> None:
    current = set(user.groups.filter(name__in=SSO_ROLES).values_list("name", flat=True))
    for role in sorted(wanted - current):
        grant_role(None, user, role)
    for role in sorted(current - wanted):
        revoke_role(None, user, role)


def sign_in(identity: Identity, user: User | None) -> User:
    """Let the person in, or refuse them (SignInRefused) and revoke what they hold.

    `user` is the person this identity was linked to at an earlier sign-in, if any. A new
    person is made without a usable password: they come in through their provider only.
    The revocation commits on its own, before the refusal is raised.
    """
    mapping = None if identity.disabled else matching_mapping(identity)
    if mapping is None:
        reason = (
            "Your identity provider reports this account as disabled."
            if identity.disabled
            else "Your organization at this identity provider is not mapped to a member organization of the portal."
        )
        if user is not None:
            deprovision(None, user, reason=reason)
        raise SignInRefused(reason)
    if user is not None and not user.is_active:
        raise SignInRefused("This account has been deactivated in the portal.")
    return _admit(identity, user, mapping)


@transaction.atomic
def _admit(identity: Identity, user: User | None, mapping: OrganizationMapping) -> User:
    details = {
        "email": identity.email,
        "first_name": identity.first_name,
        "last_name": identity.last_name,
        "organization": mapping.organization,
    }
    if user is None:
        user = User(username=_free_username(identity), **details)
        user.set_unusable_password()
        user.full_clean(exclude=["password"])
        user.save()
        record_event(None, "user.created", user, after={**snapshot(user, PERSON_FIELDS), "issuer": identity.issuer})
    else:
        user = User.objects.select_for_update().get(pk=user.pk)
        before = snapshot(user, PERSON_FIELDS)
        for name, value in details.items():
            if value or name == "organization":
                setattr(user, name, value)
        after = snapshot(user, PERSON_FIELDS)
        if after != before:
            user.full_clean(exclude=["password"])
            user.save()
            record_event(None, "user.updated", user, before=before, after={**after, "issuer": identity.issuer})

    _set_sso_roles(user, {rm.role for rm in mapping.roles.all() if rm.claim_value in identity.roles})
    record_event(
        user,
        "identity.signed_in",
        user,
        after={"issuer": identity.issuer, "subject": identity.subject, "multi_factor": identity.multi_factor},
    )
    return user


@transaction.atomic
def deprovision(actor: User | None, user: User, *, reason: str = "") -> int:
    """Take access away: end every session, revoke every API token, and drop the portal roles
    single sign-on gives. Seats are left to 2.7. `actor` is None when a sign-in found the
    person gone from their provider; otherwise an administrator. Returns the tokens revoked."""
    require(actor is None or is_administrator(actor), "Only administrators take a person's access away.")
    revoked = ApiToken.objects.filter(user=user, revoked_at__isnull=True).update(revoked_at=timezone.now())
    User.objects.filter(pk=user.pk).update(sign_in_epoch=F("sign_in_epoch") + 1)
    user.refresh_from_db(fields=["sign_in_epoch"])
    _set_sso_roles(user, set())
    record_event(actor, "identity.deprovisioned", user, after={"tokens_revoked": revoked, "reason": reason})
    return revoked


@transaction.atomic
def set_mapping(
    actor: User,
    *,
    issuer: str,
    claim_value: str,
    organization,
    roles: dict[str, set[str]] | None = None,
    mapping: OrganizationMapping | None = None,
) -> OrganizationMapping:
    """Map an issuer's organization claim value to an organization and its role claim values
    to portal roles (administrators only, audited). It gives portal roles and an organization
    to people who sign in: never a seat."""
    from django.core.exceptions import ValidationError

    require(is_administrator(actor), "Only administrators map identity providers.")
    roles = roles or {}
    unknown = {role for wanted in roles.values() for role in wanted} - set(SSO_ROLES)
    if unknown:
        raise ValidationError(
            {"roles": f"Single sign-on gives only roles no seat carries; not {', '.join(sorted(unknown))}."}
        )
    before = None
    if mapping is not None and mapping.pk:
        mapping = OrganizationMapping.objects.select_for_update().get(pk=mapping.pk)
        before = _mapping_state(mapping)
    else:
        mapping = OrganizationMapping()
    mapping.issuer, mapping.claim_value, mapping.organization = issuer.rstrip("/"), claim_value, organization
    mapping.full_clean()
    mapping.save()
    wanted = {(value, role) for value, wanted_roles in roles.items() for role in wanted_roles}
    have = {(rm.claim_value, rm.role): rm for rm in mapping.roles.all()}
    for key in set(have) - wanted:
        have[key].delete()
    for value, role in wanted - set(have):
        mapping.roles.create(claim_value=value, role=role)
    after = _mapping_state(mapping)
    if after != before:
        record_event(actor, "identity.mapping_set", mapping, before=before, after=after)
    return mapping


@transaction.atomic
def remove_mapping(actor: User, mapping: OrganizationMapping) -> None:
    """Forget a mapping (administrators only, audited): its people are refused at their next
    sign-in, and their sessions and tokens are revoked then."""
    require(is_administrator(actor), "Only administrators map identity providers.")
    before = _mapping_state(mapping)
    record_event(actor, "identity.mapping_removed", mapping, before=before)
    mapping.delete()


def _mapping_state(mapping: OrganizationMapping) -> dict:
    return {
        "issuer": mapping.issuer,
        "claim_value": mapping.claim_value,
        "organization": mapping.organization_id,
        "roles": sorted(f"{rm.claim_value}={rm.role}" for rm in mapping.roles.all()),
    }


def has_identity(user: User) -> bool:
    """Whether the person has signed in through an identity provider."""
    from allauth.socialaccount.models import SocialAccount

    return SocialAccount.objects.filter(user=user).exists()


@transaction.atomic
def link_identity(actor: User, user: User, *, provider_id: str, subject: str) -> None:
    """Tie an existing account (a member seated before single sign-on, say) to their identity
    at a configured provider, so their first sign-in there reaches this account and its seats
    rather than making a new one. Administrators only, audited; an e-mail address never links
    accounts by itself. An identity already tied to someone else is refused."""
    from allauth.socialaccount.models import SocialAccount
    from django.core.exceptions import ValidationError

    from identity.config import PROVIDER

    require(is_administrator(actor), "Only administrators link accounts to identity providers.")
    apps = settings.SOCIALACCOUNT_PROVIDERS.get(PROVIDER, {}).get("APPS", [])
    if provider_id not in {app["provider_id"] for app in apps}:
        raise ValidationError({"provider": f"No identity provider '{provider_id}' is configured."})
    if not subject.strip():
        raise ValidationError({"subject": "Give the person's subject (`sub`) at the provider."})
    holder = SocialAccount.objects.filter(provider=provider_id, uid=subject).first()
    if holder is not None and holder.user_id != user.pk:
        raise ValidationError({"subject": "This identity already belongs to another account."})
    if holder is None:
        SocialAccount.objects.create(user=user, provider=provider_id, uid=subject, extra_data={})
        record_event(actor, "identity.linked", user, after={"provider": provider_id, "subject": subject})
