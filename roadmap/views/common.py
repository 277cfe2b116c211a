"""What every roadmap page shares: only the body opens it, a form's write comes back with the
service's refusals on the form, and milestone addresses are built without a reverse each."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import HttpRequest
from django.urls import reverse

from governance.exceptions import DomainError
from governance.web import add_service_errors
from roadmap import permissions


def body_required(view: Callable) -> Callable:
    """Signed in, and one of the body: outsiders get a 403 with the reason."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not permissions.may_read_roadmap(request.user):
            raise PermissionDenied("The roadmap is shared with the people of the body's member organizations.")
        return view(request, *args, **kwargs)

    return wrapped


def write(form, act: Callable):
    """Run a service for a valid form; its refusals become form errors. None when refused."""
    try:
        return act()
    except (ValidationError, DomainError) as error:
        add_service_errors(form, error)
    return None


def changed(form) -> dict:
    """The form's cleaned input, for the service."""
    return {name: form.cleaned_data[name] for name in form.fields if name in form.cleaned_data}


def milestone_urls() -> Callable[[int], str]:
    """A milestone's page address by id, reversing the route once rather than per milestone
    (reversing was most of the cost of a 500-milestone timeline)."""
    prefix = reverse("roadmap:milestone-detail", args=[0]).removesuffix("0/")
    return lambda pk: f"{prefix}{pk}/"
