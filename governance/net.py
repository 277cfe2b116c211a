"""The client's address as the portal's own proxies saw it (DESIGN.md 2.7).

Behind `TRUSTED_PROXY_HOPS` reverse proxies (the TLS terminator, a load balancer), each
appends the address it received the request from to X-Forwarded-For; only those last entries
can be trusted, since a client can send any X-Forwarded-For it likes. With no trusted proxy the
address is the socket's. The login lockout (django-axes) and the API throttles both use this.
"""

from __future__ import annotations

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    """The address of whoever connected to the outermost trusted proxy."""
    remote = request.META.get("REMOTE_ADDR", "")
    hops = settings.TRUSTED_PROXY_HOPS
    if hops <= 0:
        return remote
    forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if part.strip()]
    if not forwarded:
        return remote
    return forwarded[-min(hops, len(forwarded))]
