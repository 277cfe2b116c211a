"""Pages of the governance app. They read through each model's `visible_to` and write
through governance.services."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.db import connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, render
from django.views.decorators.http import require_GET

from governance.choices import Sector
from governance.models import Committee, Membership, Organization


@login_required
def home(request: HttpRequest) -> HttpResponse:
    """What needs the signed-in person's attention, and the state of their committees."""
    memberships = (
        Membership.objects.active()
        .filter(user=request.user)
        .select_related("committee", "organization")
        .order_by("committee__name")
    )
    committees = Committee.objects.visible_to(request.user).with_active_memberships()
    return render(
        request,
        "home.html",
        {"memberships": memberships, "committees": committees},
    )


@login_required
def organization_list(request: HttpRequest) -> HttpResponse:
    organizations = Organization.objects.visible_to(request.user).order_by("sector", "name")
    by_sector = {label: [o for o in organizations if o.sector == value] for value, label in Sector.choices}
    return render(request, "governance/organization_list.html", {"by_sector": by_sector})


@login_required
def organization_detail(request: HttpRequest, pk: int) -> HttpResponse:
    organization = get_object_or_404(Organization.objects.visible_to(request.user), pk=pk)
    seats = (
        Membership.objects.active()
        .filter(organization=organization)
        .select_related("committee", "user")
        .order_by("committee__name", "role")
    )
    return render(request, "governance/organization_detail.html", {"organization": organization, "seats": seats})


@login_required
def committee_list(request: HttpRequest) -> HttpResponse:
    committees = Committee.objects.visible_to(request.user).with_active_memberships()
    return render(request, "governance/committee_list.html", {"committees": committees})


@login_required
def committee_detail(request: HttpRequest, pk: int) -> HttpResponse:
    committee = get_object_or_404(Committee.objects.visible_to(request.user).with_active_memberships(), pk=pk)
    labels = dict(Sector.choices)
    seats = committee.seats_by_sector()
    sectors = [
        {
            "value": sector,
            "label": labels.get(sector, sector),
            "counts": counts,
            "members": [m for m in committee.active_memberships if m.organization.sector == sector],
        }
        for sector, counts in seats.items()
    ]
    return render(
        request,
        "governance/committee_detail.html",
        {"committee": committee, "sectors": sectors, "problems": committee.constitution_problems()},
    )


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
