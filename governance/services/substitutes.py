"""Substitutes (DESIGN.md 2.1): a voting member names a person of an organization of their own
sector to vote in their seat for one ballot, one meeting or a period, and may withdraw the
substitution until the substitute has voted under it.

Who alone may do it (DESIGN.md 2.7): the member, for their own seat. Naming a substitute
decides nothing and keeps the sector's weight, since the substitute votes in the seat, never
beside it; so nobody else names one for a member, not a co-chair, the secretary or an
administrator. The co-chair of the member's sector is told.
"""

from __future__ import annotations

import datetime

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from governance.audit import record_event
from governance.choices import BallotStatus, MeetingStatus, Role, SubstitutionScope, SubstitutionStatus
from governance.exceptions import DomainError
from governance.models import Ballot, Eligibility, Meeting, Membership, Substitution, User
from governance.models.substitutes import SCOPE_PRECEDENCE
from governance.outbox import enqueue

# A period substitution covers at most this long: a longer absence is a seat change (2.7).
MAX_PERIOD_DAYS = 366


def _seat_for(member: User, committee_id: int) -> Membership | None:
    return (
        Membership.objects.active()
        .filter(user=member, committee_id=committee_id, voting=True)
        .select_related("organization", "committee")
        .first()
    )


def _check_substitute(member: User, seat: Membership, substitute: User | None) -> User:
    """A substitute is another active person of an organization of the seat's sector, who
    holds no voting seat of their own on the committee (they would vote twice)."""
    if substitute is None:
        raise ValidationError({"substitute": "Name the person who will vote in your seat."})
    if substitute.pk == member.pk:
        raise ValidationError({"substitute": "You cannot be your own substitute."})
    if not substitute.is_active:
        raise ValidationError({"substitute": f"{substitute} can no longer sign in."})
    organization = substitute.organization
    if organization is None:
        raise ValidationError({"substitute": f"{substitute} belongs to no member organization."})
    if organization.sector != seat.organization.sector:
        theirs = organization.get_sector_display().lower()
        yours = seat.organization.get_sector_display().lower()
        raise ValidationError(
            {
                "substitute": f"{substitute} works for {organization}, of the {theirs} sector; your seat is the "
                f"{yours} sector's, and only a person of that sector votes in it."
            }
        )
    if Membership.objects.active().filter(user=substitute, committee_id=seat.committee_id, voting=True).exists():
        raise ValidationError(
            {"substitute": f"{substitute} holds a voting seat on {seat.committee} and cannot vote in a second one."}
        )
    return substitute


@transaction.atomic
def name_substitute(
    actor: User,
    *,
    committee,
    substitute: User | None,
    scope: str,
    ballot: Ballot | None = None,
    meeting: Meeting | None = None,
    starts_on: datetime.date | None = None,
    ends_on: datetime.date | None = None,
) -> Substitution:
    """The member names a substitute for their own seat on `committee`, for one ballot, one
    meeting or a period; audited, and the co-chair of the member's sector is told."""
    if not (actor and actor.is_authenticated):
        raise PermissionDenied("Sign in to name a substitute.")
    if committee is None:
        raise ValidationError({"committee": "Name the committee of your seat."})
    # Queue the member's namings on their seat, so two at once cannot both pass the overlap check.
    seat = (
        Membership.objects.active()
        .select_for_update(of=("self",))
        .filter(user=actor, committee_id=committee.pk, voting=True)
        .first()
    )
    if seat is None:
        raise PermissionDenied(
            "Only a voting member names a substitute, for their own seat: you hold no voting seat on this committee."
        )
    seat = Membership.objects.select_related("organization", "committee").get(pk=seat.pk)
    substitute = _check_substitute(actor, seat, substitute)
    if scope not in SubstitutionScope.values:
        raise ValidationError({"scope": "A substitute is named for one ballot, one meeting or a period."})
    fields: dict = {"ballot": None, "meeting": None, "starts_on": None, "ends_on": None}
    today = timezone.localdate()
    if scope == SubstitutionScope.BALLOT:
        if ballot is None:
            raise ValidationError({"ballot": "Name the ballot."})
        if ballot.committee_id != committee.pk:
            raise ValidationError({"ballot": "This ballot is another committee's."})
        if ballot.status == BallotStatus.CLOSED or ballot.is_past_closing:
            raise DomainError("This ballot is closed: nobody votes on it any more.", code="ballot_closed")
        if ballot.status == BallotStatus.OPEN and not Eligibility.objects.filter(ballot=ballot, user=actor).exists():
            raise PermissionDenied("You are not on this ballot's roll, so you have no seat to send a substitute to.")
        if ballot.votes.filter(voter=actor).exists():
            raise DomainError("You have voted on this ballot yourself; your vote stands.", code="already_voted")
        if ballot.recusals.filter(user=actor).exists():
            raise DomainError(
                "You are recused from this ballot: your seat leaves the count, and nobody votes in it.",
                code="recused",
            )
        fields["ballot"] = ballot
    elif scope == SubstitutionScope.MEETING:
        if meeting is None:
            raise ValidationError({"meeting": "Name the meeting."})
        if meeting.committee_id != committee.pk:
            raise ValidationError({"meeting": "This meeting is another committee's."})
        if meeting.status != MeetingStatus.SCHEDULED:
            raise DomainError("Only a meeting still to be held takes a substitute.", code="meeting_not_scheduled")
        fields["meeting"] = meeting
    else:
        if starts_on is None or ends_on is None:
            raise ValidationError({"starts_on": "Give the first and the last day of the period."})
        if ends_on < starts_on:
            raise ValidationError({"ends_on": "The period ends on or after its first day."})
        if ends_on < today:
            raise ValidationError({"ends_on": "This period is over already."})
        if (ends_on - starts_on).days >= MAX_PERIOD_DAYS:
            raise ValidationError({"ends_on": "A substitute covers a year at most; a longer absence is a seat change."})
        overlapping = Substitution.objects.active().filter(
            member=actor,
            committee_id=committee.pk,
            scope=SubstitutionScope.PERIOD,
            starts_on__lte=ends_on,
            ends_on__gte=starts_on,
        )
        if overlapping.exists():
            raise DomainError(
                "You have a substitute for part of this period already; withdraw that one first.",
                code="substitution_overlaps",
            )
        fields["starts_on"], fields["ends_on"] = starts_on, ends_on
    substitution = Substitution(
        committee_id=committee.pk,
        membership=seat,
        member=actor,
        substitute=substitute,
        substitute_organization=substitute.organization,
        sector=seat.organization.sector,
        scope=scope,
        **fields,
    )
    substitution.full_clean()
    try:
        with transaction.atomic():
            substitution.save()
    except IntegrityError as error:
        raise DomainError("You have already named a substitute for this.", code="substitution_exists") from error
    record_event(
        actor,
        "substitution.named",
        substitution,
        after={
            "committee": committee.pk,
            "member": actor.pk,
            "substitute": substitute.pk,
            "sector": substitution.sector,
            "scope": scope,
            "ballot": fields["ballot"].pk if fields["ballot"] else None,
            "meeting": fields["meeting"].pk if fields["meeting"] else None,
            "starts_on": starts_on,
            "ends_on": ends_on,
        },
    )
    enqueue("governance.tasks.notify_substitution", substitution.pk)
    return substitution


@transaction.atomic
def withdraw_substitution(actor: User, substitution: Substitution) -> Substitution:
    """The member withdraws their substitution, before the substitute has voted under it."""
    substitution = Substitution.objects.select_for_update().get(pk=substitution.pk)
    if not (actor and actor.is_authenticated) or actor.pk != substitution.member_id:
        raise PermissionDenied("Only the member who named a substitute withdraws the substitution.")
    if substitution.status != SubstitutionStatus.ACTIVE:
        raise DomainError("This substitution has been withdrawn already.", code="substitution_withdrawn")
    if substitution.votes.exists():
        raise DomainError(
            f"{substitution.substitute} has voted in your seat under this substitution; it can no longer be withdrawn.",
            code="substitute_voted",
        )
    substitution.status = SubstitutionStatus.WITHDRAWN
    substitution.withdrawn_at = timezone.now()
    substitution.save(update_fields=["status", "withdrawn_at", "updated_at"])
    record_event(
        actor,
        "substitution.withdrawn",
        substitution,
        before={"status": SubstitutionStatus.ACTIVE},
        after={"status": SubstitutionStatus.WITHDRAWN, "substitute": substitution.substitute_id},
    )
    return substitution


def substitution_for_seat(ballot: Ballot, member_id: int, *, for_update: bool = False) -> Substitution | None:
    """The substitution in force for one member's seat on a ballot today, the narrowest when
    several cover it (one ballot, then one meeting, then a period)."""
    rows = Substitution.objects.covering(ballot).filter(member_id=member_id)
    if for_update:
        rows = rows.select_for_update(of=("self",))
    found = list(rows)
    if not found:
        return None
    return min(found, key=lambda s: (SCOPE_PRECEDENCE[s.scope], -s.pk))


def seats_held_by(substitute: User, ballot: Ballot) -> list[int]:
    """The members in whose seats this person is the substitute on a ballot today."""
    members = set(
        Substitution.objects.covering(ballot).filter(substitute=substitute).values_list("member_id", flat=True)
    )
    return sorted(
        m for m in members if (found := substitution_for_seat(ballot, m)) and found.substitute_id == substitute.pk
    )


def co_chair_of_sector(committee_id: int, sector: str) -> list[User]:
    """The co-chair of one sector of a committee (told of that sector's substitutions)."""
    return list(
        User.objects.filter(
            pk__in=Membership.objects.active()
            .filter(committee_id=committee_id, role=Role.CHAIR, organization__sector=sector)
            .values("user_id"),
            is_active=True,
        )
    )
