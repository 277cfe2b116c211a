"""Votes and declared conflicts on open ballots (DESIGN.md 2.1): the last vote counts, every
cast and change is audited; a member's concurrent acts queue on their row of the ballot's roll."""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Subquery
from django.utils import timezone

from governance import values
from governance.audit import record_event
from governance.choices import BallotStatus, VoteChoice
from governance.exceptions import DomainError
from governance.models import AuditEvent, Ballot, Eligibility, Membership, Recusal, User, Vote
from governance.outbox import enqueue
from governance.permissions import is_co_chair, require
from governance.services.ballots import lock_ballot, share_ballot


def _refuse_unless_voting(ballot: Ballot) -> None:
    """Votes and declared conflicts change only an open ballot before its closing time."""
    if ballot.status == BallotStatus.CLOSED:
        raise DomainError("This ballot is closed: its votes and recusals can no longer change.", code="ballot_closed")
    if ballot.status != BallotStatus.OPEN:
        raise DomainError("This ballot is not open yet.", code="ballot_not_open")
    if ballot.is_past_closing:
        raise DomainError(
            f"This ballot closed at {timezone.localtime(ballot.closes_at):%Y-%m-%d %H:%M %Z}; "
            "its result is being counted.",
            code="ballot_closed",
        )


@transaction.atomic
def cast_vote(actor: User, ballot: Ballot, choice: str, reason: str = "") -> Vote:
    """Cast or change the actor's vote, with an optional reason (shown in the roll call and the
    minutes). The last vote counts; every cast and change is audited.

    Votes of different members go side by side (a shared lock on the ballot, which closing
    takes exclusively); one member's concurrent votes queue on their own row of the ballot's
    roll, and the database's unique constraint would refuse a second vote row if anything
    ever got past that.
    """
    if choice not in VoteChoice.values:
        raise ValidationError({"choice": "A vote is one of: yes, no, abstain."})
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise ValidationError({"reason": "Say why in at most 2,000 characters."})
    values.storable_text(reason)
    ballot = share_ballot(ballot)
    _refuse_unless_voting(ballot)
    # The voter's row of the roll, locked, with their recusal (which cannot change while this
    # transaction shares the ballot: recusing locks it exclusively). Their earlier vote is read
    # after the lock is held, by its own statement: a subquery here would read the snapshot
    # taken before the wait, and miss a vote the same member cast a moment earlier.
    seat = (
        Eligibility.objects.select_for_update(of=("self",))
        .filter(ballot=ballot, user_id=actor.pk)
        .annotate(recused_because=Subquery(Recusal.objects.filter(ballot=ballot, user=actor).values("reason")[:1]))
        .only("id", "sector")
        .first()
    )
    if seat is None:
        raise PermissionDenied("You are not on this ballot's roll: only the voting members seated when it opened vote.")
    if seat.recused_because is not None:
        raise PermissionDenied(f"You are recused from this ballot ({seat.recused_because}) and cannot vote on it.")

    vote = Vote.objects.filter(ballot=ballot, voter=actor).first()
    if vote is not None:
        vote.ballot, vote.voter = ballot, actor  # already loaded: the audit event names them
    if vote is None:
        vote = Vote.objects.create(ballot=ballot, voter=actor, sector=seat.sector, choice=choice, reason=reason)
        after = {"ballot": ballot.pk, "sector": seat.sector, "choice": choice}
        record_event(actor, "vote.cast", vote, after={**after, "reason": reason} if reason else after)
    elif vote.choice != choice or (reason and vote.reason != reason):
        before = {"ballot": ballot.pk, "choice": vote.choice}
        if vote.choice != choice:
            vote.changes += 1
        vote.choice = choice
        if reason:
            before["reason"] = vote.reason
            vote.reason = reason
        vote.save(update_fields=["choice", "changes", "reason", "updated_at"])
        after = {"ballot": ballot.pk, "choice": choice}
        record_event(actor, "vote.changed", vote, before=before, after={**after, "reason": reason} if reason else after)
    return vote


# A co-chair's reminder goes out at most once an hour per ballot.
REMINDER_INTERVAL = datetime.timedelta(hours=1)


@transaction.atomic
def remind_voters(actor: User, ballot: Ballot) -> int:
    """A co-chair reminds the members on the roll who have not voted yet (one e-mail each,
    sent by the worker). It changes nothing but their inboxes, so one co-chair may do it
    alone; at most once an hour per ballot. Returns how many are reminded."""
    ballot = lock_ballot(ballot)
    require(is_co_chair(actor, ballot.committee), "Only the committee's co-chairs remind its voters.")
    if ballot.status != BallotStatus.OPEN or ballot.is_past_closing:
        raise DomainError("Only an open ballot's voters are reminded.", code="ballot_not_open")
    recent = AuditEvent.objects.filter(
        verb="ballot.reminded",
        object_type=Ballot._meta.label_lower,
        object_id=str(ballot.pk),
        created_at__gte=timezone.now() - REMINDER_INTERVAL,
    )
    if recent.exists():
        raise DomainError("The voters were reminded less than an hour ago.", code="reminded_recently")
    missing = [seat.user_id for seat in ballot.missing_voters()]
    if not missing:
        raise DomainError("Everyone on the roll has voted or is recused.", code="nobody_to_remind")
    record_event(actor, "ballot.reminded", ballot, after={"voters": len(missing)})
    enqueue("governance.tasks.remind_missing_voters", ballot.pk, missing)
    return len(missing)


@transaction.atomic
def declare_conflict(actor: User, ballot: Ballot, reason: str) -> Recusal:
    """Stand aside from a ballot because of a conflict of interest, before voting on it.

    Allowed on a draft (for a voting member of the committee) and on an open ballot (for a
    voter on its roll). The member leaves the denominator of their sector; the reason is shown
    with the tally and in the minutes.
    """
    reason = (reason or "").strip()
    if not reason:
        raise ValidationError({"reason": "Say what the conflict of interest is."})
    ballot = lock_ballot(ballot)
    if ballot.status == BallotStatus.DRAFT:
        seat = (
            Membership.objects.active()
            .filter(committee_id=ballot.committee_id, user_id=getattr(actor, "pk", None), voting=True)
            .select_related("organization")
            .first()
        )
        if seat is None:
            raise PermissionDenied("Only voting members of this committee declare a conflict on its ballots.")
        organization, sector = seat.organization, seat.organization.sector
    else:
        _refuse_unless_voting(ballot)
        seat = Eligibility.objects.filter(ballot=ballot, user_id=actor.pk).select_related("organization").first()
        if seat is None:
            raise PermissionDenied("Only the voters on this ballot's roll declare a conflict on it.")
        organization, sector = seat.organization, seat.sector
    existing = Recusal.objects.filter(ballot=ballot, user=actor).first()
    if existing is not None:
        raise DomainError(f"You are already recused from this ballot: {existing.reason}", code="already_recused")
    if Vote.objects.filter(ballot=ballot, voter=actor).exists():
        raise DomainError(
            "You have voted on this ballot; a conflict of interest is declared before voting.",
            code="already_voted",
        )
    recusal = Recusal.objects.create(
        ballot=ballot, user=actor, organization=organization, sector=sector, reason=reason, automatic=False
    )
    record_event(actor, "conflict.declared", recusal, after={"ballot": ballot.pk, "sector": sector, "reason": reason})
    return recusal
