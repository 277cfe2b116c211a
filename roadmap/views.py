"""Pages of the roadmap app. They read through each model's `visible_to` and the selectors, and
write through roadmap.services; program managers edit, everyone in the body reads."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from governance import services as governance
from governance.choices import Sector, SubjectType
from governance.exceptions import DomainError
from governance.models import Ballot
from governance.pagination import paginate
from governance.permissions import can_prepare_ballots
from roadmap import ballots as roadmap_ballots
from roadmap import exports, selectors, services, timeline
from roadmap.choices import RebaselineStatus, RoadmapStatus
from roadmap.forms import (
    InitiativeForm,
    MilestoneForm,
    RebaselineForm,
    ReportForm,
    RoadmapForm,
    TimelineFilterForm,
)
from roadmap.models import (
    Baseline,
    BaselineEntry,
    CalendarFeed,
    Initiative,
    Milestone,
    ProgressReport,
    RebaselineEntry,
    RebaselineRequest,
    Roadmap,
    Theme,
    can_plan,
    in_the_body,
)


def body_required(view: Callable) -> Callable:
    """Signed in, and one of the body: outsiders get a 403 with the reason."""

    @login_required
    @wraps(view)
    def wrapped(request: HttpRequest, *args, **kwargs):
        if not in_the_body(request.user):
            raise PermissionDenied("The roadmap is shared with the people of the body's member organizations.")
        return view(request, *args, **kwargs)

    return wrapped


def _require_planner(user) -> None:
    if not can_plan(user):
        raise PermissionDenied("Only program managers edit the roadmap.")


def _write(form, action: Callable):
    """Run a service for a valid form; its refusals become form errors. None when refused."""
    try:
        return action()
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for field, errors in error.error_dict.items():
                form.add_error(field if field in form.fields else None, errors)
        else:
            form.add_error(None, error)
    except DomainError as error:
        form.add_error(None, error.message)
    return None


def _changed(form) -> dict:
    return {name: form.cleaned_data[name] for name in form.fields if name in form.cleaned_data}


def _milestone_urls() -> Callable[[int], str]:
    """A milestone's page address by id, reversing the route once rather than per milestone
    (reversing was most of the cost of a 500-milestone timeline)."""
    prefix = reverse("roadmap:milestone-detail", args=[0]).removesuffix("0/")
    return lambda pk: f"{prefix}{pk}/"


# --- Timeline ------------------------------------------------------------------------------

TIMELINE_INITIATIVES_PER_PAGE = 10


@body_required
def timeline_view(request: HttpRequest, pk: int | None = None) -> HttpResponse:
    """The plotly Gantt of a roadmap version (the current one by default), filtered by theme,
    sponsor sector and milestone status, with the same data as a table."""
    user = request.user
    if pk is None:
        roadmap = selectors.current_roadmap(user)
        if roadmap is None:
            return render(request, "roadmap/empty.html", {"can_plan": can_plan(user)})
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
    milestone_url = _milestone_urls()
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
        "can_plan": can_plan(user),
    }
    if request.htmx:
        return render(request, "roadmap/_timeline_results.html", context)
    return render(request, "roadmap/timeline.html", context)


# --- Roadmap versions ----------------------------------------------------------------------


@body_required
def roadmap_list(request: HttpRequest) -> HttpResponse:
    versions = Roadmap.objects.visible_to(request.user).select_related("committee").prefetch_related("baselines")
    return render(request, "roadmap/roadmap_list.html", {"versions": versions, "can_plan": can_plan(request.user)})


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
            "can_plan": can_plan(user),
        },
    )


def _rebaseline_entries():
    return RebaselineEntry.objects.select_related("milestone__initiative").order_by("proposed_date", "pk")


@body_required
def roadmap_create(request: HttpRequest) -> HttpResponse:
    _require_planner(request.user)
    form = RoadmapForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        data = _changed(form)
        roadmap = _write(form, lambda: services.create_roadmap(request.user, **data))
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
    _require_planner(request.user)
    roadmap = get_object_or_404(Roadmap.objects.visible_to(request.user), pk=pk)
    form = RoadmapForm(request.POST or None, instance=roadmap)
    if request.method == "POST" and form.is_valid():
        data = _changed(form)
        data.pop("committee", None)
        if _write(form, lambda: services.update_roadmap(request.user, roadmap, **data)) is not None:
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
    _require_planner(request.user)
    roadmap = get_object_or_404(Roadmap.objects.visible_to(request.user), pk=pk)
    draft = services.draft_next_version(request.user, roadmap)
    messages.success(request, f"Roadmap v{draft.version} drafted from v{roadmap.version}.")
    return redirect("roadmap:roadmap-detail", draft.pk)


@require_POST
@body_required
def prepare_ballot(request: HttpRequest, pk: int) -> HttpResponse:
    """Prepare a draft ballot on the version (its approval, or its pending re-baselining), then
    go to the ballot; co-chairs open it from there."""
    roadmap = get_object_or_404(Roadmap.objects.visible_to(request.user), pk=pk)
    pending = roadmap_ballots.pending_rebaseline(roadmap)
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
        messages.error(request, getattr(error, "message", None) or " ".join(getattr(error, "messages", [str(error)])))
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


# --- Baselines and re-baselining -----------------------------------------------------------


@body_required
def baseline_compare(request: HttpRequest) -> HttpResponse:
    """Two baselines side by side, or a baseline against today's forecast (?a=<id>&b=<id|forecast>)."""
    visible = Baseline.objects.visible_to(request.user).select_related("roadmap")
    a_id, b_id = request.GET.get("a", ""), request.GET.get("b", selectors.FORECAST)
    if not a_id.isdigit() or not (b_id.isdigit() or b_id == selectors.FORECAST):
        raise Http404("Choose a baseline to compare.")
    first = get_object_or_404(visible, pk=int(a_id))
    second = get_object_or_404(visible, pk=int(b_id)) if b_id.isdigit() else None
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
    _require_planner(request.user)
    roadmap = get_object_or_404(Roadmap.objects.visible_to(request.user), pk=pk, status=RoadmapStatus.APPROVED)
    milestones = list(roadmap.milestones().select_related("initiative").order_by("initiative__title", "forecast_date"))
    form = RebaselineForm(request.POST or None, milestones=milestones)
    if request.method == "POST" and form.is_valid():
        request_ = _write(
            form,
            lambda: services.propose_rebaseline(
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
    _require_planner(request.user)
    proposal = get_object_or_404(RebaselineRequest.objects.visible_to(request.user), pk=pk)
    try:
        services.withdraw_rebaseline(request.user, proposal)
        messages.success(request, f"Re-baselining '{proposal.name}' withdrawn.")
    except DomainError as error:
        messages.error(request, error.message)
    return redirect("roadmap:roadmap-detail", proposal.roadmap_id)


# --- Initiatives ---------------------------------------------------------------------------


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
            "due": services.report_due(initiative),
            "sponsors_by_sector": [
                (label, [o for o in initiative.sponsors.all() if o.sector == value]) for value, label in Sector.choices
            ],
            "can_plan": can_plan(user),
            "can_report": services.can_report(user, initiative),
        },
    )


@body_required
def initiative_create(request: HttpRequest) -> HttpResponse:
    _require_planner(request.user)
    roadmap = None
    roadmap_id = request.GET.get("roadmap", "")
    if roadmap_id.isdigit():
        roadmap = get_object_or_404(Roadmap.objects.visible_to(request.user), pk=int(roadmap_id))
    form = InitiativeForm(request.POST or None, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = _changed(form)
        initiative = _write(form, lambda: services.create_initiative(request.user, roadmap=roadmap, **data))
        if initiative is not None:
            messages.success(request, f"Initiative '{initiative}' added.")
            return redirect("roadmap:initiative-detail", initiative.pk)
    title = f"New initiative in roadmap v{roadmap.version}" if roadmap else "New initiative"
    cancel_url = reverse("roadmap:roadmap-detail", args=[roadmap.pk]) if roadmap else reverse("roadmap:index")
    return render(request, "roadmap/form.html", {"form": form, "title": title, "cancel_url": cancel_url})


@body_required
def initiative_edit(request: HttpRequest, pk: int) -> HttpResponse:
    _require_planner(request.user)
    initiative = get_object_or_404(Initiative.objects.visible_to(request.user), pk=pk)
    form = InitiativeForm(request.POST or None, instance=initiative, user=request.user)
    if request.method == "POST" and form.is_valid():
        data = _changed(form)
        if _write(form, lambda: services.update_initiative(request.user, initiative, **data)) is not None:
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


# --- Milestones ----------------------------------------------------------------------------


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
            "can_plan": can_plan(request.user),
        },
    )


@body_required
def milestone_create(request: HttpRequest, pk: int) -> HttpResponse:
    _require_planner(request.user)
    initiative = get_object_or_404(Initiative.objects.visible_to(request.user), pk=pk)
    form = MilestoneForm(request.POST or None, initiative=initiative)
    if request.method == "POST" and form.is_valid():
        data = _changed(form)
        milestone = _write(form, lambda: services.create_milestone(request.user, initiative=initiative, **data))
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
    _require_planner(request.user)
    milestone = get_object_or_404(Milestone.objects.visible_to(request.user).select_related("initiative"), pk=pk)
    baselined = milestone.baseline_entries.exists()
    form = MilestoneForm(request.POST or None, instance=milestone, initiative=milestone.initiative, baselined=baselined)
    if request.method == "POST" and form.is_valid():
        data = _changed(form)
        if baselined:
            data.pop("baseline_date", None)
        if _write(form, lambda: services.update_milestone(request.user, milestone, **data)) is not None:
            messages.success(request, "Milestone saved.")
            return redirect("roadmap:milestone-detail", milestone.pk)
    return render(
        request,
        "roadmap/milestone_form.html",
        {"form": form, "initiative": milestone.initiative, "milestone": milestone, "title": f"Edit {milestone}"},
    )


# --- Progress reports ----------------------------------------------------------------------


@body_required
def report_create(request: HttpRequest, pk: int) -> HttpResponse:
    """File a progress report; the evidence-based RAG is shown beside the form."""
    initiative = get_object_or_404(Initiative.objects.visible_to(request.user), pk=pk)
    if not services.can_report(request.user, initiative):
        raise PermissionDenied("Only program managers and the initiative's owner file its reports.")
    form = ReportForm(request.POST or None, initiative=initiative)
    if request.method == "POST" and form.is_valid():
        data = _changed(form)
        report = _write(form, lambda: services.submit_report(request.user, initiative=initiative, **data))
        if report is not None:
            messages.success(request, f"Report for {report.period_label} filed.")
            return redirect("roadmap:initiative-detail", initiative.pk)
    return render(
        request,
        "roadmap/report_form.html",
        {"form": form, "initiative": initiative, "evidence": services.initiative_evidence(initiative)},
    )


@body_required
def report_edit(request: HttpRequest, pk: int) -> HttpResponse:
    report = get_object_or_404(ProgressReport.objects.visible_to(request.user).select_related("initiative"), pk=pk)
    initiative = report.initiative
    if not services.can_report(request.user, initiative):
        raise PermissionDenied("Only program managers and the initiative's owner file its reports.")
    form = ReportForm(request.POST or None, instance=report, initiative=initiative)
    if request.method == "POST" and form.is_valid():
        data = _changed(form)
        data.pop("period_start", None)
        if _write(form, lambda: services.update_report(request.user, report, **data)) is not None:
            messages.success(request, "Report saved.")
            return redirect("roadmap:initiative-detail", initiative.pk)
    return render(
        request,
        "roadmap/report_form.html",
        {
            "form": form,
            "initiative": initiative,
            "report": report,
            "evidence": services.initiative_evidence(initiative),
        },
    )


# --- Calendar feed -------------------------------------------------------------------------


@body_required
def calendar(request: HttpRequest) -> HttpResponse:
    """Issue, replace or stop the person's secret iCalendar feed of milestone dates."""
    feed_url = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            services.revoke_calendar_feed(request.user)
            messages.success(request, "Your calendar feed is stopped; its address no longer works.")
            return redirect("roadmap:calendar")
        token = services.issue_calendar_feed(request.user)
        feed_url = request.build_absolute_uri(reverse("roadmap:calendar-feed", args=[token]))
    feed = CalendarFeed.objects.filter(user=request.user).first()
    response = render(request, "roadmap/calendar.html", {"feed": feed, "feed_url": feed_url})
    # The address is a secret shown once: keep it out of caches.
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The iCalendar feed itself, opened by its secret token (calendar clients send no session)."""
    user = services.calendar_feed_user(token)
    if user is None:
        raise Http404("No such calendar feed.")
    roadmap = selectors.current_roadmap(user)
    milestones = []
    if roadmap is not None:
        milestones = selectors.schedule_milestones(roadmap.milestones())
    body = exports.milestones_ical(milestones, site_url=settings.SITE_URL, milestone_path=_milestone_urls())
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="tgb-roadmap.ics"'
    response["Cache-Control"] = "private, max-age=900"
    return response
