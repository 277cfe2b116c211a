"""iCalendar for meetings: the invitation mailed to everyone on the roll (METHOD:REQUEST, or
METHOD:CANCEL when the meeting is called off) and each person's feed of their meetings.

Both use one UID per meeting and the meeting's SEQUENCE, so a calendar client that took the
invitation updates the same event when the meeting moves, and the feed agrees with the mail.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from email.utils import parseaddr

import icalendar
from django.conf import settings
from django.urls import reverse
from django.utils import timezone

from governance import values
from governance.choices import MeetingStatus
from governance.models import Attendance, Meeting

# A meeting has a start, not an end; calendars need one. Two hours is the usual sitting.
MEETING_LENGTH = datetime.timedelta(hours=2)
PRODID = "-//TGB portal//Meetings//EN"


def meeting_uid(meeting: Meeting) -> str:
    return f"meeting-{meeting.pk}@tgb-portal"


def meeting_url(meeting: Meeting) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("meetings:detail", args=[meeting.pk])


def organizer_address() -> str:
    """The portal's own sender address: replies come back through the links, not by mail."""
    return parseaddr(settings.DEFAULT_FROM_EMAIL)[1] or "tgb-portal@localhost"


def _event(meeting: Meeting, stamp: datetime.datetime) -> icalendar.Event:
    utc = datetime.UTC
    event = icalendar.Event()
    event.add("uid", meeting_uid(meeting))
    event.add("sequence", meeting.sequence)
    event.add("dtstamp", stamp.astimezone(utc))
    event.add("dtstart", meeting.starts_at.astimezone(utc))
    event.add("dtend", (meeting.starts_at + MEETING_LENGTH).astimezone(utc))
    event.add("summary", values.one_line(f"{meeting.title} ({meeting.committee})"))
    if meeting.location:
        event.add("location", values.one_line(meeting.location))
    event.add("url", meeting_url(meeting))
    event.add("status", "CANCELLED" if meeting.status == MeetingStatus.CANCELLED else "CONFIRMED")
    organizer = icalendar.vCalAddress(f"mailto:{organizer_address()}")
    organizer.params["cn"] = icalendar.vText(str(meeting.committee))
    event.add("organizer", organizer)
    return event


def _attendee(row: Attendance) -> icalendar.vCalAddress:
    address = icalendar.vCalAddress(f"mailto:{row.user.email}")
    address.params["cn"] = icalendar.vText(row.user.get_full_name() or row.user.username)
    address.params["role"] = icalendar.vText("REQ-PARTICIPANT" if row.voting else "OPT-PARTICIPANT")
    address.params["partstat"] = icalendar.vText("NEEDS-ACTION")
    address.params["rsvp"] = icalendar.vText("TRUE")
    return address


def invitation(meeting: Meeting, roll: Iterable[Attendance]) -> bytes:
    """The invitation (METHOD:REQUEST) or, for a cancelled meeting, its cancellation
    (METHOD:CANCEL), with every person on the roll who has an e-mail address as an attendee."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("method", "CANCEL" if meeting.status == MeetingStatus.CANCELLED else "REQUEST")
    event = _event(meeting, timezone.now())
    for row in roll:
        if row.user.email:
            event.add("attendee", _attendee(row))
    calendar.add_component(event)
    return calendar.to_ical()


def feed(meetings: Iterable[Meeting], name: str) -> bytes:
    """A person's subscription feed of their meetings (a cancelled one stays, marked so)."""
    calendar = icalendar.Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", name)
    stamp = timezone.now()
    for meeting in meetings:
        calendar.add_component(_event(meeting, stamp))
    return calendar.to_ical()
