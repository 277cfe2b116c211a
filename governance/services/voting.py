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
from governance.services.substitutes import seats_held_by, substitution_for_seat


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


def _seat_row(ballot: Ballot, member_id: int):
    """The member's row of the roll, locked, with their recusal (which cannot change while
    this transaction shares the ballot: recusing locks it exclusively)."""
    from governance.models import Substitution

    named = Substitution.objects.covering(ballot).filter(member_id=member_id).values("pk")[:1]
    return (
        Eligibility.objects.select_for_update(of=("self",))
        .filter(ballot=ballot, user_id=member_id)
        .annotate(
            recused_because=Subquery(Recusal.objects.filter(ballot=ballot, user_id=member_id).values("reason")[:1]),
            substitution_named=Subquery(named),
        )
        .only("id", "sector", "user_id")
        .first()
    )


def _substitute_problem(actor: User, ballot: Ballot, seat, substitution) -> str | None:
    """Why this substitute cannot vote in this seat on this ballot: recusal applies to the
    substitute's own organization too (DESIGN.md 2.1), and the seat stays its sector's."""
    organization = actor.organization
    if organization is None or organization.sector != seat.sector:
        return "You no longer work for an organization of this seat's sector, so you cannot vote in it."
    module = ballot.subject_module()
    if module is not None:
        parties = set(module.parties(ballot.get_subject()))
        if organization.pk in parties:
            return (
                f"Your organization, {organization}, is a party to this ballot's subject: you are recused from it "
                f"and cannot vote in {substitution.member}'s seat."
            )
    return None


@transaction.atomic
def cast_vote(actor: User, ballot: Ballot, choice: str, reason: str = "", on_behalf_of: int | None = None) -> Vote:
    """Cast or change the vote of a seat, with an optional reason (shown in the roll call and
    the minutes). The last vote counts; every cast and change is audited.

    A member votes in their own seat; a substitute (DESIGN.md 2.1) votes in the seat of the
    member who named them, in the same one Vote row (`voter` is the seat, `cast_by` the
    substitute). Who votes in a seat is decided when the vote is cast:
    - while a substitution covers the ballot, the seat is the substitute's: the member's own
      vote is refused (409) until they withdraw it, which they may until the substitute votes;
    - a seat's vote is changed only by whoever cast it: a substitute cannot overturn the
      member's vote, nor the member their substitute's;
    - the member's recusal removes the seat, and a substitute whose own organization is a
      party to the subject cannot vote in it (403).
    `on_behalf_of` (the member's id) is needed only by a substitute for several seats.

    Votes of different seats go side by side (a shared lock on the ballot, which closing
    takes exclusively); concurrent votes for one seat queue on its row of the ballot's roll,
    and the database's unique constraint (one vote per ballot and seat) would refuse a
    second vote row if anything ever got past that.
    """
    if choice not in VoteChoice.values:
        raise ValidationError({"choice": "A vote is one of: yes, no, abstain."})
    reason = (reason or "").strip()
    if len(reason) > 2000:
        raise ValidationError({"reason": "Say why in at most 2,000 characters."})
    values.storable_text(reason)
    ballot = share_ballot(ballot)
    _refuse_unless_voting(ballot)
    if on_behalf_of is not None and not isinstance(on_behalf_of, int):
        raise ValidationError({"on_behalf_of": "Give the id of the member in whose seat you vote."})
    member_id = actor.pk if on_behalf_of is None else on_behalf_of
    seat = _seat_row(ballot, member_id)
    if seat is None and on_behalf_of is None:
        held = seats_held_by(actor, ballot)
        if len(held) > 1:
            raise ValidationError(
                {"on_behalf_of": "You substitute for several members on this ballot: say in whose seat you vote."}
            )
        if held:
            member_id = held[0]
            seat = _seat_row(ballot, member_id)
    substitution = None
    if member_id == actor.pk:
        if seat is None:
            raise PermissionDenied(
                "You are not on this ballot's roll: only the voting members seated when it opened vote, "
                "and the substitutes they name."
            )
        if seat.recused_because is not None:
            raise PermissionDenied(f"You are recused from this ballot ({seat.recused_because}) and cannot vote on it.")
        named = substitution_for_seat(ballot, actor.pk) if seat.substitution_named else None
        if named is not None:
            raise DomainError(
                f"You named {named.substitute} to vote in your seat ({named.describe_scope()}); "
                "withdraw that substitution to vote yourself.",
                code="substitute_named",
            )
    else:
        substitution = substitution_for_seat(ballot, member_id, for_update=True)
        if seat is None or substitution is None or substitution.substitute_id != actor.pk:
            raise PermissionDenied("You are not the substitute in force for this seat on this ballot.")
        if seat.recused_because is not None:
            raise PermissionDenied(
                f"{substitution.member} is recused from this ballot ({seat.recused_because}): the seat leaves the "
                "count, and nobody votes in it."
            )
        problem = _substitute_problem(actor, ballot, seat, substitution)
        if problem:
            raise PermissionDenied(problem)

    cast_by_id = None if substitution is None else actor.pk
    vote = Vote.objects.filter(ballot=ballot, voter_id=member_id).first()
    if vote is not None and vote.cast_by_id != cast_by_id:
        who = User.objects.get(pk=vote.cast_by_id) if vote.cast_by_id else "The member"
        raise DomainError(f"{who} has voted in this seat already; only they change that vote.", code="seat_voted")
    seat_after = {} if substitution is None else {"cast_by": actor.pk, "on_behalf_of": member_id}
    if vote is None:
        vote = Vote.objects.create(
            ballot=ballot,
            voter=actor if substitution is None else substitution.member,
            cast_by=None if substitution is None else actor,
            substitution=substitution,
            sector=seat.sector,
            choice=choice,
            reason=reason,
        )
        after = {"ballot": ballot.pk, "sector": seat.sector, "choice": choice, **seat_after}
        record_event(actor, "vote.cast", vote, after={**after, "reason": reason} if reason else after)
    elif vote.choice != choice or (reason and vote.reason != reason):
        vote.ballot = ballot  # already loaded: the audit event names them
        vote.voter = actor if substitution is None else substitution.member
        before = {"ballot": ballot.pk, "choice": vote.choice}
        if vote.choice != choice:
            vote.changes += 1
        vote.choice = choice
        if reason:
            before["reason"] = vote.reason
            vote.reason = reason
        vote.save(update_fields=["choice", "changes", "reason", "updated_at"])
        after = {"ballot": ballot.pk, "choice": choice, **seat_after}
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
