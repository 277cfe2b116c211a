"""The person's secret iCalendar feed: issuing and stopping it, and the feed itself."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET

from roadmap import exports, selectors
from roadmap.models import (
    CalendarFeed,
)
from roadmap.services import feeds
from roadmap.views.common import body_required, milestone_urls


@body_required
def calendar(request: HttpRequest) -> HttpResponse:
    """Issue, replace or stop the person's secret iCalendar feed of milestone dates."""
    feed_url = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            feeds.revoke_calendar_feed(request.user)
            messages.success(request, "Your calendar feed is stopped; its address no longer works.")
            return redirect("roadmap:calendar")
        token = feeds.issue_calendar_feed(request.user)
        feed_url = request.build_absolute_uri(reverse("roadmap:calendar-feed", args=[token]))
    feed = CalendarFeed.objects.filter(user=request.user).first()
    response = render(request, "roadmap/calendar.html", {"feed": feed, "feed_url": feed_url})
    # The address is a secret shown once: keep it out of caches.
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar feed itself, opened by its secret token (calendar clients send no session)."""
    user = feeds.calendar_feed_user(token)
    if user is None:
        raise Http404("No such calendar feed.")
    roadmap = selectors.current_roadmap(user)
    milestones = []
    if roadmap is not None:
        milestones = selectors.schedule_milestones(roadmap.milestones())
    body = exports.milestones_ical(milestones, site_url=settings.SITE_URL, milestone_path=milestone_urls())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="tgb-roadmap.ics"'
    response["Cache-Control"] = "private, max-age=900"
    return response
