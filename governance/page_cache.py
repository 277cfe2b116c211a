"""Signed-in pages served again while nothing they could show has changed.

A page a person opened is kept (in the shared cache, for `SIGNED_IN_PAGE_CACHE_SECONDS`)
under a key that names the person, the page, and the database's snapshot: PostgreSQL's
`pg_current_snapshot()`, which says exactly which transactions' writes a query sees (every
committed one below its xmax, none of those still running). Two equal snapshots see the same
rows, so the next visit with the same key gets the same bytes; once any transaction that
wrote commits (a vote, a signature, a posted hour of usage, a permission, a login) the
snapshot differs and the page renders afresh. No page shows a number older than the data.
What the clock alone changes (today's date, an overdue mark) ages at most the cache's seconds
(a minute by default): a kept page expires that long after it was rendered, each on its own
clock, so pages do not all render again at once.

A page is kept only when no transaction committed while it was rendered (the snapshot is
read before and after), when the response is a plain 200 HTML page without cookies of its own
or "no-store", and when the person has no message waiting (a flash belongs to one response).
Nothing is kept or served inside an open transaction (its own writes are not in any snapshot).
The CSRF token is left out of the stored bytes and put back for each response from the
person's own secret, so a kept page posts as a fresh one does.

Only PostgreSQL gives such a snapshot, and only a cache outside the database can be written
without a transaction of its own: on SQLite or the database cache every page renders each time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

from django.conf import settings
from django.core.cache import cache
from django.core.signals import setting_changed
from django.db import connection
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.middleware.csrf import get_token

# What `{% csrf_token %}` writes while a page is rendered for keeping; never sent as it is.
CSRF_PLACEHOLDER = "csrf-token-of-this-response-9c1f5e2b"
RENDERING = "_page_cache_rendering"
HTMX_HEADERS = ("HTTP_HX_REQUEST", "HTTP_HX_TARGET", "HTTP_HX_TRIGGER", "HTTP_HX_CURRENT_URL", "HTTP_HX_BOOSTED")


_settings_changes = 0


@receiver(setting_changed)
def _count_setting_change(**kwargs) -> None:
    """A setting changed in this process (tests override them): pages kept before may differ."""
    global _settings_changes  # noqa: PLW0603 - one counter per process, read by every key
    _settings_changes += 1


def csrf(request: HttpRequest) -> dict:
    """Context processor, after Django's own: the placeholder while a page is rendered for keeping."""
    return {"csrf_token": CSRF_PLACEHOLDER} if getattr(request, RENDERING, False) else {}


def enabled() -> bool:
    if settings.SIGNED_IN_PAGE_CACHE_SECONDS <= 0 or connection.vendor != "postgresql":
        return False
    return not settings.CACHES["default"]["BACKEND"].endswith("DatabaseCache")


def snapshot() -> str:
    """Which transactions' writes the next query sees; it changes when any writer commits."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_current_snapshot()::text")
        return str(cursor.fetchone()[0])


def has_waiting_messages(request: HttpRequest) -> bool:
    """A flash stored for this person's next page (the cookie or the session holds it)."""
    return "messages" in request.COOKIES or "_messages" in request.session


def _key(request: HttpRequest, seen: str) -> str:
    page = "\n".join(
        [
            request.scheme,
            request.get_host(),
            request.get_full_path(),
            *(request.META.get(name, "") for name in HTMX_HEADERS),
            # Two-factor state and a changed setting (tests override them) change a page too.
            str(request.user.is_verified()) if hasattr(request.user, "is_verified") else "",
            str(_settings_changes),
        ]
    )
    page_digest = hashlib.sha256(f"{seen}\n{page}".encode()).hexdigest()[:40]
    return f"signed-in-page:{request.user.pk}:{page_digest}"


def _with_token(request: HttpRequest, content: bytes) -> bytes:
    placeholder = CSRF_PLACEHOLDER.encode()
    if placeholder not in content:
        return content
    return content.replace(placeholder, get_token(request).encode())


def _keepable(request: HttpRequest, response: HttpResponse) -> bool:
    return (
        response.status_code == 200
        and not response.streaming
        and response.get("Content-Type", "").startswith("text/html")
        and not response.cookies
        and "no-store" not in response.get("Cache-Control", "")
        and not request.session.modified
        and not getattr(getattr(request, "_messages", None), "added_new", False)
    )


class SignedInPageCacheMiddleware:
    """Inside authentication, two-factor and messages (so a person held at the code page never
    reaches a kept page); GET only, for signed-in people."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if (
            request.method != "GET"
            or not request.user.is_authenticated
            or request.path.startswith(("/api/", "/static/", "/public/"))
            or not enabled()
            or connection.in_atomic_block
            or has_waiting_messages(request)
        ):
            return self.get_response(request)
        before = snapshot()
        key = _key(request, before)
        kept = cache.get(key)
        if kept is not None:
            content, headers = kept
            response = HttpResponse(_with_token(request, content), headers=headers)
            response["X-Page-Cache"] = "hit"
            return response
        setattr(request, RENDERING, True)
        try:
            response = self.get_response(request)
        finally:
            setattr(request, RENDERING, False)
        if hasattr(response, "render") and not response.is_rendered:
            response.render()
        content = getattr(response, "content", None) if not response.streaming else None
        if content is not None and _keepable(request, response) and snapshot() == before:
            headers = {name: value for name, value in response.items() if name.lower() != "content-length"}
            cache.set(key, (content, headers), settings.SIGNED_IN_PAGE_CACHE_SECONDS)
        if content is not None:
            response.content = _with_token(request, content)
        return response
