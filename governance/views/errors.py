"""The health check, the lockout page and the error pages (400, 403, 404, 500)."""

from __future__ import annotations

from django.conf import settings
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET


@require_GET
def healthz(request: HttpRequest) -> JsonResponse:
    """Liveness and database reachability, for load balancers and the process manager."""
    try:
        connection.ensure_connection()
        database = "ok"
    except Exception:  # noqa: BLE001 - any failure means "not ready", reported, not raised
        database = "unreachable"
    return JsonResponse(
        {"status": "ok" if database == "ok" else "degraded", "database": database},
        status=200 if database == "ok" else 503,
    )


def locked_out(request, credentials=None, *args, **kwargs) -> HttpResponse:
    """django-axes' answer to a locked-out login: JSON for the API, a page otherwise (429)."""
    message = (
        "Too many failed log-in attempts for this account from this address. "
        f"Try again in {settings.AXES_COOLOFF_TIME.seconds // 60} minutes, or ask an administrator to unlock it."
    )
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": "locked_out"}, status=429)
    return render(request, "registration/locked_out.html", {"message": message}, status=429)


def _error_page(request: HttpRequest, status: int, title: str, message: str) -> HttpResponse:
    if request.path.startswith("/api/"):
        return JsonResponse({"detail": message, "code": title.lower().replace(" ", "_")}, status=status)
    return render(request, "error.html", {"title": title, "message": message}, status=status)


def bad_request(request, exception=None):
    return _error_page(request, 400, "Bad request", "The request could not be understood.")


def permission_denied(request, exception=None):
    message = str(exception) if exception and str(exception) else "You do not have permission to see this page."
    return _error_page(request, 403, "Forbidden", message)


def page_not_found(request, exception=None):
    return _error_page(request, 404, "Not found", "There is nothing at this address.")


def server_error(request):
    return _error_page(request, 500, "Server error", "Something went wrong on our side; it has been logged.")
