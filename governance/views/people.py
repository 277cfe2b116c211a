"""Pages about the body itself: the home page, organizations and committees."""

from __future__ import annotations

from django.contrib.auth.decorators import login_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, render

from governance.choices import (
    Sector,
)
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
