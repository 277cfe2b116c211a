"""The login form: says so when a person should use their identity provider instead."""

from __future__ import annotations

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from identity.backends import SSO_ONLY_MESSAGE, password_refused_for


class LoginForm(AuthenticationForm):
    sso_only = False

    def clean(self):
        if password_refused_for(self.cleaned_data.get("username")):
            self.sso_only = True
            raise forms.ValidationError(SSO_ONLY_MESSAGE, code="sso_only")
        return super().clean()
