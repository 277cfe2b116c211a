"""Pages of baselines: two compared (or one against today's forecast), and re-baselining
proposed and withdrawn."""

from __future__ import annotations

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from governance import values
from governance.web import run_act
from roadmap import permissions, selectors
from roadmap.choices import RoadmapStatus
from roadmap.forms import (
    RebaselineForm,
)
from roadmap.models import (
    Baseline,
    RebaselineRequest,
    Roadmap,
)
from roadmap.services import baselines
from roadmap.views.common import body_required, write


@body_required
def baseline_compare(request: HttpRequest) -> HttpResponse:
    """Two baselines side by side, or a baseline against today's forecast (?a=<id>&b=<id|forecast>)."""
    visible = Baseline.objects.visible_to(request.user).select_related("roadmap")
    b_param = request.GET.get("b", selectors.FORECAST)
    a_id, b_id = values.optional_id(request.GET.get("a", "")), values.optional_id(b_param)
    if a_id is None or not (b_id is not None or b_param == selectors.FORECAST):
        raise Http404("Choose a baseline to compare.")
    first = get_object_or_404(visible, pk=a_id)
    second = get_object_or_404(visible, pk=b_id) if b_id is not None else None
    rows = selectors.compare(first, second)
    counts = {change: sum(1 for row in rows if row.change == change) for change in ("later", "earlier", "unchanged")}
    return render(
        request,
        "roadmap/baseline_compare.html",
        {
            "first": first,
            "second": second,
            "rows": rows,
            "counts": counts,
            "choices": visible.order_by("roadmap__version", "created_at"),
        },
    )


@body_required
def rebaseline_create(request: HttpRequest, pk: int) -> HttpResponse:
    """Propose new committed dates for the approved roadmap, for a ballot to decide."""
    permissions.require_planner(request.user)
    roadmap = get_object_or_404(Roadmap.objects.visible_to(request.user), pk=pk, status=RoadmapStatus.APPROVED)
    milestones = list(roadmap.milestones().select_related("initiative").order_by("initiative__title", "forecast_date"))
    form = RebaselineForm(request.POST or None, milestones=milestones)
    if request.method == "POST" and form.is_valid():
        request_ = write(
            form,
            lambda: baselines.propose_rebaseline(
                request.user,
                roadmap,
                name=form.cleaned_data["name"],
                reason=form.cleaned_data["reason"],
                dates=form.dates(),
            ),
        )
        if request_ is not None:
            messages.success(request, f"Re-baselining '{request_.name}' proposed; a ballot on the roadmap decides it.")
            return redirect("roadmap:roadmap-detail", roadmap.pk)
    return render(request, "roadmap/rebaseline_form.html", {"form": form, "roadmap": roadmap})


@require_POST
@body_required
def rebaseline_withdraw(request: HttpRequest, pk: int) -> HttpResponse:
    permissions.require_planner(request.user)
    proposal = get_object_or_404(RebaselineRequest.objects.visible_to(request.user), pk=pk)
    return run_act(
        request,
        lambda: baselines.withdraw_rebaseline(request.user, proposal),
        success=f"Re-baselining '{proposal.name}' withdrawn.",
        redirect_to=reverse("roadmap:roadmap-detail", args=[proposal.roadmap_id]),
    )
