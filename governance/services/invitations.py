"""Meeting invitations: each invited person's reply, and their secret feed of meetings.

The invitation itself is mailed by governance.notifications.send_meeting_invitations, enqueued
by the meeting services when a meeting is scheduled, moved or cancelled. The mail carries
signed links (one per person and meeting) that open the reply page; the reply is the person's
own intention, kept apart from the attendance the secretary records.
"""

from __future__ import annotations

from django.core import signing
from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from governance import feeds
from governance.audit import record_event
from governance.choices import MeetingStatus, MinutesStatus, Rsvp
from governance.exceptions import DomainError
from governance.models import Attendance, Meeting, MeetingFeed, User
from governance.permissions import require

_REPLY_SALT = "governance.meeting-reply"
REPLIES = (Rsvp.ACCEPTED, Rsvp.TENTATIVE, Rsvp.DECLINED)


def reply_token(meeting_id: int, user_id: int) -> str:
    """The signed part of one person's reply links to one meeting (it names both, so it opens
    nothing else; it needs no expiry: a reply is refused once the meeting is past)."""
    return signing.dumps({"m": meeting_id, "u": user_id}, salt=_REPLY_SALT, compress=False)


def read_reply_token(token: str) -> tuple[int, int]:
    """(meeting id, user id) of a reply token; raises signing.BadSignature when tampered with."""
    data = signing.loads(token, salt=_REPLY_SALT)
    if not isinstance(data, dict) or not isinstance(data.get("m"), int) or not isinstance(data.get("u"), int):
        raise signing.BadSignature("Not a reply token.")
    return data["m"], data["u"]


@transaction.atomic
def reply_to_invitation(actor: User, meeting: Meeting, reply: str) -> Attendance:
    """Record the person's own answer to the invitation: accepted, tentative or declined.
    Only the invited person answers for themselves, and only while the meeting is scheduled."""
    if reply not in REPLIES:
        raise ValidationError({"reply": "A reply is accepted, tentative or declined."})
    row = (
        Attendance.objects.select_for_update()
        .select_related("meeting")
        .filter(meeting=meeting, user=actor if actor and actor.is_authenticated else None)
        .first()
    )
    require(row is not None, "Only the people invited to this meeting reply to its invitation, each for themselves.")
    assert row is not None  # for the type checker: require() raised otherwise
    if row.meeting.status != MeetingStatus.SCHEDULED or row.meeting.starts_at < timezone.now():
        raise DomainError("This meeting is no longer ahead; its invitation takes no replies.", code="meeting_not_ahead")
    if Meeting.objects.filter(pk=meeting.pk, minutes__status=MinutesStatus.APPROVED).exists():
        raise DomainError("The minutes of this meeting are approved.", code="minutes_approved")
    before = row.rsvp
    if before != reply:
        row.rsvp = reply
        row.rsvp_at = timezone.now()
        row.save(update_fields=["rsvp", "rsvp_at"])
        record_event(
            actor, "meeting.replied", row.meeting, before={"user": actor.pk, "rsvp": before}, after={"rsvp": reply}
        )
    return row


@transaction.atomic
def issue_meeting_feed(actor: User) -> str:
    """Issue (or replace) the person's secret feed of their meetings; only its hash is kept,
    so the address is shown this once."""
    require(actor.is_authenticated and actor.is_active, "Sign in to have a meeting calendar.")
    return feeds.issue(MeetingFeed, actor, "meeting_feed")


@transaction.atomic
def revoke_meeting_feed(actor: User) -> None:
    """Stop the person's meeting feed: its address answers 404 from now on."""
    feeds.revoke(MeetingFeed, actor, "meeting_feed")


def meeting_feed_user(token: str) -> User | None:
    """Whose meeting feed a token opens: an active person, else nobody."""
    return feeds.user_of(MeetingFeed, token, lambda user: user.is_active)
