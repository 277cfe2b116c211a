"""Reads of the governance app that several places share."""

from __future__ import annotations

from django.http import HttpRequest

from governance.models import Membership


def own_seats(request: HttpRequest) -> list[tuple[int, str]]:
    """The signed-in person's seats today, as (committee id, role): read once per request,
    since the header and each of the home page's panels ask for them. Kept on the request,
    never on the person, so a seat given or ended is seen by the next request."""
    seats = getattr(request, "_own_seats", None)
    if seats is None:
        user = request.user
        seats = []
        if user.is_authenticated:
            seats = list(Membership.objects.active().filter(user=user).values_list("committee_id", "role"))
        request._own_seats = seats
    return seats
