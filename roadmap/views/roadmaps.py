"""Pages of roadmap versions: the timeline, the list, a version's page, drafting and editing,
the next version, a ballot on it, the printable roadmap and the milestones as CSV."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from governance import services as governance
from governance.choices import SubjectType
from governance.exceptions import DomainError
from governance.models import Ballot
from governance.pagination import paginate
from governance.permissions import can_prepare_ballots
from governance.web import refuse
from roadmap import ballots, exports, permissions, selectors, timeline
from roadmap.choices import RebaselineStatus
from roadmap.forms import (
    RoadmapForm,
    TimelineFilterForm,
)
from roadmap.models import (
    RebaselineEntry,
    Roadmap,
    Theme,
)
from roadmap.services import roadmaps
from roadmap.views.common import body_required, changed, milestone_urls, write

TIMELINE_INITIATIVES_PER_PAGE = 10


@body_required
def timeline_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The plotly Gantt of a roadmap version (the current one by default), filtered by theme,
    sponsor sector and milestone status, with the same data as a table."""
    user = request.user
    if pk is None:
        roadmap = selectors.current_roadmap(user)
        if roadmap is None:
            return render(request, "roadmap/empty.html", {"can_plan": permissions.may_plan(user)})
    else:
        roadmap = get_object_or_404(Roadmap.objects.visible_to(user), pk=pk)
    themes = list(Theme.objects.visible_to(user))
    filter_form = TimelineFilterForm(request.GET or None, themes=themes)
    filters = selectors.TimelineFilters.from_query(request.GET)
    # A page of initiatives at a time, chart and table alike: a roadmap of 3,000 milestones
    # made a 3 MB page that took over a second to build (bench/pages.py). The CSV export and
    # the printable roadmap keep every milestone.
    matching = selectors.matching_initiatives(roadmap, filters)
    page, query = paginate(request, matching, TIMELINE_INITIATIVES_PER_PAGE)
    initiatives = selectors.timeline_initiatives(page.object_list, filters)
    milestone_url = milestone_urls()
    today = timezone.localdate()
    shown = sum(len(i.shown_milestones) for i in initiatives)
    context = {
        "roadmap": roadmap,
        "filter_form": filter_form,
        "filters": filters,
        "initiatives": initiatives,
        "page": page,
        "query": query,
        "groups": selectors.timeline_rows(initiatives, milestone_url),
        "milestone_count": selectors.count_milestones(matching, filters),
        "shown_count": shown,
        "figure": timeline.figure(initiatives, today=today, milestone_url=milestone_url),
        "today": today,
        "versions": Roadmap.objects.visible_to(user).exclude(pk=roadmap.pk).only("pk", "version", "title", "status"),
        "can_plan": permissions.may_plan(user),
    }
    if request.htmx:
        return render(request, "roadmap/_timeline_results.html", context)
    return render(request, "roadmap/timeline.html", context)


@body_required
def roadmap_list(request: HttpRequest) -> HttpResponse:
    versions = Roadmap.objects.visible_to(request.user).select_related("committee").prefetch_related("baselines")
    return render(
        request, "roadmap/roadmap_list.html", {"versions": versions, "can_plan": permissions.may_plan(request.user)}
    )


def _rebaseline_entries():
    return RebaselineEntry.objects.select_related("milestone__initiative").order_by("proposed_date", "pk")


@body_required
def roadmap_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """A version: status, initiatives with their standing, baselines to compare, re-baselining."""
    user = request.user
    roadmap = get_object_or_404(
        Roadmap.objects.visible_to(user).select_related("committee").prefetch_related("baselines"), pk=pk
    )
    initiatives = list(selectors.with_standing_data(roadmap.initiatives.all()).order_by("title"))
    standings = selectors.standings(initiatives)
    pending = roadmap.rebaseline_requests.filter(status=RebaselineStatus.PROPOSED).prefetch_related(
        Prefetch("entries", queryset=_rebaseline_entries())
    )
    return render(
        request,
        "roadmap/roadmap_detail.html",
        {
            "roadmap": roadmap,
            "rows": [(i, standings[i.pk], selectors.latest_report(i)) for i in initiatives],
            "baselines": list(roadmap.baselines.all()),
            "pending": pending.first(),
            "past_requests": roadmap.rebaseline_requests.exclude(status=RebaselineStatus.PROPOSED),
            "ballots": Ballot.objects.visible_to(user)
            .filter(subject_type=SubjectType.ROADMAP, subject_id=roadmap.pk)
            .order_by("-created_at"),
            "can_prepare_ballots": can_prepare_ballots(user, roadmap.committee),
            "can_plan": permissions.may_plan(user),
        },
    )


@body_required
def roadmap_create(request: HttpRequest) -> HttpResponse:
    permissions.require_planner(request.user)
    form = RoadmapForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = changed(form)
        roadmap = write(form, lambda: roadmaps.create_roadmap(request.user, **data))
        if roadmap is not None:
            messages.success(request, f"Roadmap v{roadmap.version} drafted.")
            return redirect("roadmap:roadmap-detail", roadmap.pk)
    return render(
        request,
        "roadmap/form.html",
        {"form": form, "title": "Draft a roadmap version", "cancel_url": reverse("roadmap:roadmap-list")},
    )


@body_required
def roadmap_edit(request: HttpRequest, pk: int) -> HttpResponse:
    permissions.require_planner(request.user)
    roadmap = get_object_or_404(Roadmap.objects.visible_to(request.user), pk=pk)
    form = RoadmapForm(request.POST or None, instance=roadmap)
    if request.method == "POST" and form.is_valid():
        data = changed(form)
        data.pop("committee", None)
        if write(form, lambda: roadmaps.update_roadmap(request.user, roadmap, **data)) is not None:
            messages.success(request, "Roadmap saved.")
            return redirect("roadmap:roadmap-detail", roadmap.pk)
    return render(
        request,
        "roadmap/form.html",
        {
            "form": form,
            "title": f"Edit roadmap v{roadmap.version}",
            "cancel_url": reverse("roadmap:roadmap-detail", args=[roadmap.pk]),
        },
    )


@require_POST
@body_required
def roadmap_revise(request: HttpRequest, pk: int) -> HttpResponse:
    permissions.require_planner(request.user)
    roadmap = get_object_or_404(Roadmap.objects.visible_to(request.user), pk=pk)
    draft = roadmaps.draft_next_version(request.user, roadmap)
    messages.success(request, f"Roadmap v{draft.version} drafted from v{roadmap.version}.")
    return redirect("roadmap:roadmap-detail", draft.pk)


@require_POST
@body_required
def prepare_ballot(request: HttpRequest, pk: int) -> HttpResponse:
    """Prepare a draft ballot on the version (its approval, or its pending re-baselining), then
    go to the ballot; co-chairs open it from there."""
    roadmap = get_object_or_404(Roadmap.objects.visible_to(request.user), pk=pk)
    pending = ballots.pending_rebaseline(roadmap)
    if pending is not None:
        title = f"Re-baseline roadmap v{roadmap.version}: “{pending.name}”"
    else:
        title = f"Approve roadmap v{roadmap.version}: {roadmap.title}"
    try:
        ballot = governance.create_ballot(
            request.user,
            committee=roadmap.committee,
            title=title[:200],
            subject_type=SubjectType.ROADMAP,
            subject_id=roadmap.pk,
        )
    except (DomainError, ValidationError, PermissionDenied) as error:
        refuse(request, error)
        return redirect("roadmap:roadmap-detail", roadmap.pk)
    messages.success(request, "Ballot prepared as a draft: a co-chair opens it.")
    return redirect("ballots:detail", ballot.pk)


@body_required
def roadmap_print(request: HttpRequest, pk: int) -> HttpResponse:
    """The whole version on paper: every initiative with its milestones, and the baselines."""
    roadmap = get_object_or_404(Roadmap.objects.visible_to(request.user).select_related("committee"), pk=pk)
    initiatives = list(selectors.with_standing_data(roadmap.initiatives.all()).order_by("title"))
    standings = selectors.standings(initiatives)
    return render(
        request,
        "roadmap/print.html",
        {
            "roadmap": roadmap,
            "rows": [(i, standings[i.pk]) for i in initiatives],
            "baselines": roadmap.baselines.all(),
            "printed_at": timezone.now(),
        },
    )


@require_GET
@body_required
def milestones_csv(request: HttpRequest, pk: int) -> HttpResponse:
    roadmap = get_object_or_404(Roadmap.objects.visible_to(request.user), pk=pk)
    milestones = selectors.schedule_milestones(roadmap.milestones()).order_by("initiative__title", "forecast_date")
    response = HttpResponse(exports.milestones_csv(roadmap.version, milestones), content_type="text/csv")
    response["Content-Disposition"] = f'attachment; filename="roadmap-v{roadmap.version}-milestones.csv"'
    return response
