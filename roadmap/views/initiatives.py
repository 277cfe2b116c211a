"""Pages of initiatives: an initiative's standing, adding and editing one."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse

from governance import values
from governance.choices import Sector
from roadmap import permissions, selectors
from roadmap.forms import (
    InitiativeForm,
)
from roadmap.models import (
    Initiative,
    ProgressReport,
    Roadmap,
)
from roadmap.services import initiatives
from roadmap.views.common import body_required, changed, write


@body_required
def initiative_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """An initiative: its standing, milestones, report history and linked charters."""
    user = request.user
    initiative = get_object_or_404(selectors.with_standing_data(Initiative.objects.visible_to(user)), pk=pk)
    standing = selectors.standings([initiative])[initiative.pk]
    reports = ProgressReport.objects.filter(initiative=initiative).select_related("author").order_by("-period_start")
    return render(
        request,
        "roadmap/initiative_detail.html",
        {
            "initiative": initiative,
            "standing": standing,
            "milestones": initiative.schedule,
            "reports": reports,
            "charters": selectors.charter_credit_use(
                initiative.charters.select_related("lead_organization").order_by("title")
            ),
            "due": selectors.report_due(initiative),
            "sponsors_by_sector": [
                (label, [o for o in initiative.sponsors.all() if o.sector == value]) for value, label in Sector.choices
            ],
            "can_plan": permissions.may_plan(user),
            "can_report": permissions.may_report(user, initiative),
        },
    )


@body_required
def initiative_create(request: HttpRequest) -> HttpResponse:
    permissions.require_planner(request.user)
    roadmap = None
    roadmap_id = values.optional_id(request.GET.get("roadmap", ""))
    if roadmap_id is not None:
        roadmap = get_object_or_404(Roadmap.objects.visible_to(request.user), pk=roadmap_id)
    form = InitiativeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = changed(form)
        initiative = write(form, lambda: initiatives.create_initiative(request.user, roadmap=roadmap, **data))
        if initiative is not None:
            messages.success(request, f"Initiative '{initiative}' added.")
            return redirect("roadmap:initiative-detail", initiative.pk)
    title = f"New initiative in roadmap v{roadmap.version}" if roadmap else "New initiative"
    cancel_url = reverse("roadmap:roadmap-detail", args=[roadmap.pk]) if roadmap else reverse("roadmap:index")
    return render(request, "roadmap/form.html", {"form": form, "title": title, "cancel_url": cancel_url})


@body_required
def initiative_edit(request: HttpRequest, pk: int) -> HttpResponse:
    permissions.require_planner(request.user)
    initiative = get_object_or_404(Initiative.objects.visible_to(request.user), pk=pk)
    form = InitiativeForm(request.POST or None, instance=initiative, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = changed(form)
        if write(form, lambda: initiatives.update_initiative(request.user, initiative, **data)) is not None:
            messages.success(request, "Initiative saved.")
            return redirect("roadmap:initiative-detail", initiative.pk)
    return render(
        request,
        "roadmap/form.html",
        {
            "form": form,
            "title": f"Edit {initiative}",
            "cancel_url": reverse("roadmap:initiative-detail", args=[initiative.pk]),
        },
    )
