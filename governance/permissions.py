"""Who may do what in the governance app: one function per act, one meaning per word.

Words used the same way in every app:
- an *administrator* is a portal superuser or Django staff member (`governance.roles`);
- a *co-chair* holds an active `chair` seat on the committee; administrators are never
  co-chairs by virtue of being administrators: a caller that admits them says so;
- a committee is *managed* by its co-chairs and its secretary (an object permission granted
  with their seats), and by administrators.

Services call `require(...)` with these; the API's `may_create`/`may_change` and the pages ask
the same functions, so the three can never disagree.
"""

from __future__ import annotations

import datetime
from typing import TypeGuard

from django.core.exceptions import PermissionDenied
from guardian.shortcuts import get_objects_for_user

from governance.choices import Role
from governance.models import Committee, Membership, User
from governance.roles import MANAGE_COMMITTEE, is_administrator


def require(condition: bool, message: str) -> None:
    """Refuse with 403 and a message unless the actor may act."""
    if not condition:
        raise PermissionDenied(message)


def is_signed_in(user: User | None) -> TypeGuard[User]:
    """A real, signed-in person (not None, not the anonymous user)."""
    return bool(user and user.is_authenticated)


# --- Seats ---------------------------------------------------------------------------------


def co_chair_seat(user: User | None, committee: Committee, at: datetime.date | None = None) -> Membership | None:
    """The person's active co-chair seat on the committee, with its organization, if any."""
    if not is_signed_in(user):
        return None
    return (
        Membership.objects.active(at)
        .filter(user=user, committee=committee, role=Role.CHAIR)
        .select_related("organization")
        .first()
    )


def is_co_chair(user: User | None, committee: Committee, at: datetime.date | None = None) -> bool:
    """Whether the person holds one of the committee's co-chair seats (on `at`, default today)."""
    if not is_signed_in(user):
        return False
    return Membership.objects.active(at).filter(committee=committee, user=user, role=Role.CHAIR).exists()


def secretary_seat(user: User | None, committee: Committee) -> Membership | None:
    """The person's active secretary seat on the committee, if any."""
    if not is_signed_in(user):
        return None
    return (
        Membership.objects.active()
        .filter(committee=committee, user=user, role=Role.SECRETARY)
        .select_related("organization")
        .first()
    )


def is_secretary(user: User | None, committee: Committee) -> bool:
    """Whether the person holds the committee's secretary seat today."""
    return secretary_seat(user, committee) is not None


def is_co_chair_anywhere(user: User | None, seats: list[tuple[int, str]] | None = None) -> bool:
    """Co-chairs of any committee: the people whose signature moves credits and closes ballots.
    `seats`: the person's seats today as (committee id, role), where the caller read them
    already (governance.selectors.own_seats)."""
    if not is_signed_in(user):
        return False
    if seats is not None:
        return any(role == Role.CHAIR for _, role in seats)
    return Membership.objects.active().filter(user=user, role=Role.CHAIR).exists()


# --- Committees ----------------------------------------------------------------------------


def can_manage_committee(user: User | None, committee: Committee) -> bool:
    """Administrators manage every committee; its co-chairs and secretary manage their own
    (agendas, minutes, drafts of ballots and SOPs)."""
    return is_signed_in(user) and (is_administrator(user) or user.has_perm(MANAGE_COMMITTEE, committee))


def managed_committees(user: User | None):
    """The committees the person may manage, as a queryset."""
    committees = Committee.objects.visible_to(user)
    if is_administrator(user):
        return committees
    if not is_signed_in(user):
        return committees.none()
    return get_objects_for_user(user, MANAGE_COMMITTEE, klass=committees, with_superuser=False)


def manages_any_committee(user: User | None) -> bool:
    """Whether the person manages at least one committee (the API's create check; which
    committee is checked by the service once the input names it)."""
    if is_administrator(user):
        return True
    return is_signed_in(user) and (user.has_perm(MANAGE_COMMITTEE) or managed_committees(user).exists())


# --- Ballots -------------------------------------------------------------------------------


def can_prepare_ballots(user: User | None, committee: Committee) -> bool:
    """Drafting ballots: administrators, the co-chairs and the secretary."""
    return can_manage_committee(user, committee)


def can_run_ballots(user: User | None, committee: Committee) -> bool:
    """Opening and closing ballots is the co-chairs' act; an administrator's power ends with
    setting the committee up (2.7). Closing early needs every sector's co-chair."""
    return is_co_chair(user, committee)


# --- People --------------------------------------------------------------------------------


def can_change_user(user: User | None, person: User) -> bool:
    """Administrators change anyone; a person changes their own profile."""
    return is_administrator(user) or (is_signed_in(user) and user.pk == person.pk)


def may_enrol_in_two_factor(user: User | None, seats: list[tuple[int, str]] | None = None) -> bool:
    """Co-chairs and administrators enrol in two-factor sign-in."""
    return is_administrator(user) or is_co_chair_anywhere(user, seats)
