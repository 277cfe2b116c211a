"""The governance app's panels on the home page: the signed-in person's own work in the body.

Everyone seated sees the ballots waiting for their vote. A co-chair also sees the drafts they
may open, the deadlocks of their committees with the second ballot each one has (or lacks),
the meetings to run and the minutes to approve; a secretary the meetings to prepare and the
minutes to draft; an auditor the state of the record. Nothing that is another person's work,
and a fixed number of queries whatever the volume.
"""

from __future__ import annotations

import datetime

from django import template
from django.db.models import Exists, OuterRef, Q, Subquery
from django.utils import timezone

from governance.choices import BallotStatus, MeetingStatus, MinutesStatus, Outcome, PortalRole, Role
from governance.models import (
    AuditEvent,
    Ballot,
    LogCheckpoint,
    LogVerification,
    Meeting,
    Minutes,
    Substitution,
    User,
)
from governance.selectors import own_seats

register = template.Library()

# Meetings appear in the inbox of those who run them two weeks ahead.
MEETING_WINDOW_DAYS = 14


def _seat_committees(seats: list[tuple[int, str]]) -> tuple[set[int], set[int]]:
    """The committees the person co-chairs, and those where they are the secretary, today."""
    chaired, secretary = set(), set()
    for committee_id, role in seats:
        if role == Role.CHAIR:
            chaired.add(committee_id)
        elif role == Role.SECRETARY:
            secretary.add(committee_id)
    return chaired, secretary


def _deadlocks(chaired: set[int]) -> list[Ballot]:
    """Deadlocked ballots of these committees whose second ballot has not closed yet, each
    annotated with that second ballot (id, status, closing time) when there is one."""
    follow_up = Ballot.objects.filter(previous_ballot=OuterRef("pk")).order_by("-created_at")
    return list(
        Ballot.objects.filter(committee_id__in=chaired, status=BallotStatus.CLOSED, outcome=Outcome.DEADLOCKED)
        .exclude(Exists(Ballot.objects.filter(previous_ballot=OuterRef("pk"), status=BallotStatus.CLOSED)))
        .annotate(
            next_id=Subquery(follow_up.values("pk")[:1]),
            next_status=Subquery(follow_up.values("status")[:1]),
            next_closes_at=Subquery(follow_up.values("closes_at")[:1]),
        )
        .select_related("committee")
        .order_by("closed_at")
    )


def substitute_waiting(user, now) -> list[Ballot]:
    """Open ballots on which the person, as a substitute in force, may still cast a seat's
    first vote; each carries `seat_member`, the member whose seat it is. One query when the
    person substitutes for nobody."""
    from governance.services.substitutes import seats_held_by

    held = Substitution.objects.active().filter(substitute=user).values("committee_id")
    candidates = list(
        Ballot.objects.filter(status=BallotStatus.OPEN, committee_id__in=held)
        .filter(Q(closes_at__isnull=True) | Q(closes_at__gt=now))
        .select_related("committee")
        .order_by("closes_at", "opened_at")
    )
    found = []
    for ballot in candidates:
        for member_id in seats_held_by(user, ballot):
            if not ballot.votes.filter(voter_id=member_id).exists():
                entry = Ballot.objects.select_related("committee").get(pk=ballot.pk)
                entry.seat_member = User.objects.get(pk=member_id)
                found.append(entry)
    return found


@register.inclusion_tag("governance/_home_panel.html", takes_context=True)
def governance_home_panel(context):
    """Votes due for everyone seated; a co-chair's and a secretary's own work besides."""
    request = context["request"]
    user = request.user
    if not user.is_authenticated:
        return {"user": user}
    now = timezone.now()
    seats = own_seats(request)
    chaired, secretary = _seat_committees(seats)
    managed = chaired | secretary
    panel = {
        "user": user,
        "now": now,
        "waiting": list(
            Ballot.objects.waiting_for(user).select_related("committee").order_by("closes_at", "opened_at")
        ),
        "to_open": [],
        "deadlocks": [],
        "meetings": [],
        "minutes_to_draft": [],
        "minutes_to_approve": [],
    }
    if chaired:
        panel["to_open"] = list(
            Ballot.objects.filter(committee_id__in=chaired, status=BallotStatus.DRAFT)
            .select_related("committee")
            .order_by("closes_at", "created_at")
        )
        panel["deadlocks"] = _deadlocks(chaired)
    if managed:
        panel["meetings"] = list(
            Meeting.objects.filter(
                committee_id__in=managed,
                status=MeetingStatus.SCHEDULED,
                starts_at__lte=now + datetime.timedelta(days=MEETING_WINDOW_DAYS),
            )
            .select_related("committee")
            .order_by("starts_at")
        )
        held = Meeting.objects.filter(status=MeetingStatus.HELD).select_related("committee").order_by("starts_at")
        drafted = Minutes.objects.filter(meeting=OuterRef("pk")).exclude(body="")
        approved = Minutes.objects.filter(meeting=OuterRef("pk"), status=MinutesStatus.APPROVED)
        if secretary:
            panel["minutes_to_draft"] = list(held.filter(committee_id__in=secretary).exclude(Exists(drafted)))
        if chaired:
            panel["minutes_to_approve"] = list(
                held.filter(committee_id__in=chaired).filter(Exists(drafted)).exclude(Exists(approved))
            )
    panel["substitute_waiting"] = substitute_waiting(user, now)
    panel["has_work"] = any(
        panel[key]
        for key in (
            "waiting",
            "substitute_waiting",
            "to_open",
            "deadlocks",
            "meetings",
            "minutes_to_draft",
            "minutes_to_approve",
        )
    )
    panel["seated"] = bool(seats)
    return panel


def is_auditor(user) -> bool:
    """Whether the person holds the auditors' portal role (their home shows the record)."""
    return bool(user and user.is_authenticated and user.groups.filter(name=PortalRole.AUDITOR).exists())


@register.inclusion_tag("governance/_record_panel.html", takes_context=True)
def record_home_panel(context):
    """For an auditor: the log's latest checkpoint and the cosigned one, the events still
    waiting for a leaf, and the last verification with its result."""
    user = context["request"].user
    if not is_auditor(user):
        return {"show": False}
    from governance.transparency.integrate import verified_checkpoint

    found = verified_checkpoint()
    cosigned = found[0] if found else None
    latest = LogCheckpoint.objects.order_by("-size").first()
    return {
        "show": True,
        "latest": latest,
        "cosigned": cosigned,
        "uncosigned": latest.size - cosigned.size if latest and cosigned else 0,
        "pending": AuditEvent.objects.filter(Q(leaf_index__isnull=True)).count(),
        "verification": LogVerification.objects.order_by("-created_at").first(),
    }
