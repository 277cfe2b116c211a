"""Published decisions: closed ballots with their per-sector tallies, recusals, outcome and
meeting; the approved minutes of that meeting; the named roll call where the committee
publishes it."""

from __future__ import annotations

from django.contrib.auth.models import AnonymousUser
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from governance.models import Ballot, Meeting
from governance.pagination import paginate
from governance.public import selectors
from governance.public.cache import public_page
from governance.views.ballots import tally_context
from governance.views.meetings import minutes_pdf_response

PER_PAGE = 20


@public_page
def decision_list(request: HttpRequest) -> HttpResponse:
    page, query = paginate(request, selectors.decisions(), PER_PAGE)
    return render(
        request, "public/decision_list.html", {"page": page, "query": query, "rows": selectors.decision_rows(page)}
    )


@public_page
def decision_detail(request: HttpRequest, pk: int) -> HttpResponse:
    ballot = get_object_or_404(selectors.decisions(), pk=pk)
    (row,) = selectors.decision_rows([ballot])
    context = {
        "row": row,
        "roll_call": selectors.roll_call(ballot),
        "event": selectors.decision_event(ballot),
        "follow_ups": Ballot.objects.published().filter(previous_ballot=ballot).values_list("pk", flat=True),
        # The tally panel of the ballot page, as anyone sees a closed ballot's tally.
        **tally_context(ballot, AnonymousUser()),
    }
    return render(request, "public/decision_detail.html", context)


@public_page
def minutes(request: HttpRequest, pk: int) -> HttpResponse:
    """A meeting's minutes, once approved (a draft is never public), with its decisions."""
    meeting = get_object_or_404(Meeting.objects.published().select_related("committee", "minutes"), pk=pk)
    decided = selectors.decisions().filter(agenda_item__meeting=meeting)
    return render(
        request,
        "public/minutes.html",
        {"meeting": meeting, "minutes": meeting.minutes, "rows": selectors.decision_rows(decided)},
    )


@public_page
def minutes_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The archived PDF of a meeting's approved minutes, the same bytes members download."""
    meeting = get_object_or_404(Meeting.objects.published(), pk=pk)
    return minutes_pdf_response(meeting, cache_control="public, max-age=3600")
