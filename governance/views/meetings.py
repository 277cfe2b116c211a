"""Meeting pages: agendas, attendance, minutes and the roll call."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from governance import permissions, services, web
from governance.choices import (
    AttendanceStatus,
    BallotStatus,
    MeetingStatus,
    MinutesStatus,
)
from governance.exports import SafeWriter
from governance.forms import (
    AgendaItemForm,
    MeetingForm,
    MinutesForm,
)
from governance.models import AgendaItem, Attendance, Ballot, Meeting
from governance.views.ballots import tally_context


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
            web.add_service_errors(form, error)
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
            context = tally_context(ballot, None)
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
    except web.REFUSALS as error:
        web.refuse(request, error)
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
    # Names and titles are typed by members: every cell is neutralised (governance.exports).
    writer = SafeWriter(response)
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
            "vote_reason",
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
                    row["vote_reason"],
                ]
            )
    return response
