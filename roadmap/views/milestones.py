"""Pages of milestones: a milestone with its dependencies and baseline history, adding and
editing one."""

from __future__ import annotations

from django.contrib import messages
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render

from roadmap import permissions, selectors
from roadmap.forms import (
    MilestoneForm,
)
from roadmap.models import (
    BaselineEntry,
    Initiative,
    Milestone,
)
from roadmap.services import milestones
from roadmap.views.common import body_required, changed, write


@body_required
def milestone_detail(request: HttpRequest, pk: int) -> HttpResponse:
    milestone = get_object_or_404(
        selectors.schedule_milestones(Milestone.objects.visible_to(request.user)).prefetch_related(
            Prefetch("dependents", queryset=Milestone.objects.select_related("initiative"))
        ),
        pk=pk,
    )
    history = BaselineEntry.objects.filter(milestone=milestone).select_related("baseline__roadmap")
    return render(
        request,
        "roadmap/milestone_detail.html",
        {
            "milestone": milestone,
            "conflicts": {dep.pk for dep in milestone.dependency_conflicts()},
            "dependents": milestone.dependents.all(),
            "history": history.order_by("baseline__created_at"),
            "can_plan": permissions.may_plan(request.user),
        },
    )


@body_required
def milestone_create(request: HttpRequest, pk: int) -> HttpResponse:
    permissions.require_planner(request.user)
    initiative = get_object_or_404(Initiative.objects.visible_to(request.user), pk=pk)
    form = MilestoneForm(request.POST or None, initiative=initiative)
    if request.method == "POST" and form.is_valid():
        data = changed(form)
        milestone = write(form, lambda: milestones.create_milestone(request.user, initiative=initiative, **data))
        if milestone is not None:
            messages.success(request, f"Milestone '{milestone}' added.")
            return redirect("roadmap:milestone-detail", milestone.pk)
    return render(
        request, "roadmap/milestone_form.html", {"form": form, "initiative": initiative, "title": "New milestone"}
    )


@body_required
def milestone_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Edit a milestone; the model and the service validate (dates, status, no cycles), and a
    baselined milestone's committed date is shown but cannot change here."""
    permissions.require_planner(request.user)
    milestone = get_object_or_404(Milestone.objects.visible_to(request.user).select_related("initiative"), pk=pk)
    baselined = milestone.baseline_entries.exists()
    form = MilestoneForm(request.POST or None, instance=milestone, initiative=milestone.initiative, baselined=baselined)
    if request.method == "POST" and form.is_valid():
        data = changed(form)
        if baselined:
            data.pop("baseline_date", None)
        if write(form, lambda: milestones.update_milestone(request.user, milestone, **data)) is not None:
            messages.success(request, "Milestone saved.")
            return redirect("roadmap:milestone-detail", milestone.pk)
    return render(
        request,
        "roadmap/milestone_form.html",
        {"form": form, "initiative": milestone.initiative, "milestone": milestone, "title": f"Edit {milestone}"},
    )
