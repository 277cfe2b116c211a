"""Meeting pages: agendas, attendance, minutes and the roll call."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core import signing
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Prefetch
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from governance import calendars, permissions, services, web
from governance.choices import (
    AttendanceStatus,
    BallotStatus,
    MeetingStatus,
    MinutesStatus,
    Rsvp,
)
from governance.exports import SafeWriter
from governance.forms import (
    AgendaItemForm,
    MeetingEditForm,
    MeetingForm,
    MinutesForm,
)
from governance.models import AgendaItem, Attendance, Ballot, Meeting, MeetingFeed, Minutes, MinutesPdf, User
from governance.services import invitations
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


@login_required
def meeting_edit(request: HttpRequest, pk: int) -> HttpResponse:
    """Move or rename a meeting: a scheduled meeting that moves (time or place) is sent to
    everyone on its roll again, one SEQUENCE higher, so their calendars move the event."""
    meeting = get_object_or_404(Meeting.objects.visible_to(request.user), pk=pk)
    if not permissions.can_manage_committee(request.user, meeting.committee):
        raise PermissionDenied("Only the co-chairs and the secretary change a meeting.")
    form = MeetingEditForm(
        request.POST or None,
        initial={"title": meeting.title, "starts_at": meeting.starts_at, "location": meeting.location},
    )
    if request.method == "POST" and form.is_valid():
        try:
            before = meeting.sequence
            meeting = services.update_meeting(request.user, meeting, **form.cleaned_data)
        except web.REFUSALS as error:
            web.add_service_errors(form, error)
        else:
            moved = meeting.sequence > before
            messages.success(
                request,
                "The meeting is moved: everyone on its roll gets the updated invitation."
                if moved
                else "The meeting is saved.",
            )
            return redirect("meetings:detail", meeting.pk)
    return render(
        request,
        "governance/meeting_form.html",
        {"form": form, "meeting": meeting, "title": f"Change “{meeting.title}”", "submit": "Save"},
    )


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
    attendance = sorted(meeting.attendance.all(), key=lambda a: (a.sector, a.user.username))
    own = next((a for a in attendance if a.user_id == user.pk), None)
    may_reply = own is not None and meeting.status == MeetingStatus.SCHEDULED and meeting.starts_at > timezone.now()
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
            "attendance": attendance,
            # The replies to the invitation are the secretary's (and the co-chairs') to see.
            "show_replies": permissions.can_manage_committee(user, meeting.committee),
            "own": own,
            "reply_url": reverse("meetings:reply", args=[meeting.pk, invitations.reply_token(meeting.pk, user.pk)])
            if may_reply
            else "",
            "reply_choices": [(value, Rsvp(value).label) for value in invitations.REPLIES],
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


def _reply_refused(request: HttpRequest, status: int, message: str) -> HttpResponse:
    return render(request, "error.html", {"title": "This reply link does not work", "message": message}, status=status)


@require_http_methods(["GET", "POST"])
def meeting_reply(request: HttpRequest, pk: int, token: str) -> HttpResponse:
    """Answer a meeting's invitation through the signed link in its mail: the link names the
    person and the meeting, so it works without signing in. Opening it only shows the choice
    (mail scanners open links); the answer is recorded by the button, as the person's own."""
    try:
        meeting_id, user_id = invitations.read_reply_token(token)
    except signing.BadSignature:
        return _reply_refused(request, 400, "This reply link is damaged or altered; use the one in your invitation.")
    if meeting_id != pk:
        return _reply_refused(request, 400, "This reply link belongs to another meeting.")
    if request.user.is_authenticated and request.user.pk != user_id:
        raise PermissionDenied("This reply link is another person's: each person answers their own invitation.")
    meeting = get_object_or_404(Meeting.objects.select_related("committee"), pk=pk)
    person = get_object_or_404(User, pk=user_id, is_active=True)
    row = Attendance.objects.filter(meeting=meeting, user=person).first()
    if row is None:
        raise PermissionDenied("This person is not on the meeting's roll.")
    chosen = request.POST.get("reply") if request.method == "POST" else request.GET.get("reply", "")
    error = ""
    status = 200
    if request.method == "POST":
        try:
            row = invitations.reply_to_invitation(person, meeting, chosen or "")
        except web.REFUSALS as refusal:
            error = web.refusal_message(refusal)
            status = 403 if isinstance(refusal, PermissionDenied) else 400
        else:
            messages.success(request, f"Your reply is recorded: {row.get_rsvp_display().lower()}.")
            return redirect(request.path)
    response = render(
        request,
        "governance/meeting_reply.html",
        {
            "meeting": meeting,
            "person": person,
            "row": row,
            "chosen": chosen if chosen in invitations.REPLIES else row.rsvp,
            "choices": [(value, Rsvp(value).label) for value in invitations.REPLIES],
            "error": error,
        },
        status=status,
    )
    response["Cache-Control"] = "no-store"
    # The address is a credential: never sent to another site (same-origin still sends the
    # Origin that the form's CSRF check needs; no-referrer would send "null").
    response["Referrer-Policy"] = "same-origin"
    return response


@login_required
def meeting_calendar(request: HttpRequest) -> HttpResponse:
    """Issue, replace or stop the person's secret iCalendar feed of their meetings."""
    feed_url = None
    if request.method == "POST":
        if request.POST.get("action") == "revoke":
            invitations.revoke_meeting_feed(request.user)
            messages.success(request, "Your meeting feed is stopped; its address no longer works.")
            return redirect("meetings:calendar")
        token = invitations.issue_meeting_feed(request.user)
        feed_url = request.build_absolute_uri(reverse("meetings:calendar-feed", args=[token]))
    feed = MeetingFeed.objects.filter(user=request.user).first()
    response = render(request, "governance/meeting_calendar.html", {"feed": feed, "feed_url": feed_url})
    response["Cache-Control"] = "no-store"
    return response


@require_GET
def meeting_calendar_feed(request: HttpRequest, token: str) -> HttpResponse:
    """The feed itself, opened by its secret token (calendar clients send no session): the
    meetings the person is on the roll of, with the invitations' UIDs and sequences."""
    user = invitations.meeting_feed_user(token)
    if user is None:
        raise Http404("No such meeting feed.")
    meetings = Meeting.objects.invited(user).select_related("committee").order_by("starts_at", "pk")
    body = calendars.feed(meetings, "TGB meetings")
    response = HttpResponse(body, content_type="text/calendar; charset=utf-8")
    response["Content-Disposition"] = 'inline; filename="tgb-meetings.ics"'
    response["Cache-Control"] = "private, max-age=900"
    return response


def minutes_pdf_response(meeting: Meeting, cache_control: str = "private, max-age=300") -> HttpResponse:
    """The archived PDF of approved minutes (made now if the task has not run yet); 404 for
    minutes that are not approved."""
    minutes = Minutes.objects.filter(meeting=meeting, status=MinutesStatus.APPROVED).first()
    if minutes is None:
        raise Http404("These minutes are not approved; only approved minutes have a PDF.")
    digest = minutes.pdf_sha256 or services.archive_minutes_pdf(minutes.pk)
    content = bytes(MinutesPdf.objects.values_list("content", flat=True).get(minutes=minutes))
    response = HttpResponse(content, content_type="application/pdf")
    response["Content-Disposition"] = f'inline; filename="minutes-meeting-{meeting.pk}.pdf"'
    response["Digest"] = f"sha-256={digest}"
    response["X-Content-SHA256"] = digest
    response["Cache-Control"] = cache_control
    return response


@login_required
def meeting_minutes_pdf(request: HttpRequest, pk: int) -> HttpResponse:
    """The approved minutes as the archived PDF, for those who may read the minutes."""
    return minutes_pdf_response(get_object_or_404(Meeting.objects.visible_to(request.user), pk=pk))
