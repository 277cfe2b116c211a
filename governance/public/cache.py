"""Caching and rate limits of the public view (DESIGN.md 2.8).

A public page is cached whole for anonymous visitors, under a key that names the newest audit
event: every publication (a ballot closing, an award, a charter's approval, approved minutes)
appends an event, so the first visit after it renders afresh and no page outlives what it
shows. Derived data without an event of its own (the monthly usage sums) bumps a generation
counter instead (`invalidate`). Visitors are limited per address, as the API's anonymous
throttles are, with a 429 that says when to come back.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.cache import cache
from django.db.models import Max
from django.http import HttpRequest, HttpResponse
from rest_framework.throttling import AnonRateThrottle

from governance.limits import refusal
from governance.models import AuditEvent

GENERATION_KEY = "public:generation"


class PublicPagesThrottle(AnonRateThrottle):
    """Per-address limit on the public pages and downloads (PUBLIC_RATE_LIMIT, read at each
    request); signed-in people are not counted here."""

    scope = "public"

    def get_rate(self) -> str:
        return settings.PUBLIC_RATE_LIMIT


def invalidate() -> None:
    """Make every cached public page stale (the next visit renders it afresh)."""
    try:
        cache.incr(GENERATION_KEY)
    except ValueError:
        cache.set(GENERATION_KEY, 1, None)


def _key(request: HttpRequest) -> str:
    newest = AuditEvent.objects.aggregate(newest=Max("pk"))["newest"] or 0
    generation = cache.get(GENERATION_KEY, 0)
    digest = hashlib.sha256(request.get_full_path().encode()).hexdigest()
    return f"public:page:{generation}:{newest}:{digest}"


def public_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """GET and HEAD only; throttled per address; cached for visitors without a session."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        if request.method not in ("GET", "HEAD"):
            response = refusal(request, 405, "Method not allowed", "The public pages are read-only.", "read_only")
            response["Allow"] = "GET, HEAD"
            return response
        throttle = PublicPagesThrottle()
        if not throttle.allow_request(request, None):
            wait = int(throttle.wait() or 60)
            response = refusal(
                request,
                429,
                "Too many requests",
                f"This address has asked for more public pages than the limit allows; try again in {wait} seconds.",
                "throttled",
            )
            response["Retry-After"] = str(wait)
            return response
        seconds = settings.PUBLIC_CACHE_SECONDS
        # Only a visitor without a session shares the cache: anyone with one may carry a
        # message or a header of their own that must not be served to others.
        if request.user.is_authenticated or settings.SESSION_COOKIE_NAME in request.COOKIES or seconds <= 0:
            return view(request, *args, **kwargs)
        key = _key(request)
        response = cache.get(key)
        if response is None:
            response = view(request, *args, **kwargs)
            if response.status_code == 200 and not response.streaming:
                if hasattr(response, "render"):
                    response.render()
                cache.set(key, response, seconds)
        response["Cache-Control"] = f"public, max-age={min(seconds, 60)}"
        return response

    return wrapper
