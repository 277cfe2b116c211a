"""Template context every page shares."""

from __future__ import annotations

from django.http import HttpRequest

from governance.permissions import may_enrol_in_two_factor


def account(request: HttpRequest) -> dict:
    """What the header's account area offers. Callables: templates evaluate them only when
    they render the header for a signed-in person, so other responses pay no query."""
    user = request.user
    return {"offers_two_factor": lambda: user.is_authenticated and may_enrol_in_two_factor(user)}
