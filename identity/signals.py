"""After an identity provider's sign-in: its multi-factor report counts as the second factor."""

from __future__ import annotations

from allauth.account.signals import user_logged_in
from django.dispatch import receiver
from django_otp import login as otp_login

from identity.adapter import identity_of
from identity.models import IdentityProviderDevice

DEVICE_NAME = "Identity provider (multi-factor sign-in)"


@receiver(user_logged_in)
def provider_second_factor(sender, request, user, sociallogin=None, **kwargs) -> None:
    """A session signed in through a provider that reports more than one factor (amr) or an
    acr the issuer is configured to trust is two-factor verified; otherwise the portal's own
    TOTP is asked for as for anyone (governance.two_factor)."""
    if sociallogin is None or not identity_of(sociallogin).multi_factor:
        return
    device, _ = IdentityProviderDevice.objects.get_or_create(user=user, defaults={"name": DEVICE_NAME})
    otp_login(request, device)
