"""Pages of the governance app. They read through each model's `visible_to` and write
through governance.services."""

from __future__ import annotations

import csv
import difflib

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from governance import permissions, services
from governance.choices import (
    AttendanceStatus,
    BallotStatus,
    MeetingStatus,
    MinutesStatus,
    Outcome,
    Sector,
    SOPVersionStatus,
    SubjectType,
    VoteChoice,
    VotingMethod,
)
from governance.exceptions import DomainError
from governance.forms import (
    AgendaItemForm,
    BallotForm,
    MeetingForm,
    MinutesForm,
    RecuseForm,
    SOPForm,
    SOPVersionForm,
    VoteForm,
    apply_errors,
)
from governance.models import SOP, AgendaItem, Attendance, Ballot, Committee, Meeting, Membership, Organization
from governance.models.ballots import member_committee_ids
from governance.roles import is_administrator


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


# --- Ballots -------------------------------------------------------------------------------


def _voter_state(ballot: Ballot, user) -> dict:
    """The signed-in person's standing on a ballot, for the list and the ballot page."""
    if getattr(ballot, "my_recused", False):
        return {"code": "recused", "label": "Recused"}
    if getattr(ballot, "my_vote", None):
        return {"code": "voted", "label": f"Voted {VoteChoice(ballot.my_vote).label.lower()}"}
    if getattr(ballot, "my_eligible", False):
        if ballot.status == BallotStatus.OPEN and not ballot.is_past_closing:
            return {"code": "waiting", "label": "Not voted yet"}
        return {"code": "did_not_vote", "label": "Did not vote"}
    return {"code": "not_eligible", "label": "Not a voter"}


def _ballots_for(user):
    return Ballot.objects.visible_to(user).with_voter_state(user).select_related("committee")


@login_required
def ballot_list(request: HttpRequest) -> HttpResponse:
    """Open ballots first (with my vote status), then drafts, then the closed record."""
    ballots = list(_ballots_for(request.user).order_by("-opened_at", "-created_at"))
    for ballot in ballots:
        ballot.voter_state = _voter_state(ballot, request.user)
    groups = [
        ("open", "Open ballots", [b for b in ballots if b.status == BallotStatus.OPEN]),
        ("draft", "Drafts", [b for b in ballots if b.status == BallotStatus.DRAFT]),
        (
            "closed",
            "Closed ballots",
            sorted((b for b in ballots if b.status == BallotStatus.CLOSED), key=lambda b: b.closed_at, reverse=True),
        ),
    ]
    can_prepare = permissions.managed_committees(request.user).exists()
    return render(
        request,
        "governance/ballot_list.html",
        {"groups": groups, "can_prepare": can_prepare, "turnout": _turnout(groups[2][2][:TURNOUT_BALLOTS])},
    )


TURNOUT_BALLOTS = 12


def _turnout(closed: list[Ballot]) -> dict:
    """Turnout per sector of the latest closed ballots, from their frozen tallies (no query):
    the share of each sector's eligible members who voted, abstentions included."""
    labels = dict(Sector.choices)
    ballots = list(reversed([b for b in closed if b.result]))
    sectors = list(Sector.values)
    rows = []
    for ballot in ballots:
        cells = []
        for sector in sectors:
            row = ballot.result["sectors"].get(sector, {})
            eligible = row.get("eligible", 0)
            voted = row.get("yes", 0) + row.get("no", 0) + row.get("abstain", 0)
            cells.append({"voted": voted, "eligible": eligible, "share": voted / eligible if eligible else 0.0})
        rows.append({"ballot": ballot, "cells": cells})
    return {
        "rows": rows,
        "sectors": [labels[s] for s in sectors],
        "chart": {
            "ballots": [f"{b.title[:40]} (#{b.pk})" for b in ballots],
            "sectors": [labels[s] for s in sectors],
            "turnout": [[r["cells"][i]["share"] for r in rows] for i in range(len(sectors))],
        },
    }


@login_required
def ballot_create(request: HttpRequest) -> HttpResponse:
    """Prepare a draft ballot (co-chairs, the secretary, administrators)."""
    committees = permissions.managed_committees(request.user)
    if not committees.exists():
        raise PermissionDenied("Only the co-chairs and the secretary prepare ballots.")
    form = BallotForm(request.POST or None, committees=committees)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        try:
            ballot = services.create_ballot(
                request.user,
                committee=data["committee"],
                title=data["title"],
                description=data["description"],
                subject_type=data["subject_type"],
                subject_id=data["subject_id"],
                method=data["method"] or None,
                quorum=data["quorum"],
                closes_at=data["closes_at"],
            )
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The draft ballot is ready; a co-chair opens it.")
            return redirect("ballots:detail", ballot.pk)
    return render(request, "governance/ballot_form.html", {"form": form})


def _tally_context(ballot: Ballot, user) -> dict:
    """What the tally panel shows: the tally when this person may see it, and the chart data."""
    visible = ballot.status == BallotStatus.CLOSED or (
        ballot.status == BallotStatus.OPEN
        and (is_administrator(user) or ballot.committee_id in member_committee_ids(user))
    )
    tally = ballot.tally if visible else None
    rows = []
    if tally:
        labels = dict(Sector.choices)
        for sector, row in tally["sectors"].items():
            voted = row["yes"] + row["no"] + row["abstain"]
            rows.append(
                {"sector": sector, "label": labels.get(sector, sector), "not_voted": row["eligible"] - voted, **row}
            )
    chart = {
        "sectors": [r["label"] for r in rows],
        "yes": [r["yes"] for r in rows],
        "no": [r["no"] for r in rows],
        "abstain": [r["abstain"] for r in rows],
        "not_voted": [r["not_voted"] for r in rows],
        "support": [r["support"] for r in rows],
        "bar": 2 / 3 if ballot.method == VotingMethod.DOUBLE_SUPERMAJORITY else 0.5,
    }
    return {
        "ballot": ballot,
        "tally": tally,
        "rows": rows,
        "chart": chart,
        "live": ballot.status == BallotStatus.OPEN and tally is not None,
        "outcome_label": Outcome(tally["outcome"]).label if tally else "",
        "bar_label": "two thirds" if ballot.method == VotingMethod.DOUBLE_SUPERMAJORITY else "more than half",
    }


def _get_ballot(request: HttpRequest, pk: int) -> Ballot:
    return get_object_or_404(
        _ballots_for(request.user).prefetch_related("recusals__user", "recusals__organization"), pk=pk
    )


@login_required
def ballot_detail(request: HttpRequest, pk: int) -> HttpResponse:
    """The subject, the vote buttons, my recusal, and the live per-sector tally."""
    ballot = _get_ballot(request, pk)
    user = request.user
    state = _voter_state(ballot, user)
    context = _tally_context(ballot, user)
    roll_call = []
    if ballot.status == BallotStatus.CLOSED:
        roll_call = ballot.roll_call()
    context.update(
        {
            "state": state,
            "can_vote": state["code"] in ("waiting", "voted")
            and ballot.status == BallotStatus.OPEN
            and not ballot.is_past_closing,
            "can_recuse": (state["code"] == "waiting")
            or (ballot.status == BallotStatus.DRAFT and ballot.committee_id in member_committee_ids(user)),
            "can_run": permissions.can_run_ballots(user, ballot.committee),
            "can_prepare": permissions.can_prepare_ballots(user, ballot.committee),
            "subject_url": ballot.subject_url(),
            "vote_form": VoteForm(initial={"choice": ballot.my_vote}),
            "recuse_form": RecuseForm(),
            "recusals": list(ballot.recusals.all()) if context["tally"] or ballot.status == BallotStatus.DRAFT else [],
            "my_recusal": next((r for r in ballot.recusals.all() if r.user_id == user.pk), None),
            "follow_ups": list(Ballot.objects.visible_to(user).filter(previous_ballot=ballot)),
            "roll_call": roll_call,
            "choices": VoteChoice.choices,
            "my_vote_label": VoteChoice(ballot.my_vote).label.lower() if ballot.my_vote else "",
        }
    )
    return render(request, "governance/ballot_detail.html", context)


@login_required
@require_GET
def ballot_tally(request: HttpRequest, pk: int) -> HttpResponse:
    """The tally panel alone, polled by htmx so the page updates in place."""
    ballot = get_object_or_404(Ballot.objects.visible_to(request.user).select_related("committee"), pk=pk)
    return render(request, "governance/_ballot_tally.html", _tally_context(ballot, request.user))


def _act(request: HttpRequest, pk: int, act, success: str) -> HttpResponse:
    """Run one ballot service from a page's POST; its refusal becomes a message on the page."""
    ballot = get_object_or_404(Ballot.objects.visible_to(request.user), pk=pk)
    try:
        result = act(ballot)
    except (DomainError, PermissionDenied, ValidationError) as error:
        messages.error(request, _refusal(error))
        return redirect("ballots:detail", ballot.pk)
    messages.success(request, success)
    return redirect("ballots:detail", result.pk if isinstance(result, Ballot) else ballot.pk)


@login_required
@require_POST
def ballot_vote(request: HttpRequest, pk: int) -> HttpResponse:
    form = VoteForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Choose yes, no or abstain.")
        return redirect("ballots:detail", pk)
    choice = form.cleaned_data["choice"]
    return _act(
        request,
        pk,
        lambda ballot: services.cast_vote(request.user, ballot, choice),
        f"Your vote is recorded: {VoteChoice(choice).label.lower()}. You may change it until the ballot closes.",
    )


@login_required
@require_POST
def ballot_recuse(request: HttpRequest, pk: int) -> HttpResponse:
    form = RecuseForm(request.POST)
    if not form.is_valid():
        messages.error(request, "Say what the conflict of interest is.")
        return redirect("ballots:detail", pk)
    return _act(
        request,
        pk,
        lambda ballot: services.declare_conflict(request.user, ballot, form.cleaned_data["reason"]),
        "Your conflict of interest is recorded; you are recused from this ballot.",
    )


@login_required
@require_POST
def ballot_open(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda ballot: services.open_ballot(request.user, ballot), "The ballot is open.")


@login_required
@require_POST
def ballot_close(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(request, pk, lambda ballot: services.close_ballot(request.user, ballot), "The ballot is closed.")


@login_required
@require_POST
def ballot_second(request: HttpRequest, pk: int) -> HttpResponse:
    return _act(
        request,
        pk,
        lambda ballot: services.start_second_ballot(request.user, ballot),
        "A second ballot on the same subject is drafted; it is linked to the first.",
    )


def _refusal(error: Exception) -> str:
    if isinstance(error, DomainError):
        return error.message
    return " ".join(getattr(error, "messages", [])) or str(error) or "You may not do this."


# --- Meetings ------------------------------------------------------------------------------


@login_required
def meeting_list(request: HttpRequest) -> HttpResponse:
    meetings = list(Meeting.objects.visible_to(request.user).select_related("committee", "minutes"))
    now = timezone.now()
    upcoming = sorted((m for m in meetings if m.starts_at >= now), key=lambda m: m.starts_at)
    past = [m for m in meetings if m.starts_at < now]
    return render(
        request,
        "governance/meeting_list.html",
        {"upcoming": upcoming, "past": past, "can_schedule": permissions.managed_committees(request.user).exists()},
    )


@login_required
def meeting_create(request: HttpRequest) -> HttpResponse:
    committees = permissions.managed_committees(request.user)
    if not committees.exists():
        raise PermissionDenied("Only the co-chairs and the secretary schedule meetings.")
    form = MeetingForm(request.POST or None, committees=committees)
    if request.method == "POST" and form.is_valid():
        try:
            meeting = services.schedule_meeting(request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The meeting is scheduled.")
            return redirect("meetings:detail", meeting.pk)
    return render(request, "governance/meeting_form.html", {"form": form})


def _meeting(request: HttpRequest, pk: int) -> Meeting:
    return get_object_or_404(
        Meeting.objects.visible_to(request.user)
        .select_related("committee", "minutes")
        .prefetch_related(
            Prefetch("agenda_items", queryset=AgendaItem.objects.select_related("ballot").order_by("position")),
            Prefetch("attendance", queryset=Attendance.objects.select_related("user", "organization")),
        ),
        pk=pk,
    )


def _agenda_with_results(meeting: Meeting) -> list[dict]:
    """Each agenda item with its ballot's tally, recusals and roll call (closed ballots)."""
    items = []
    for item in meeting.agenda_items.all():
        ballot = item.ballot
        entry = {"item": item, "ballot": ballot, "tally": None, "rows": [], "recusals": [], "roll_call": []}
        if ballot is not None and ballot.status == BallotStatus.CLOSED:
            context = _tally_context(ballot, None)
            entry.update(
                {
                    "tally": context["tally"],
                    "rows": context["rows"],
                    "recusals": list(ballot.recusals.select_related("user")),
                    "roll_call": ballot.roll_call(),
                }
            )
        items.append(entry)
    return items


@login_required
def meeting_detail(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = _meeting(request, pk)
    user = request.user
    can_run = permissions.can_manage_committee(user, meeting.committee)
    minutes = getattr(meeting, "minutes", None)
    frozen = bool(minutes and minutes.status == MinutesStatus.APPROVED)
    on_agendas = AgendaItem.objects.filter(ballot__isnull=False).values("ballot_id")
    free_ballots = Ballot.objects.filter(committee=meeting.committee).exclude(pk__in=on_agendas)
    return render(
        request,
        "governance/meeting_detail.html",
        {
            "meeting": meeting,
            "minutes": minutes,
            "show_minutes": minutes and (frozen or can_run),
            "frozen": frozen,
            "can_run": can_run and not frozen,
            "can_approve": not frozen
            and minutes is not None
            and meeting.status == MeetingStatus.HELD
            and permissions.can_run_ballots(user, meeting.committee),
            "agenda": meeting.agenda_items.all(),
            "attendance": sorted(meeting.attendance.all(), key=lambda a: (a.sector, a.user.username)),
            "by_sector": meeting.attendance_by_sector(),
            "agenda_form": AgendaItemForm(ballots=free_ballots),
            "minutes_form": MinutesForm(initial={"body": minutes.body if minutes else ""}),
            "statuses": AttendanceStatus.choices,
        },
    )


def _meeting_act(request: HttpRequest, pk: int, act, success: str) -> HttpResponse:
    meeting = get_object_or_404(Meeting.objects.visible_to(request.user), pk=pk)
    try:
        act(meeting)
    except (DomainError, PermissionDenied, ValidationError) as error:
        messages.error(request, _refusal(error))
    else:
        messages.success(request, success)
    return redirect("meetings:detail", meeting.pk)


@login_required
@require_POST
def meeting_status(request: HttpRequest, pk: int) -> HttpResponse:
    status = request.POST.get("status", "")
    return _meeting_act(
        request,
        pk,
        lambda meeting: services.set_meeting_status(request.user, meeting, status),
        "The meeting's status is updated.",
    )


@login_required
@require_POST
def meeting_agenda(request: HttpRequest, pk: int) -> HttpResponse:
    meeting = get_object_or_404(Meeting.objects.visible_to(request.user), pk=pk)
    form = AgendaItemForm(request.POST, ballots=Ballot.objects.filter(committee_id=meeting.committee_id))
    if not form.is_valid():
        messages.error(request, "An agenda item needs a title.")
        return redirect("meetings:detail", meeting.pk)
    return _meeting_act(
        request,
        pk,
        lambda m: services.add_agenda_item(request.user, m, **form.cleaned_data),
        "The item is on the agenda.",
    )


@login_required
@require_POST
def meeting_attendance(request: HttpRequest, pk: int) -> HttpResponse:
    """Record the whole roll at once: one status field per member (status-<user id>)."""

    def record(meeting):
        with transaction.atomic():
            for row in meeting.attendance.select_related("user"):
                status = request.POST.get(f"status-{row.user_id}")
                if status and status != row.status:
                    services.record_attendance(request.user, meeting, row.user, status)

    return _meeting_act(request, pk, record, "Attendance is recorded.")


@login_required
@require_POST
def meeting_minutes_draft(request: HttpRequest, pk: int) -> HttpResponse:
    form = MinutesForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The minutes cannot be empty.")
        return redirect("meetings:detail", pk)
    return _meeting_act(
        request,
        pk,
        lambda meeting: services.draft_minutes(request.user, meeting, form.cleaned_data["body"]),
        "The draft minutes are saved.",
    )


@login_required
@require_POST
def meeting_minutes_approve(request: HttpRequest, pk: int) -> HttpResponse:
    return _meeting_act(
        request,
        pk,
        lambda meeting: services.approve_minutes(request.user, meeting),
        "The minutes are approved and frozen.",
    )


def _readable_minutes(request: HttpRequest, meeting: Meeting):
    minutes = getattr(meeting, "minutes", None)
    approved = bool(minutes and minutes.status == MinutesStatus.APPROVED)
    if not approved and not permissions.can_manage_committee(request.user, meeting.committee):
        raise PermissionDenied("These minutes are still a draft; they are published once a co-chair approves them.")
    return minutes, approved


@login_required
def meeting_minutes(request: HttpRequest, pk: int) -> HttpResponse:
    """The printable minutes: attendance by sector, each agenda item with its ballot's
    per-sector tally, the recusals with their reasons, and the roll call."""
    meeting = _meeting(request, pk)
    minutes, approved = _readable_minutes(request, meeting)
    return render(
        request,
        "governance/minutes_print.html",
        {
            "meeting": meeting,
            "minutes": minutes,
            "approved": approved,
            "by_sector": meeting.attendance_by_sector(),
            "attendance": sorted(meeting.attendance.all(), key=lambda a: (a.sector, a.user.username)),
            "agenda": _agenda_with_results(meeting),
        },
    )


@login_required
def meeting_roll_call_csv(request: HttpRequest, pk: int) -> HttpResponse:
    """Every roll-call vote of the meeting's ballots, one line per member and ballot."""
    meeting = _meeting(request, pk)
    _readable_minutes(request, meeting)
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="roll-call-meeting-{meeting.pk}.csv"'
    writer = csv.writer(response)
    writer.writerow(
        [
            "agenda_item",
            "ballot_id",
            "ballot",
            "method",
            "outcome",
            "member",
            "organization",
            "sector",
            "vote",
            "recusal_reason",
        ]
    )
    for item in meeting.agenda_items.all():
        ballot = item.ballot
        if ballot is None or ballot.status != BallotStatus.CLOSED:
            continue
        for row in ballot.roll_call():
            writer.writerow(
                [
                    item.position,
                    ballot.pk,
                    ballot.title,
                    ballot.method,
                    ballot.outcome,
                    row["member"],
                    row["organization"],
                    row["sector"],
                    row["vote"],
                    row["reason"],
                ]
            )
    return response


# --- Standard operating procedures ----------------------------------------------------------


@login_required
def sop_list(request: HttpRequest) -> HttpResponse:
    sops = SOP.objects.visible_to(request.user).select_related("committee").prefetch_related("versions")
    return render(
        request,
        "governance/sop_list.html",
        {"sops": sops, "can_write": permissions.managed_committees(request.user).exists()},
    )


@login_required
def sop_create(request: HttpRequest) -> HttpResponse:
    committees = permissions.managed_committees(request.user)
    if not committees.exists():
        raise PermissionDenied("Only the co-chairs and the secretary write procedures.")
    form = SOPForm(request.POST or None, committees=committees)
    if request.method == "POST" and form.is_valid():
        try:
            sop = services.create_sop(request.user, **form.cleaned_data)
        except ValidationError as error:
            apply_errors(form, error)
        else:
            messages.success(request, "The procedure is drafted as version 1; put it to a ballot to adopt it.")
            return redirect("sops:detail", sop.pk)
    return render(request, "governance/sop_form.html", {"form": form})


@login_required
def sop_detail(request: HttpRequest, pk: int) -> HttpResponse:
    sop = get_object_or_404(SOP.objects.visible_to(request.user).select_related("committee"), pk=pk)
    versions = list(sop.versions.order_by("number"))
    ballots = {}
    for ballot in Ballot.objects.visible_to(request.user).filter(
        subject_type=SubjectType.SOP, subject_id__in=[v.pk for v in versions]
    ):
        ballots.setdefault(ballot.subject_id, []).append(ballot)
    previous = None
    rows = []
    for version in versions:
        diff = ""
        if previous is not None:
            diff = "\n".join(
                difflib.unified_diff(
                    previous.body.splitlines(),
                    version.body.splitlines(),
                    fromfile=f"version {previous.number}",
                    tofile=f"version {version.number}",
                    lineterm="",
                )
            )
        version_ballots = sorted(ballots.get(version.pk, []), key=lambda b: b.created_at)
        rows.append(
            {
                "version": version,
                "diff": diff,
                "ballots": version_ballots,
                "on_ballot": any(b.status in (BallotStatus.DRAFT, BallotStatus.OPEN) for b in version_ballots),
            }
        )
        previous = version
    rows.reverse()
    can_write = permissions.can_manage_committee(request.user, sop.committee)
    draft = next((r for r in rows if r["version"].status == SOPVersionStatus.DRAFT), None)
    return render(
        request,
        "governance/sop_detail.html",
        {
            "sop": sop,
            "rows": rows,
            "adopted": next((v for v in versions if v.status == SOPVersionStatus.ADOPTED), None),
            "draft": draft,
            "can_write": can_write,
            "version_form": SOPVersionForm(
                initial={"body": draft["version"].body if draft else (versions[-1].body if versions else "")}
            ),
        },
    )


def _sop_act(request: HttpRequest, pk: int, act, success: str, to_ballot: bool = False) -> HttpResponse:
    sop = get_object_or_404(SOP.objects.visible_to(request.user), pk=pk)
    try:
        result = act(sop)
    except (DomainError, PermissionDenied, ValidationError) as error:
        messages.error(request, _refusal(error))
        return redirect("sops:detail", sop.pk)
    messages.success(request, success)
    if to_ballot:
        return redirect("ballots:detail", result.pk)
    return redirect("sops:detail", sop.pk)


@login_required
@require_POST
def sop_version(request: HttpRequest, pk: int) -> HttpResponse:
    """Save the draft version's text, or start the next version when there is no draft."""
    form = SOPVersionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "A version needs its text.")
        return redirect("sops:detail", pk)
    data = form.cleaned_data

    def save(sop):
        draft = sop.versions.filter(status=SOPVersionStatus.DRAFT).first()
        if draft is None:
            return services.draft_sop_version(request.user, sop, **data)
        return services.update_sop_version(request.user, draft, **data)

    return _sop_act(request, pk, save, "The draft version is saved.")


@login_required
@require_POST
def sop_ballot(request: HttpRequest, pk: int) -> HttpResponse:
    def propose(sop):
        draft = sop.versions.filter(status=SOPVersionStatus.DRAFT).first()
        if draft is None:
            raise DomainError("There is no draft version to put to a ballot.")
        return services.put_sop_version_to_ballot(request.user, draft)

    return _sop_act(request, pk, propose, "A ballot on the draft version is prepared; a co-chair opens it.", True)
