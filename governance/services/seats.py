"""Seats: who sits on a committee, and how that changes (DESIGN.md 2.1 and 2.7).

Two ways in, never a third:
- **Bootstrapping.** Until a committee first acts as constituted (its first ballot opens or its
  co-chairs first sign together), an administrator seats its members directly
  (`add_membership`, `update_membership`, `end_membership`); every such act is audited.
- **Consent.** From then on a seat changes only through a `MembershipChange`: proposed by a
  co-chair or the secretary, applied once the co-chair of every other sector has consented (a
  secretary's proposal needs every sector's co-chair). The secretary prepares; one sector never
  reshapes the other's seats, nor its own, alone.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.utils import timezone

from governance.audit import record_event, snapshot
from governance.choices import (
    MEMBERSHIP_CHANGE_TRANSITIONS,
    MembershipChangeKind,
    MembershipChangeStatus,
    Role,
    Sector,
)
from governance.exceptions import DomainError
from governance.models import Committee, Membership, MembershipChange, User
from governance.permissions import co_chair_seat, require, secretary_seat
from governance.roles import is_administrator
from governance.services.people import sync_committee_roles
from governance.transitions import check_transition

MEMBERSHIP_FIELDS = ["user", "committee", "organization", "role", "voting", "term_start", "term_end"]
CHANGE_FIELDS = ["user", "organization", "role", "voting", "term_start", "term_end"]
CHANGES_PATH = "/api/membership-changes/"


# --- Bootstrapping ---------------------------------------------------------------------------


def mark_constituted(actor: User | None, committee: Committee) -> None:
    """Record the first moment a committee acts as constituted; from then on its seats change
    only by consent. Called inside the act's transaction (opening a ballot, co-signing)."""
    if committee.constituted_at is not None:
        return
    updated = Committee.objects.filter(pk=committee.pk, constituted_at__isnull=True).update(
        constituted_at=timezone.now()
    )
    committee.refresh_from_db(fields=["constituted_at"])
    if updated:
        record_event(actor, "committee.constituted", committee, after={"constituted_at": committee.constituted_at})


def _require_bootstrapping(actor: User | None, committee: Committee | None) -> None:
    """Direct seat writes: administrators, and only while the committee is being set up."""
    if committee is not None and not Committee.objects.get(pk=committee.pk).bootstrapping:
        raise DomainError(
            f"{committee} has been constituted: its seats change only with both co-chairs' consent. "
            f"Propose the change at {CHANGES_PATH}.",
            code="use_membership_changes",
            path=CHANGES_PATH,
        )
    require(
        actor is None or is_administrator(actor),
        "Only administrators seat the members of a committee that is being set up.",
    )


@transaction.atomic
def add_membership(actor: User | None, **fields: Any) -> Membership:
    """Seat a person on a committee that is being set up (bootstrapping)."""
    _require_bootstrapping(actor, fields.get("committee"))
    return _seat(actor, fields)


@transaction.atomic
def update_membership(actor: User | None, membership: Membership, **fields: Any) -> Membership:
    """Change a seat of a committee that is being set up (bootstrapping)."""
    _require_bootstrapping(actor, membership.committee)
    return _change_seat(actor, membership, fields)


@transaction.atomic
def end_membership(actor: User | None, membership: Membership, on: datetime.date | None = None) -> Membership:
    """End a term of a committee that is being set up (yesterday by default, so the seat is
    empty from today). Memberships are never deleted: past ballots name who was eligible."""
    _require_bootstrapping(actor, membership.committee)
    return _change_seat(actor, membership, {"term_end": _term_end(membership, on)})


def _term_end(membership: Membership, on: datetime.date | None) -> datetime.date:
    on = on or (timezone.localdate() - datetime.timedelta(days=1))
    if on < membership.term_start:
        raise ValidationError({"term_end": "A term cannot end before it starts."})
    return on


def _seat(actor: User | None, fields: dict[str, Any]) -> Membership:
    membership = Membership(**{k: v for k, v in fields.items() if k in MEMBERSHIP_FIELDS})
    if membership.role == Role.OBSERVER:
        membership.voting = False
    membership.full_clean()
    membership.save()
    record_event(actor, "membership.created", membership, after=snapshot(membership, MEMBERSHIP_FIELDS))
    sync_committee_roles(actor, membership.user)
    return membership


def _change_seat(actor: User | None, membership: Membership, fields: dict[str, Any]) -> Membership:
    membership = Membership.objects.select_for_update().get(pk=membership.pk)
    for fixed in ("user", "committee"):
        if fixed in fields and fields[fixed] != getattr(membership, fixed):
            raise ValidationError({fixed: "A membership's person and committee cannot change; end it and add another."})
    before = snapshot(membership, MEMBERSHIP_FIELDS)
    for name, value in fields.items():
        if name in MEMBERSHIP_FIELDS:
            setattr(membership, name, value)
    membership.full_clean()
    membership.save()
    record_event(actor, "membership.updated", membership, before=before, after=snapshot(membership, MEMBERSHIP_FIELDS))
    sync_committee_roles(actor, membership.user)
    return membership


# --- Changes by consent ------------------------------------------------------------------------


def proposer_seat(user: User | None, committee: Committee) -> Membership | None:
    """The seat from which a person may propose seat changes: a co-chair's or the secretary's."""
    return co_chair_seat(user, committee) or secretary_seat(user, committee)


def sectors_needed(change: MembershipChange) -> set[str]:
    """The sectors whose co-chair must consent: every sector but the proposing co-chair's own;
    every sector when the secretary proposed."""
    sectors = set(Sector.values)
    if change.proposer_role == Role.CHAIR:
        sectors.discard(change.proposer_sector)
    return sectors


def sectors_consented(change: MembershipChange) -> set[str]:
    return {
        seat.organization.sector
        for seat in Membership.objects.active()
        .filter(committee=change.committee, role=Role.CHAIR, user__in=change.consented_by.all())
        .select_related("organization")
    }


@transaction.atomic
def propose_membership_change(
    actor: User, *, committee: Committee, kind: str, membership: Membership | None = None, **fields: Any
) -> MembershipChange:
    """Propose a seat change on a constituted committee; a co-chair or the secretary only.
    The change is checked now (and again when applied) so nobody consents to the impossible."""
    if committee.bootstrapping:
        raise DomainError(
            f"{committee} is still being set up: an administrator seats its members directly.",
            code="bootstrapping",
        )
    seat = proposer_seat(actor, committee)
    require(seat is not None, "Only this committee's co-chairs and secretary propose seat changes.")
    assert seat is not None
    if kind not in MembershipChangeKind.values:
        raise ValidationError({"kind": f"A change is one of: {', '.join(MembershipChangeKind.values)}."})
    change = MembershipChange(
        committee=committee,
        kind=kind,
        membership=membership,
        proposed_by=actor,
        proposer_role=seat.role,
        proposer_sector=seat.organization.sector,
        reason=str(fields.pop("reason", "") or ""),
        **{k: v for k, v in fields.items() if k in CHANGE_FIELDS},
    )
    _check_change(change)
    change.save()
    record_event(actor, "membership_change.proposed", change, after=_change_snapshot(change))
    return change


@transaction.atomic
def consent_to_membership_change(actor: User, change: MembershipChange) -> MembershipChange:
    """Consent as a co-chair of a sector the change needs; the last consent applies it."""
    change = MembershipChange.objects.select_for_update().get(pk=change.pk)
    check_transition("membership change", change.status, MembershipChangeStatus.APPLIED, MEMBERSHIP_CHANGE_TRANSITIONS)
    seat = co_chair_seat(actor, change.committee)
    require(seat is not None, "Only this committee's co-chairs consent to seat changes.")
    assert seat is not None
    sector = seat.organization.sector
    needed = sectors_needed(change)
    if sector not in needed:
        raise PermissionDenied(
            "A change proposed by your sector's co-chair needs the consent of another sector's co-chair."
        )
    if sector in sectors_consented(change):
        raise DomainError("Your sector's co-chair has already consented to this change.", code="already_consented")
    change.consented_by.add(actor)
    record_event(actor, "membership_change.consented", change, after={"sector": sector})
    if needed <= sectors_consented(change):
        _apply_change(actor, change)
    return change


@transaction.atomic
def withdraw_membership_change(actor: User, change: MembershipChange) -> MembershipChange:
    """Withdraw a pending change: its proposer, or a co-chair of the committee."""
    change = MembershipChange.objects.select_for_update().get(pk=change.pk)
    check_transition(
        "membership change", change.status, MembershipChangeStatus.WITHDRAWN, MEMBERSHIP_CHANGE_TRANSITIONS
    )
    require(
        actor.pk == change.proposed_by_id or co_chair_seat(actor, change.committee) is not None,
        "Only the proposer or a co-chair withdraws a proposed seat change.",
    )
    change.status = MembershipChangeStatus.WITHDRAWN
    change.decided_at = timezone.now()
    change.save(update_fields=["status", "decided_at", "updated_at"])
    record_event(actor, "membership_change.withdrawn", change, before={"status": MembershipChangeStatus.PENDING})
    return change


def _check_change(change: MembershipChange) -> None:
    """What the change would do must be possible: a valid new seat, or an active seat of this
    committee to end or to give another role."""
    if change.kind == MembershipChangeKind.SEAT:
        if change.membership_id is not None:
            raise ValidationError({"membership": "A new seat names no existing membership."})
        _new_seat(change).full_clean()
        return
    seat = change.membership
    if seat is None or seat.committee_id != change.committee_id:
        raise ValidationError({"membership": "Name the seat of this committee that the change applies to."})
    if not seat.covers(timezone.localdate()):
        raise ValidationError({"membership": "That seat is not active today."})
    if change.kind == MembershipChangeKind.CHANGE_ROLE:
        if not change.role or change.role not in Role.values:
            raise ValidationError({"role": f"A role is one of: {', '.join(Role.values)}."})
        trial = Membership(**{**_seat_fields(seat), "role": change.role, "voting": _voting_for(change, seat)})
        trial.pk = seat.pk
        trial.full_clean(exclude=["user", "committee"])
    elif change.kind == MembershipChangeKind.END_TERM:
        _term_end(seat, change.term_end)


def _seat_fields(seat: Membership) -> dict[str, Any]:
    return {name: getattr(seat, name) for name in MEMBERSHIP_FIELDS}


def _voting_for(change: MembershipChange, seat: Membership | None = None) -> bool:
    if change.role == Role.OBSERVER:
        return False
    if change.role == Role.CHAIR:
        return True
    if change.voting is not None:
        return change.voting
    return seat.voting if seat is not None else change.role != Role.SECRETARY


def _new_seat(change: MembershipChange) -> Membership:
    return Membership(
        user=change.user,
        committee=change.committee,
        organization=change.organization,
        role=change.role or Role.MEMBER,
        voting=_voting_for(change),
        term_start=change.term_start or timezone.localdate(),
        term_end=change.term_end,
    )


def _apply_change(actor: User, change: MembershipChange) -> None:
    """Make the consented change, in the consent's transaction, and mark it applied."""
    _check_change(change)
    if change.kind == MembershipChangeKind.SEAT:
        seat = _new_seat(change)
        change.membership = _seat(actor, _seat_fields(seat))
    elif change.kind == MembershipChangeKind.END_TERM:
        assert change.membership is not None
        _change_seat(actor, change.membership, {"term_end": _term_end(change.membership, change.term_end)})
    else:
        assert change.membership is not None
        _change_seat(actor, change.membership, {"role": change.role, "voting": _voting_for(change, change.membership)})
    change.status = MembershipChangeStatus.APPLIED
    change.decided_at = timezone.now()
    change.save(update_fields=["membership", "status", "decided_at", "updated_at"])
    record_event(
        actor,
        "membership_change.applied",
        change,
        before={"status": MembershipChangeStatus.PENDING},
        after={**_change_snapshot(change), "consented_by": sorted(change.consented_by.values_list("pk", flat=True))},
    )


def _change_snapshot(change: MembershipChange) -> dict[str, Any]:
    return {
        **snapshot(change, ["committee", "kind", "membership", *CHANGE_FIELDS]),
        "status": change.status,
        "proposed_by": change.proposed_by_id,
        "proposer_sector": change.proposer_sector,
    }
