"""Digests (issue 19): each person chooses immediate, daily or weekly delivery of the portal's
e-mails. Anything with a deadline (a ballot opened, a closing reminder, a request to sign, a
ballot to vote on as a substitute) always goes at once; the rest is kept as a DigestItem and a
digest lists what changed and what awaits the person (the home inbox's own query).

A digest goes once per person and period: the sender inserts the period's Digest row (unique
per person and period start) in the same transaction as the sending, so a second sender at the
same time waits on that insert and is refused once the first commits, and a failed sending
rolls the claim back for the next run. Nothing is sent when nothing happened.
"""

from __future__ import annotations

import datetime
from types import SimpleNamespace

from django.core.mail import EmailMessage, get_connection
from django.db import IntegrityError, transaction
from django.template.loader import render_to_string
from django.utils import timezone

from governance import values
from governance.choices import NotificationDelivery
from governance.models import Digest, DigestItem, User

PERIOD_DAYS = {NotificationDelivery.DAILY: 1, NotificationDelivery.WEEKLY: 7}


def render_message(template: str, context: dict) -> tuple[str, str]:
    """The template's first line is the subject, the rest the body."""
    subject, _, body = render_to_string(template, context).strip().partition("\n")
    return values.one_line(subject), body.strip() + "\n"


def deliver(user: User, subject: str, body: str, *, deadline: bool) -> EmailMessage | None:
    """One notification for one person: the message to send now (a deadline, or a person who
    wants every e-mail at once), or None when it is kept for their digest (or they have no
    address)."""
    if not user.email or not user.is_active:
        return None
    if deadline or user.notification_delivery == NotificationDelivery.IMMEDIATE:
        return EmailMessage(subject=subject, body=body, to=[user.email])
    DigestItem.objects.create(user=user, subject=values.one_line(subject)[:300], body=body)
    return None


def period_for(delivery: str, now: datetime.datetime) -> tuple[datetime.datetime, datetime.datetime]:
    """The last completed period before `now` (a local day, or an ISO week from Monday)."""
    local = timezone.localtime(now)
    today = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if delivery == NotificationDelivery.WEEKLY:
        this_week = today - datetime.timedelta(days=today.weekday())
        return this_week - datetime.timedelta(days=7), this_week
    return today - datetime.timedelta(days=1), today


def users_with_due_digests(now: datetime.datetime | None = None) -> list[int]:
    """People with notifications kept from before the end of their last completed period."""
    now = now or timezone.now()
    due = []
    rows = (
        User.objects.filter(is_active=True, digest_items__digest__isnull=True)
        .exclude(email="")
        .values_list("pk", "notification_delivery")
        .distinct()
    )
    for user_id, delivery in rows:
        _, end = period_for(delivery if delivery in PERIOD_DAYS else NotificationDelivery.DAILY, now)
        if DigestItem.objects.filter(user_id=user_id, digest__isnull=True, created_at__lt=end).exists():
            due.append(user_id)
    return sorted(due)


def awaiting(user: User) -> list[str]:
    """What awaits the person, from the home inbox's own query (issue 17), one line each."""
    from governance.templatetags.governance_home import governance_home_panel

    panel = governance_home_panel({"request": SimpleNamespace(user=user)})
    lines = []
    for ballot in panel.get("waiting", []):
        closes = f", closes {timezone.localtime(ballot.closes_at):%Y-%m-%d %H:%M}" if ballot.closes_at else ""
        lines.append(f"Vote: {ballot.title} ({ballot.committee}{closes})")
    for ballot in panel.get("substitute_waiting", []):
        lines.append(f"Vote in {ballot.seat_member}'s seat: {ballot.title} ({ballot.committee})")
    lines += [f"Open the draft ballot: {b.title}" for b in panel.get("to_open", [])]
    lines += [f"Deadlocked, needs a second ballot: {b.title}" for b in panel.get("deadlocks", [])]
    lines += [f"Meeting to run: {m}" for m in panel.get("meetings", [])]
    lines += [f"Minutes to draft: {m}" for m in panel.get("minutes_to_draft", [])]
    lines += [f"Minutes to approve: {m}" for m in panel.get("minutes_to_approve", [])]
    return lines


def send_digest(user_id: int, now: datetime.datetime | None = None) -> int:
    """Send one person's digest for their last completed period, if it has not gone and
    something happened; returns 1 when an e-mail went out."""
    now = now or timezone.now()
    user = User.objects.filter(pk=user_id, is_active=True).exclude(email="").first()
    if user is None:
        return 0
    delivery = user.notification_delivery if user.notification_delivery in PERIOD_DAYS else NotificationDelivery.DAILY
    start, end = period_for(delivery, now)
    with transaction.atomic():
        try:
            with transaction.atomic():
                # The claim: a concurrent sender's insert of the same row waits for this
                # transaction and is refused once it commits.
                digest = Digest.objects.create(user=user, delivery=delivery, period_start=start, period_end=end)
        except IntegrityError:
            return 0
        items = list(
            DigestItem.objects.select_for_update()
            .filter(user=user, digest__isnull=True, created_at__lt=end)
            .order_by("created_at", "id")
        )
        if not items:
            # Nothing happened: no e-mail, and no claim either (rolled back with the transaction).
            transaction.set_rollback(True)
            return 0
        DigestItem.objects.filter(pk__in=[item.pk for item in items]).update(digest=digest)
        Digest.objects.filter(pk=digest.pk).update(item_count=len(items))
        subject, body = render_message(
            "governance/email/digest.txt",
            {
                "recipient": user,
                "delivery": NotificationDelivery(delivery).label.lower(),
                "start": timezone.localtime(start),
                "end": timezone.localtime(end),
                "items": items,
                "awaiting": awaiting(user),
            },
        )
        return get_connection().send_messages([EmailMessage(subject=subject, body=body, to=[user.email])]) or 0
