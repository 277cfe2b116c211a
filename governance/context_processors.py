"""Template context every page shares."""

from __future__ import annotations

from django.http import HttpRequest

from governance.permissions import may_enrol_in_two_factor
from governance.selectors import own_seats


def account(request: HttpRequest) -> dict:
    """What the header's account area offers. Callables: templates evaluate them only when
    they render the header for a signed-in person, so other responses pay no query."""
    # An error page can be rendered before authentication ran (a bad Host header is refused
    # by the middleware ahead of it): such a page has no signed-in person.
    user = getattr(request, "user", None)
    if user is None:
        return {"offers_two_factor": False, "reads_the_record": False}
    return {
        "offers_two_factor": lambda: user.is_authenticated and may_enrol_in_two_factor(user, own_seats(request)),
        "reads_the_record": lambda: user.is_authenticated and user.has_perm("governance.view_auditevent"),
    }
