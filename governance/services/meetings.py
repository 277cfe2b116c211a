"""The write path of meetings: scheduling, the agenda, attendance and the minutes.

The secretary (and the co-chairs) run meetings; a co-chair approves the minutes, which then
freeze: the minutes, the agenda and the attendance of that meeting never change again.
"""

from __future__ import annotations

import datetime
import hashlib
from typing import Any

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Max
from django.utils import timezone

from governance.audit import record_event, snapshot
from governance.choices import MEETING_TRANSITIONS, AttendanceStatus, BallotStatus, MeetingStatus, MinutesStatus
from governance.exceptions import DomainError
from governance.models import (
    AgendaItem,
    Attendance,
    Ballot,
    Committee,
    Meeting,
    Membership,
    Minutes,
    MinutesPdf,
    User,
)
from governance.outbox import enqueue
from governance.permissions import can_manage_committee, is_co_chair, require
from governance.roles import is_administrator
from governance.transitions import check_transition

MEETING_FIELDS = ["committee", "title", "starts_at", "location", "status"]


def _may_run(actor: User | None, committee: Committee) -> None:
    require(
        actor is None or can_manage_committee(actor, committee),
        "Only administrators and this committee's co-chairs or secretary run its meetings.",
    )


def _locked(meeting: Meeting) -> Meeting:
    return Meeting.objects.select_for_update().select_related("committee").get(pk=meeting.pk)


def _refuse_if_frozen(meeting: Meeting) -> None:
    if Minutes.objects.filter(meeting=meeting, status=MinutesStatus.APPROVED).exists():
        raise DomainError(
            "The minutes of this meeting are approved: the meeting's record is frozen.", code="minutes_approved"
        )


def _seats_at(meeting: Meeting) -> list[Membership]:
    return list(
        Membership.objects.active(timezone.localdate(meeting.starts_at))
        .filter(committee=meeting.committee)
        .select_related("organization", "user")
    )


def _attendance_row(meeting: Meeting, seat: Membership, status: str = AttendanceStatus.ABSENT) -> Attendance:
    return Attendance(
        meeting=meeting,
        user=seat.user,
        organization=seat.organization,
        sector=seat.organization.sector,
        role=seat.role,
        voting=seat.voting,
        status=status,
    )


@transaction.atomic
def schedule_meeting(
    actor: User | None, *, committee: Committee, title: str, starts_at: datetime.datetime, location: str = ""
) -> Meeting:
    """Schedule a meeting; its attendance roll lists everyone seated on that day (absent until
    the secretary records otherwise)."""
    _may_run(actor, committee)
    meeting = Meeting(committee=committee, title=title, starts_at=starts_at, location=location, created_by=actor)
    meeting.full_clean()
    meeting.save()
    Attendance.objects.bulk_create(_attendance_row(meeting, seat) for seat in _seats_at(meeting))
    record_event(actor, "meeting.scheduled", meeting, after=snapshot(meeting, MEETING_FIELDS))
    _invite(meeting)
    return meeting


def _invite(meeting: Meeting) -> None:
    """Mail the roll the meeting's invitation (or cancellation) at its current sequence, once
    this transaction commits."""
    enqueue("governance.tasks.send_meeting_invitations", meeting.pk)


@transaction.atomic
def update_meeting(actor: User, meeting: Meeting, **fields: Any) -> Meeting:
    """Change a meeting's title, time or place; its status moves through `set_meeting_status`."""
    meeting = _locked(meeting)
    _may_run(actor, meeting.committee)
    _refuse_if_frozen(meeting)
    before = snapshot(meeting, MEETING_FIELDS)
    when_where = (meeting.starts_at, meeting.location)
    for name in ("title", "starts_at", "location"):
        if name in fields:
            setattr(meeting, name, fields[name])
    meeting.full_clean()
    # A scheduled meeting that moves (time or place) is sent again, one SEQUENCE higher, so
    # calendars update the event they have; a held meeting's record is only corrected.
    moved = meeting.status == MeetingStatus.SCHEDULED and (meeting.starts_at, meeting.location) != when_where
    if moved:
        meeting.sequence += 1
    meeting.save()
    record_event(actor, "meeting.updated", meeting, before=before, after=snapshot(meeting, MEETING_FIELDS))
    if moved:
        _invite(meeting)
    return meeting


@transaction.atomic
def set_meeting_status(actor: User, meeting: Meeting, status: str) -> Meeting:
    """Mark a scheduled meeting held or cancelled."""
    meeting = _locked(meeting)
    _may_run(actor, meeting.committee)
    check_transition("meeting", meeting.status, status, MEETING_TRANSITIONS)
    if status == MeetingStatus.HELD and meeting.starts_at > timezone.now():
        raise DomainError(
            f"This meeting starts at {timezone.localtime(meeting.starts_at):%Y-%m-%d %H:%M}; "
            "it can be marked held once it has begun.",
            code="meeting_not_started",
        )
    before = meeting.status
    meeting.status = status
    cancelled = status == MeetingStatus.CANCELLED
    if cancelled:
        meeting.sequence += 1
    meeting.save(update_fields=["status", "sequence", "updated_at"])
    record_event(actor, f"meeting.{status}", meeting, before={"status": before}, after={"status": status})
    if cancelled:
        _invite(meeting)
    return meeting


@transaction.atomic
def add_agenda_item(
    actor: User, meeting: Meeting, *, title: str, description: str = "", ballot: Ballot | None = None
) -> AgendaItem:
    """Add a point to the agenda, at the end. It may carry a ballot of the same committee."""
    meeting = _locked(meeting)
    _may_run(actor, meeting.committee)
    _refuse_if_frozen(meeting)
    if ballot is not None and ballot.committee_id != meeting.committee_id:
        raise ValidationError({"ballot": "An agenda item carries a ballot of the meeting's own committee."})
    if ballot is not None and AgendaItem.objects.filter(ballot=ballot).exists():
        raise ValidationError({"ballot": "This ballot is already on an agenda."})
    position = (meeting.agenda_items.aggregate(n=Max("position"))["n"] or 0) + 1
    item = AgendaItem(meeting=meeting, position=position, title=title, description=description, ballot=ballot)
    item.full_clean()
    item.save()
    record_event(
        actor,
        "meeting.agenda_item_added",
        meeting,
        after={"item": item.pk, "position": position, "title": title, "ballot": ballot.pk if ballot else None},
    )
    return item


@transaction.atomic
def record_attendance(actor: User, meeting: Meeting, user: User, status: str) -> Attendance:
    """Record whether a member was present, present remotely, excused or absent."""
    meeting = _locked(meeting)
    _may_run(actor, meeting.committee)
    _refuse_if_frozen(meeting)
    if status not in AttendanceStatus.values:
        raise ValidationError({"status": "Attendance is present, remote, excused or absent."})
    row = Attendance.objects.filter(meeting=meeting, user=user).first()
    if row is None:
        seat = next((s for s in _seats_at(meeting) if s.user_id == user.pk), None)
        if seat is None:
            raise ValidationError({"user": f"{user} held no seat on {meeting.committee} on the day of the meeting."})
        row = _attendance_row(meeting, seat, status)
        row.save()
        before = None
    else:
        before = row.status
        row.status = status
        row.save(update_fields=["status"])
    if before != status:
        record_event(
            actor,
            "meeting.attendance_recorded",
            meeting,
            before={"user": user.pk, "status": before},
            after={"user": user.pk, "status": status},
        )
    return row


@transaction.atomic
def draft_minutes(actor: User, meeting: Meeting, body: str) -> Minutes:
    """Write or rewrite the draft minutes (the secretary's task)."""
    meeting = _locked(meeting)
    _may_run(actor, meeting.committee)
    minutes, created = Minutes.objects.select_for_update().get_or_create(
        meeting=meeting, defaults={"body": body, "drafted_by": actor}
    )
    if minutes.status == MinutesStatus.APPROVED:
        raise DomainError("These minutes are approved and frozen; they cannot change.", code="minutes_approved")
    before = None if created else {"body": minutes.body}
    minutes.body = body
    minutes.drafted_by = actor
    minutes.full_clean()
    minutes.save()
    record_event(actor, "minutes.drafted", minutes, before=before, after={"body": body})
    return minutes


def minutes_digest(body: str) -> str:
    return hashlib.sha256(body.encode()).hexdigest()


@transaction.atomic
def approve_minutes(actor: User, meeting: Meeting) -> Minutes:
    """A co-chair approves the minutes of a held meeting; from then on they are frozen, and
    their SHA-256 digest is kept (and audited) so the text can be checked later."""
    meeting = _locked(meeting)
    require(
        is_administrator(actor) or is_co_chair(actor, meeting.committee),
        "Only the committee's co-chairs approve minutes.",
    )
    if meeting.status != MeetingStatus.HELD:
        raise DomainError("Only the minutes of a meeting that was held are approved.", code="meeting_not_held")
    minutes = Minutes.objects.select_for_update().filter(meeting=meeting).first()
    if minutes is None or not minutes.body.strip():
        raise DomainError("There are no draft minutes to approve.", code="no_minutes")
    if minutes.status == MinutesStatus.APPROVED:
        raise DomainError("These minutes are already approved.", code="minutes_approved")
    open_ballots = [
        i.ballot
        for i in meeting.agenda_items.select_related("ballot")
        if i.ballot and i.ballot.status != BallotStatus.CLOSED
    ]
    if open_ballots:
        raise DomainError(
            f"The ballot '{open_ballots[0]}' on the agenda is not closed; minutes record closed ballots only.",
            code="ballot_not_closed",
        )
    minutes.status = MinutesStatus.APPROVED
    minutes.approved_by = actor
    minutes.approved_at = timezone.now()
    minutes.digest = minutes_digest(minutes.body)
    minutes.save()
    record_event(
        actor, "minutes.approved", minutes, before={"status": MinutesStatus.DRAFT}, after={"digest": minutes.digest}
    )
    enqueue("governance.tasks.archive_minutes_pdf", minutes.pk)
    return minutes


def archive_minutes_pdf(minutes_id: int) -> str:
    """Make the PDF of approved minutes and archive it with them, recording its SHA-256 on the
    minutes (once: a second run finds it made and returns the recorded hash). Run after the
    approval commits (governance.tasks.archive_minutes_pdf), or by the first download."""
    from governance.minutes_pdf import render_minutes_pdf  # WeasyPrint loads pango: only when needed

    with transaction.atomic():
        minutes = Minutes.objects.select_for_update().filter(pk=minutes_id, status=MinutesStatus.APPROVED).first()
        if minutes is None:
            raise DomainError("Only approved minutes have a PDF.", code="minutes_not_approved")
        if minutes.pdf_sha256:
            return minutes.pdf_sha256
        content = render_minutes_pdf(minutes)
        digest = hashlib.sha256(content).hexdigest()
        MinutesPdf.objects.create(minutes=minutes, content=content)
        Minutes.objects.filter(pk=minutes.pk).update(pdf_sha256=digest)
        record_event(None, "minutes.pdf_archived", minutes, after={"pdf_sha256": digest, "bytes": len(content)})
        return digest
