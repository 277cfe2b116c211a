"""The write path of ballots: prepare, open, vote, declare a conflict, close (DESIGN.md 2.1).

Every function runs in one transaction that starts by locking the ballot's row, so votes,
recusals and the closing of one ballot are serialized: a vote can never slip in after the
tally that closes the ballot was counted, two votes of one member cannot both be written, and
two workers closing the same ballot apply its outcome once. Notifications are enqueued with
transaction.on_commit, so nobody is told of a change that was rolled back.
"""

from __future__ import annotations

import copy
import datetime
import logging
from collections import Counter
from decimal import Decimal
from typing import Any

from django.core.exceptions import ValidationError
from django.db import connection, transaction
from django.utils import timezone

from governance.audit import record_event, snapshot
from governance.choices import BALLOT_TRANSITIONS, BallotStatus, Outcome, Role, Sector, SubjectType
from governance.exceptions import DomainError, IllegalTransition
from governance.models import Ballot, CloseRequest, Committee, Eligibility, Membership, Recusal, User
from governance.outbox import enqueue
from governance.permissions import can_prepare_ballots, can_run_ballots, co_chair_seat, require
from governance.services.seats import mark_constituted

logger = logging.getLogger(__name__)

BALLOT_FIELDS = [
    "committee",
    "title",
    "description",
    "subject_type",
    "subject_id",
    "method",
    "quorum",
    "closes_at",
    "previous_ballot",
]
# What may still change while a ballot is a draft; nothing changes once it is open.
DRAFT_EDITABLE = ["title", "description", "method", "quorum", "closes_at"]


# --- Reads --------------------------------------------------------------------------------


def co_chairs(committee: Committee) -> list[User]:
    """Today's co-chairs, one per sector when the committee is constituted."""
    return [
        m.user
        for m in Membership.objects.active()
        .filter(committee=committee, role=Role.CHAIR)
        .select_related("user")
        .order_by("user__username")
    ]


# --- Helpers -------------------------------------------------------------------------------


def lock_ballot(ballot: Ballot) -> Ballot:
    """The ballot's row, locked for the rest of the transaction, read afresh."""
    return Ballot.objects.select_for_update().get(pk=ballot.pk)


def share_ballot(ballot: Ballot) -> Ballot:
    """The ballot with its status and closing time read afresh under a shared lock.

    Votes on one ballot take PostgreSQL's FOR SHARE side by side instead of queueing behind one
    another; opening, closing or changing the ballot (lock_ballot) waits until the votes in
    flight commit, and votes wait for it, so no vote lands on a ballot that is closing. One
    small query, since a vote is the portal's busiest write. SQLite writes one transaction at
    a time anyway.
    """
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT status, closes_at FROM {Ballot._meta.db_table} WHERE id = %s FOR SHARE",  # noqa: S608
                [ballot.pk],
            )
            found = cursor.fetchone()
    else:
        found = Ballot.objects.filter(pk=ballot.pk).order_by().values_list("status", "closes_at").first()
    if found is None:
        raise Ballot.DoesNotExist(f"Ballot {ballot.pk} does not exist.")
    fresh = copy.copy(ballot)
    fresh.status, fresh.closes_at = found
    return fresh


def _move(ballot: Ballot, target: str) -> None:
    legal = BALLOT_TRANSITIONS[ballot.status]
    if target not in legal:
        raise IllegalTransition("ballot", ballot.status, target, list(legal))


def _enqueue(task_name: str, *args: Any) -> None:
    """Record a notification task with this transaction; it goes to Celery on commit, or
    from the outbox once the broker is back (governance.outbox)."""
    enqueue(f"governance.tasks.{task_name}", *args)


def _subject_label(subject_type: str) -> str:
    return SubjectType(subject_type).label.lower()


# --- Preparing ------------------------------------------------------------------------------


@transaction.atomic
def create_ballot(
    actor: User | None,
    *,
    committee: Committee,
    title: str,
    subject_type: str,
    subject_id: int | None = None,
    method: str | None = None,
    quorum: Decimal | None = None,
    closes_at: datetime.datetime | None = None,
    description: str = "",
    previous_ballot: Ballot | None = None,
) -> Ballot:
    """Prepare a draft ballot on a subject. The method and quorum default to the committee's
    for this kind of subject; the subject must exist and its app must provide ballots."""
    require(
        actor is None or can_prepare_ballots(actor, committee),
        "Only administrators and this committee's co-chairs or secretary prepare ballots.",
    )
    ballot = Ballot(
        committee=committee,
        title=title,
        description=description,
        subject_type=subject_type,
        subject_id=subject_id,
        method=method or "",
        quorum=quorum if quorum is not None else committee.quorum,
        closes_at=closes_at,
        previous_ballot=previous_ballot,
        created_by=actor,
    )
    ballot.apply_committee_defaults()
    ballot.full_clean()
    module = ballot.subject_module()
    ballot.subject_title = (module.describe(ballot.get_subject()) if module else title)[:300]
    ballot.save()
    record_event(actor, "ballot.created", ballot, after=snapshot(ballot, BALLOT_FIELDS))
    return ballot


@transaction.atomic
def update_ballot(actor: User, ballot: Ballot, **fields: Any) -> Ballot:
    """Change a draft's title, description, method, quorum or closing time."""
    ballot = lock_ballot(ballot)
    require(
        can_prepare_ballots(actor, ballot.committee),
        "Only administrators and this committee's co-chairs or secretary change ballots.",
    )
    if ballot.status != BallotStatus.DRAFT:
        raise DomainError("Only a draft ballot can be changed; an open or closed one is fixed.", code="ballot_fixed")
    fixed = set(fields) - set(DRAFT_EDITABLE)
    changed_fixed = [name for name in fixed if fields[name] != getattr(ballot, name)]
    if changed_fixed:
        raise ValidationError({name: "This cannot change; prepare another ballot." for name in changed_fixed})
    before = snapshot(ballot, BALLOT_FIELDS)
    for name in DRAFT_EDITABLE:
        if name in fields:
            setattr(ballot, name, fields[name])
    ballot.apply_committee_defaults()
    ballot.full_clean()
    ballot.save()
    record_event(actor, "ballot.updated", ballot, before=before, after=snapshot(ballot, BALLOT_FIELDS))
    return ballot


def start_second_ballot(actor: User, ballot: Ballot, **overrides: Any) -> Ballot:
    """Put the subject of a closed ballot (a deadlock, most often) to a further ballot,
    linked to this one. It starts as a draft with the same method and quorum."""
    fields: dict[str, Any] = {
        "committee": ballot.committee,
        "title": overrides.pop("title", None) or f"Second ballot: {ballot.title}"[:200],
        "subject_type": ballot.subject_type,
        "subject_id": ballot.subject_id,
        "method": ballot.method,
        "quorum": ballot.quorum,
        "description": ballot.description,
        "previous_ballot": ballot,
    }
    fields.update(overrides)
    return create_ballot(actor, **fields)


# --- Opening --------------------------------------------------------------------------------


@transaction.atomic
def open_ballot(actor: User | None, ballot: Ballot) -> Ballot:
    """Open a draft: check the committee is constituted and the subject may be decided, freeze
    the roll of eligible voters, recuse the members whose organization is a party, and tell
    the voters.

    Refused (409) when the committee is not constituted (saying which sector is short), when a
    sector would have no eligible voter left after recusal, and when the subject says no.
    """
    ballot = lock_ballot(ballot)
    committee = ballot.committee
    require(actor is None or can_run_ballots(actor, committee), "Only the committee's co-chairs open ballots.")
    _move(ballot, BallotStatus.OPEN)
    now = timezone.now()
    today = timezone.localdate(now)

    problems = committee.constitution_problems(today)
    if problems:
        raise DomainError(
            f"{committee} is not constituted, so no ballot can open. {' '.join(problems)}",
            code="not_constituted",
            problems=problems,
        )
    closing_problem = ballot.closing_problem(now)
    if closing_problem:
        raise ValidationError({"closes_at": closing_problem})
    floors = ballot.floor_problems()
    if floors:
        raise ValidationError(floors)

    module = ballot.subject_module()
    subject = module.get_subject(ballot.subject_id, for_update=True) if module else None
    if module is not None:
        if module.committee_id(subject) != committee.pk:
            raise DomainError(
                f"This {_subject_label(ballot.subject_type)} belongs to another committee; "
                "only that committee's ballots decide it.",
                code="subject_of_another_committee",
            )
        module.check_can_open(subject)
        if (
            Ballot.objects.filter(
                status=BallotStatus.OPEN, subject_type=ballot.subject_type, subject_id=ballot.subject_id
            )
            .exclude(pk=ballot.pk)
            .exists()
        ):
            raise DomainError(
                f"Another ballot on this {_subject_label(ballot.subject_type)} is already open.",
                code="subject_on_ballot",
            )
    parties = set(module.parties(subject)) if module else set()

    seats = list(
        Membership.objects.active(today)
        .filter(committee=committee, voting=True)
        .select_related("organization", "user")
        .order_by("organization__sector", "user__username")
    )
    Eligibility.objects.bulk_create(
        Eligibility(
            ballot=ballot,
            user=seat.user,
            membership=seat,
            organization=seat.organization,
            sector=seat.organization.sector,
            role=seat.role,
        )
        for seat in seats
    )
    declared = {r.user_id for r in ballot.recusals.all()}
    automatic = [
        Recusal(
            ballot=ballot,
            user=seat.user,
            organization=seat.organization,
            sector=seat.organization.sector,
            reason=f"{seat.organization} is a party to this {_subject_label(ballot.subject_type)}.",
            automatic=True,
        )
        for seat in seats
        if seat.organization_id in parties and seat.user_id not in declared
    ]
    Recusal.objects.bulk_create(automatic)

    recused = declared | {r.user_id for r in automatic}
    voters = Counter(seat.organization.sector for seat in seats if seat.user_id not in recused)
    labels = dict(Sector.choices)
    for sector in Sector.values:
        if voters[sector] == 0:
            raise DomainError(
                f"No member of the {labels[sector].lower()} sector can vote on this ballot once the members "
                "whose organizations are parties to it are recused; the sectors could not be counted alike.",
                code="sector_without_voters",
                sector=sector,
            )

    mark_constituted(actor, committee)
    ballot.status = BallotStatus.OPEN
    ballot.opened_at = now
    ballot.opened_by = actor
    ballot.save(update_fields=["status", "opened_at", "opened_by", "updated_at"])
    record_event(
        actor,
        "ballot.opened",
        ballot,
        before={"status": BallotStatus.DRAFT},
        after={
            "status": BallotStatus.OPEN,
            "method": ballot.method,
            "quorum": ballot.quorum,
            "closes_at": ballot.closes_at,
            "roll": {sector: [s.user_id for s in seats if s.organization.sector == sector] for sector in Sector.values},
            "recused": {
                **{str(r.user_id): r.reason for r in automatic},
                **{str(r.user_id): r.reason for r in ballot.recusals.filter(automatic=False)},
            },
        },
    )
    _enqueue("notify_ballot_opened", ballot.pk)
    return ballot


# --- Closing --------------------------------------------------------------------------------


def close_ballot(actor: User | None, ballot: Ballot, *, now: datetime.datetime | None = None) -> Ballot:
    """Close an open ballot: count it, freeze the tally, apply the outcome to the subject
    through the subject's own app, all in one transaction; then tell the voters.

    `actor` None is the system closing a ballot at its closing time. That path is idempotent:
    when two workers race, the second finds the ballot closed under the lock and does nothing.

    A co-chair closes at once when the closing time has passed or every eligible member has
    voted. Before that, a co-chair's close is a request: the ballot closes early only when the
    co-chair of every sector has asked (DESIGN.md 2.7), so no sector ends a vote on seeing the
    live tally lean its way; the ballot's status says which happened. A person closing an
    already closed ballot is refused (409). `now` is the system's clock (now unless given).
    """
    if actor is None:
        return _close(actor, ballot, now)[0]
    with transaction.atomic():
        locked = lock_ballot(ballot)
        _move(locked, BallotStatus.CLOSED)
        seat = co_chair_seat(actor, locked.committee)
        require(seat is not None, "Only the committee's co-chairs close ballots.")
        assert seat is not None
        now = now or timezone.now()
        if (locked.closes_at is not None and locked.closes_at <= now) or locked.everyone_has_voted():
            return _close(actor, locked, now)[0]
        sector = seat.organization.sector
        if not locked.close_requests.filter(sector=sector).exists():
            CloseRequest.objects.create(ballot=locked, requested_by=actor, sector=sector)
            record_event(actor, "ballot.close_requested", locked, after={"sector": sector})
        asked = set(locked.close_requests.values_list("sector", flat=True))
        if asked >= set(Sector.values):
            return _close(actor, locked, now)[0]
        return locked


def _close(actor: User | None, ballot: Ballot, now: datetime.datetime | None) -> tuple[Ballot, bool]:
    """close_ballot's work; also says whether this call did the closing."""
    with transaction.atomic():
        ballot = lock_ballot(ballot)
        if actor is None:
            now = now or timezone.now()
            if ballot.status != BallotStatus.OPEN or ballot.closes_at is None or ballot.closes_at > now:
                return ballot, False
        else:
            _move(ballot, BallotStatus.CLOSED)

        tally = ballot.live_tally()
        ballot.status = BallotStatus.CLOSED
        ballot.outcome = tally["outcome"]
        ballot.result = tally
        ballot.closed_at = timezone.now()
        ballot.closed_by = actor
        ballot.save(update_fields=["status", "outcome", "result", "closed_at", "closed_by", "updated_at"])

        module = ballot.subject_module()
        if module is not None:
            module.apply_outcome(module.get_subject(ballot.subject_id, for_update=True), ballot, actor)

        record_event(
            actor,
            "ballot.closed",
            ballot,
            before={"status": BallotStatus.OPEN},
            after={"status": BallotStatus.CLOSED, "outcome": ballot.outcome, "tally": tally},
        )
        if ballot.outcome == Outcome.DEADLOCKED:
            # The conflict-resolution procedure starts: both co-chairs are told, and the ballot
            # is listed as an unresolved deadlock until a second ballot follows it.
            record_event(
                actor,
                "ballot.deadlocked",
                ballot,
                after={"co_chairs": [user.pk for user in co_chairs(ballot.committee)]},
            )
        _enqueue("notify_ballot_result", ballot.pk)
    return ballot, True


def close_message(ballot: Ballot) -> str:
    """What a co-chair's close did, in a sentence: closed, or recorded as a request."""
    if ballot.status == BallotStatus.CLOSED:
        return f"The ballot is closed: {ballot.get_outcome_display().lower()}."
    asked = set(ballot.sectors_asking_to_close())
    waiting = [label.lower() for value, label in Sector.choices if value not in asked]
    return (
        "Your request to close the ballot early is recorded. Not every member has voted, so it closes "
        f"when the {' and '.join(waiting)} sector's co-chair asks too, or at its closing time."
    )


def close_due_ballots(now: datetime.datetime | None = None) -> list[int]:
    """Close every open ballot whose closing time has come (the beat task's work), each in
    its own transaction so one failing subject does not hold the others back. Returns the
    ids this call closed (not those another worker closed first)."""
    closed = []
    for ballot in Ballot.objects.due(now).order_by("closes_at"):
        try:
            _, did_close = _close(None, ballot, now)
        except Exception:
            logger.exception("Could not close ballot %s at its closing time", ballot.pk)
            continue
        if did_close:
            closed.append(ballot.pk)
    return closed
