"""A person's own account: changing the password and signing out everywhere (DESIGN.md 2.7)."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.decorators import login_required
from django.contrib.auth.views import PasswordChangeView
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.views.decorators.http import require_POST

from governance import services, web
from governance.choices import NotificationDelivery
from governance.forms import NotificationDeliveryForm
from governance.models import ApiToken
from governance.services import tokens


class PasswordChange(PasswordChangeView):
    """Django's password change (old password, new one twice, the validators), plus the
    portal's rule: the person's API tokens end with the old password, and the change is audited."""

    template_name = "governance/password_change.html"
    success_url = reverse_lazy("account")

    def form_valid(self, form):
        response = super().form_valid(form)
        revoked = tokens.password_changed(self.request.user)
        note = f" {revoked} API token{'s' if revoked != 1 else ''} revoked." if revoked else ""
        messages.success(self.request, "Your password is changed; other sessions are signed out." + note)
        return response


@login_required
def account(request: HttpRequest, new_token: str = "") -> HttpResponse:
    """The person's sign-in: password, two-factor, API tokens, sign out everywhere."""
    from identity.backends import password_refused

    api_tokens = ApiToken.objects.filter(user=request.user).order_by("-created_at")[:20]
    return render(
        request,
        "governance/account.html",
        {
            "api_tokens": api_tokens,
            "token_hours": settings.API_TOKEN_HOURS,
            "new_token": new_token,
            # People who sign in through their organization's provider have no password here.
            "has_password": not password_refused(request.user),
            "form": NotificationDeliveryForm(initial={"notification_delivery": request.user.notification_delivery}),
        },
    )


@login_required
@require_POST
def issue_api_token(request: HttpRequest) -> HttpResponse:
    """A new API token for the signed-in person, shown once on the page: the way to the API
    for people who sign in through single sign-on, whose password the token endpoint refuses.
    The session already passed the person's second factor where they have one (the two-factor
    middleware), so the token carries it."""
    is_verified = getattr(request.user, "is_verified", None)
    key, _ = tokens.issue_token(request.user, verified=bool(is_verified and is_verified()))
    response = account(request, new_token=key)
    response["Cache-Control"] = "no-store"
    return response


@login_required
def delivery(request: HttpRequest) -> HttpResponse:
    """Choose how the portal's e-mails reach you: at once, or in a daily or weekly digest."""
    form = NotificationDeliveryForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.update_user(request.user, request.user, **form.cleaned_data)
        except web.REFUSALS as error:
            web.add_service_errors(form, error)
        else:
            choice = NotificationDelivery(form.cleaned_data["notification_delivery"])
            messages.success(request, f"E-mails now reach you: {choice.label.lower()}.")
            return redirect("account")
    return render(
        request,
        "governance/account.html",
        {"api_tokens": ApiToken.objects.filter(user=request.user).order_by("-created_at")[:20], "form": form},
    )


@login_required
@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    """End every session and revoke every API token of the signed-in person, this one too."""
    tokens.sign_out_everywhere(request.user, request.user)
    logout(request)
    return redirect("login")
