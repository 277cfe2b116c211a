"""Optional TOTP two-factor sign-in for co-chairs and administrators (django-otp).

A co-chair or administrator may enrol an authenticator app on /account/two-factor/: the page
shows the secret and a QR code (an inline SVG, no script), and the first code they give
confirms the device. From then on the password alone is not enough: until a code is given,
every page leads to /account/two-factor/verify/ and the session API answers 403.
"""

from __future__ import annotations

import segno
from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.safestring import mark_safe
from django_otp import device_classes
from django_otp import login as otp_login
from django_otp.plugins.otp_totp.models import TOTPDevice

from governance.audit import record_event
from governance.permissions import may_enrol_in_two_factor

DEVICE_NAME = "Authenticator app"
# Pages a person with a device but no code yet may still reach.
OPEN_PATHS = ("/account/two-factor/verify/", "/logout/", "/login/", "/static/", "/healthz/")


def has_two_factor(user) -> bool:
    """Whether the person has two-factor sign-in of their own: a confirmed device that takes
    codes. A device that only records a factor checked elsewhere (the identity provider's
    multi-factor sign-in, identity.models.IdentityProviderDevice) marks one session verified
    and is not one."""
    if user.is_anonymous:
        return False
    # Asked on every request: only the kinds of device that take codes are queried, for one row.
    return any(
        model.objects.devices_for_user(user, confirmed=True).exists()
        for model in device_classes()
        if not getattr(model, "external_factor", False)
    )


def needs_code(user) -> bool:
    return user.is_authenticated and not user.is_verified() and has_two_factor(user)


class TwoFactorMiddleware:
    """After django_otp's OTPMiddleware: holds an enrolled person at the code page."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if not request.path.startswith(OPEN_PATHS) and needs_code(request.user):
            if request.path.startswith("/api/"):
                return JsonResponse({"detail": "Give your two-factor code first."}, status=403)
            return redirect(f"{reverse('two-factor-verify')}?next={request.get_full_path()}")
        return self.get_response(request)


class CodeForm(forms.Form):
    code = forms.RegexField(
        regex=r"^\s*\d{6}\s*$",
        label="Six-digit code",
        help_text="The code your authenticator app shows now.",
        error_messages={"invalid": "Enter the six digits your authenticator app shows."},
        widget=forms.TextInput(attrs={"autocomplete": "one-time-code", "inputmode": "numeric"}),
    )

    def __init__(self, *args, device: TOTPDevice | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.device = device

    def clean_code(self) -> str:
        code = self.cleaned_data["code"].strip()
        if self.device is None or not self.device.verify_token(code):
            raise forms.ValidationError("That code is not the current one. Check the clock of your device.")
        return code


def qr_svg(device: TOTPDevice) -> str:
    """The otpauth:// URL as an accessible inline SVG."""
    svg = segno.make(device.config_url, error="m").svg_inline(scale=4, title="QR code of the two-factor secret")
    return mark_safe(svg)  # noqa: S308 - segno builds the markup from the URL it encodes, no user HTML


def base32_secret(device: TOTPDevice) -> str:
    import base64

    return base64.b32encode(device.bin_key).decode()


@login_required
def enrol(request: HttpRequest) -> HttpResponse:
    """Show the secret of a new device and confirm it with its first code."""
    if not may_enrol_in_two_factor(request.user):
        raise PermissionDenied("Two-factor sign-in is offered to co-chairs and administrators.")
    confirmed = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if confirmed:
        return render(request, "governance/two_factor_enrol.html", {"confirmed": confirmed})
    device = TOTPDevice.objects.filter(user=request.user, confirmed=False).first()
    if device is None:
        device = TOTPDevice.objects.create(user=request.user, name=DEVICE_NAME, confirmed=False)
    form = CodeForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        with transaction.atomic():
            device.confirmed = True
            device.save(update_fields=["confirmed"])
            record_event(request.user, "two_factor.enrolled", request.user, after={"device": device.name})
        otp_login(request, device)
        return redirect("two-factor")
    return render(
        request,
        "governance/two_factor_enrol.html",
        {"form": form, "secret": base32_secret(device), "qr": qr_svg(device)},
    )


@login_required
def verify(request: HttpRequest) -> HttpResponse:
    """The second step of the sign-in: the current code of the enrolled device."""
    next_url = request.POST.get("next") or request.GET.get("next") or "/"
    if not url_has_allowed_host_and_scheme(next_url, allowed_hosts={request.get_host()}):
        next_url = "/"
    device = TOTPDevice.objects.filter(user=request.user, confirmed=True).first()
    if device is None or request.user.is_verified():
        return redirect(next_url)
    form = CodeForm(request.POST or None, device=device)
    if request.method == "POST" and form.is_valid():
        otp_login(request, device)
        return redirect(next_url)
    return render(request, "governance/two_factor_verify.html", {"form": form, "next": next_url})
