"""What every app's pages do the same way: say why a service refused, put a service's
errors on a form, and run one act from a POST and go back."""

from __future__ import annotations

from collections.abc import Callable

from django import forms
from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect

from governance.exceptions import DomainError

# What a page can be refused with: a rule of the body (409), a missing right (403), bad input.
REFUSALS = (DomainError, PermissionDenied, ValidationError)


def refusal_message(error: Exception) -> str:
    """The human sentence behind a refusal, whatever kind it is."""
    if isinstance(error, DomainError):
        return error.message
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error) or "You may not do this."


def refuse(request: HttpRequest, error: Exception) -> None:
    """Show a refusal as a message on the page the person comes back to."""
    messages.error(request, refusal_message(error))


def add_service_errors(form: forms.Form, error: Exception) -> None:
    """Put a service's refusal on the form: a ValidationError on its fields when the form has
    them (all of them at once), anything else as a form-wide error."""
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, field_messages in error.message_dict.items():
            form.add_error(field if field in form.fields else None, field_messages)
    else:
        form.add_error(None, refusal_message(error))


def run_act(request: HttpRequest, act: Callable[[], object], *, success: str, redirect_to: str) -> HttpResponse:
    """Run one service call for a POST: a flash saying what happened, or why it was refused,
    then back to `redirect_to` (a URL or a URL name)."""
    try:
        act()
    except REFUSALS as error:
        refuse(request, error)
    else:
        messages.success(request, success)
    return redirect(redirect_to)
