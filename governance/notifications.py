"""Emails the portal sends, from Celery tasks, never inside a request.

About ballots: opened, the reminder 24 hours before closing, the result, and the
deadlock flag to both co-chairs. The Celery tasks in governance.tasks call these.

Each sending first claims its ballot's notice with a conditional UPDATE in the same
transaction as the sending: a retry or a second worker finds the notice claimed and sends
nothing, and a failed sending rolls the claim back so the retry can try again.
"""

from __future__ import annotations

import datetime
from email.mime.text import MIMEText

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.db.models import Q
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from governance import calendars, digests, values
from governance.choices import BallotStatus, MeetingStatus, Outcome, Role
from governance.models import Ballot, Meeting, Membership, User
from governance.services.invitations import REPLIES, reply_token

REMINDER_BEFORE = datetime.timedelta(hours=24)


def ballot_link(ballot: Ballot) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("ballots:detail", args=[ballot.pk])


def _claim(ballot_id: int, field: str, condition: Q | None = None) -> Ballot | None:
    """Mark the notice as sent, if nobody has; the ballot when this caller won the claim."""
    rows = Ballot.objects.filter(pk=ballot_id, **{f"{field}__isnull": True})
    if condition is not None:
        rows = rows.filter(condition)
    if rows.update(**{field: timezone.now()}) == 0:
        return None
    return Ballot.objects.select_related("committee").get(pk=ballot_id)


def _send(template: str, recipients: list[User], context: dict, *, deadline: bool = True) -> int:
    """One message per recipient (nobody sees the others' addresses). The template's first
    line is the subject, the rest the body. A message with no deadline waits for the digest
    of a person who chose one (governance.digests)."""
    messages = []
    for user in recipients:
        if not user.email:
            continue
        subject, body = digests.render_message(template, {**context, "recipient": user})
        message = digests.deliver(user, subject, body, deadline=deadline)
        if message is not None:
            messages.append(message)
    if not messages:
        return 0
    return get_connection().send_messages(messages) or 0


def _voters(ballot: Ballot, *, include_recused: bool = True, only_missing_votes: bool = False) -> list[User]:
    users = User.objects.filter(pk__in=ballot.roll.values("user_id"), is_active=True)
    if not include_recused:
        users = users.exclude(pk__in=ballot.recusals.values("user_id"))
    if only_missing_votes:
        users = users.exclude(pk__in=ballot.votes.values("voter_id"))
    return list(users.order_by("username"))


def send_ballot_opened(ballot_id: int) -> int:
    """Tell everyone on the roll the ballot is open (the recused are told why they are)."""
    with transaction.atomic():
        ballot = _claim(ballot_id, "opened_notice_at", Q(status__in=[BallotStatus.OPEN, BallotStatus.CLOSED]))
        if ballot is None:
            return 0
        recusals = {r.user_id: r.reason for r in ballot.recusals.all()}
        sent = 0
        for user in _voters(ballot):
            sent += _send(
                "governance/email/ballot_opened.txt",
                [user],
                {"ballot": ballot, "link": ballot_link(ballot), "recusal": recusals.get(user.pk)},
            )
        return sent


def send_ballot_reminder(ballot_id: int, now: datetime.datetime | None = None) -> int:
    """Remind the voters who have not voted, once, within 24 hours of the closing time."""
    now = now or timezone.now()
    with transaction.atomic():
        ballot = _claim(
            ballot_id,
            "reminder_sent_at",
            Q(status=BallotStatus.OPEN, closes_at__gt=now, closes_at__lte=now + REMINDER_BEFORE),
        )
        if ballot is None:
            return 0
        return _send(
            "governance/email/ballot_reminder.txt",
            _voters(ballot, include_recused=False, only_missing_votes=True),
            {"ballot": ballot, "link": ballot_link(ballot)},
        )


def ballots_needing_reminders(now: datetime.datetime | None = None) -> list[int]:
    now = now or timezone.now()
    return list(
        Ballot.objects.filter(
            status=BallotStatus.OPEN,
            reminder_sent_at__isnull=True,
            closes_at__gt=now,
            closes_at__lte=now + REMINDER_BEFORE,
        ).values_list("pk", flat=True)
    )


def send_chair_reminder(ballot_id: int, user_ids: list[int]) -> int:
    """A co-chair's reminder (governance.services.voting.remind_voters) to the members named,
    those of them who still have not voted when it is sent."""
    ballot = Ballot.objects.select_related("committee").filter(pk=ballot_id, status=BallotStatus.OPEN).first()
    if ballot is None:
        return 0
    missing = [user for user in _voters(ballot, include_recused=False, only_missing_votes=True) if user.pk in user_ids]
    return _send("governance/email/ballot_reminder.txt", missing, {"ballot": ballot, "link": ballot_link(ballot)})


def send_ballot_result(ballot_id: int) -> int:
    """Tell the roll and the secretary the outcome; on a deadlock, flag it to both co-chairs."""
    with transaction.atomic():
        ballot = _claim(ballot_id, "result_notice_at", Q(status=BallotStatus.CLOSED))
        if ballot is None:
            return 0
        context = {"ballot": ballot, "link": ballot_link(ballot), "tally": ballot.result}
        secretaries = User.objects.filter(
            pk__in=Membership.objects.active().filter(committee=ballot.committee, role=Role.SECRETARY).values("user_id")
        )
        recipients = {user.pk: user for user in [*_voters(ballot), *secretaries]}
        # The result has no deadline: it may wait for a digest.
        sent = _send("governance/email/ballot_result.txt", list(recipients.values()), context, deadline=False)
        if ballot.outcome == Outcome.DEADLOCKED:
            chairs = User.objects.filter(
                pk__in=Membership.objects.active().filter(committee=ballot.committee, role=Role.CHAIR).values("user_id")
            )
            sent += _send("governance/email/ballot_deadlocked.txt", list(chairs), context, deadline=False)
        return sent


def send_account_created(user_id: int) -> bool:
    """Tell a person their portal account exists (never with the password). Returns whether
    an email went out; a person without an email address or a deactivated account gets none."""
    user = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    if user is None:
        return False
    EmailMessage(
        subject="Your account on the TGB portal",
        body=(
            f"Hello {user.get_full_name() or user.username},\n\n"
            f"An account with the username '{user.username}' has been created for you on the portal of the "
            "Technical Governance Body. Your administrator will give you your first password.\n"
        ),
        to=[user.email],
    ).send()
    return True


def _calendar_part(ical: bytes, method: str) -> MIMEText:
    """The invitation as mail clients expect it: text/calendar with its METHOD, as an attachment."""
    part = MIMEText(ical.decode(), "calendar", "utf-8")
    part.set_param("method", method)
    part.add_header("Content-Disposition", "attachment", filename="invite.ics")
    return part


def send_meeting_invitations(meeting_id: int) -> int:
    """Mail everyone on the meeting's roll its invitation at the current SEQUENCE (or the
    cancellation), with their own reply links. The sequence is claimed with a conditional
    update in the sending's transaction, so a second run, or the run of an older change, sends
    nothing; a failed sending rolls the claim back for the retry."""
    with transaction.atomic():
        meeting = Meeting.objects.select_related("committee").filter(pk=meeting_id).first()
        if meeting is None:
            return 0
        claimed = Meeting.objects.filter(pk=meeting_id, invited_sequence__lt=meeting.sequence).update(
            invited_sequence=meeting.sequence
        )
        if claimed == 0:
            return 0
        if meeting.status == MeetingStatus.HELD or meeting.starts_at < timezone.now():
            return 0  # nothing to put in a calendar: held, or recorded after the fact
        roll = list(meeting.attendance.select_related("user").filter(user__is_active=True).exclude(user__email=""))
        cancelled = meeting.status == MeetingStatus.CANCELLED
        method = "CANCEL" if cancelled else "REQUEST"
        ical = calendars.invitation(meeting, roll)
        template = "governance/email/meeting_cancelled.txt" if cancelled else "governance/email/meeting_invitation.txt"
        base = settings.SITE_URL.rstrip("/")
        messages = []
        for row in roll:
            token = reply_token(meeting.pk, row.user_id)
            reply_page = base + reverse("meetings:reply", args=[meeting.pk, token])
            context = {
                "meeting": meeting,
                "recipient": row.user,
                "link": calendars.meeting_url(meeting),
                "replies": [(reply, f"{reply_page}?reply={reply}") for reply in REPLIES],
                "moved": meeting.sequence > 0,
            }
            subject, _, body = render_to_string(template, context).strip().partition("\n")
            message = EmailMessage(subject=values.one_line(subject), body=body.strip() + "\n", to=[row.user.email])
            message.attach(_calendar_part(ical, method))
            messages.append(message)
        if not messages:
            return 0
        return get_connection().send_messages(messages) or 0


def send_substitution_named(substitution_id: int) -> int:
    """Tell the co-chair of the member's sector that a substitute was named (no deadline: it
    may wait for their digest), and the substitute what they vote on in whose seat (a ballot
    to vote on has a deadline: at once). Claimed once, like the ballots' notices."""
    from governance.models import Substitution
    from governance.services.substitutes import co_chair_of_sector

    with transaction.atomic():
        if not Substitution.objects.filter(pk=substitution_id, notice_sent_at__isnull=True).update(
            notice_sent_at=timezone.now()
        ):
            return 0
        substitution = Substitution.objects.select_related(
            "member", "substitute", "committee", "ballot", "meeting", "substitute_organization"
        ).get(pk=substitution_id)
        link = settings.SITE_URL.rstrip("/") + reverse("home")
        context = {"substitution": substitution, "link": link}
        sent = _send(
            "governance/email/substitution_named.txt",
            co_chair_of_sector(substitution.committee_id, substitution.sector),
            {**context, "to_chair": True},
            deadline=False,
        )
        sent += _send("governance/email/substitution_named.txt", [substitution.substitute], context, deadline=True)
        return sent
