"""The write path for the body's people: users, roles, organizations, committees and seats.

Each function validates, writes, keeps roles and object permissions in step, and appends the
audit event, all in one transaction. Views, the API, the admin and tasks call these.
"""

from __future__ import annotations

import datetime
from typing import Any

from django.contrib.auth.models import Group
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.db import transaction
from guardian.shortcuts import assign_perm, get_objects_for_user, remove_perm

from governance.audit import record_event, snapshot
from governance.choices import PortalRole, Role
from governance.exceptions import DomainError
from governance.models import Committee, Membership, Organization, User
from governance.outbox import enqueue
from governance.permissions import MANAGE_COMMITTEE, can_manage_committee, require
from governance.roles import is_administrator

ORGANIZATION_FIELDS = ["name", "short_name", "sector", "jurisdiction", "website"]
COMMITTEE_FIELDS = [
    "name",
    "description",
    "quorum",
    "method_charter",
    "method_credit_request",
    "method_roadmap",
    "method_sop",
    "method_motion",
    "min_voting_hours",
    "roll_call_publication",
]
# The committee's voting rules: fixed once it has been constituted.
COMMITTEE_RULE_FIELDS = set(COMMITTEE_FIELDS) - {"name", "description"}
USER_FIELDS = ["username", "email", "first_name", "last_name", "organization", "is_active", "notification_delivery"]

# Which portal groups each committee role puts its holder in.
ROLE_GROUPS: dict[str, tuple[str, ...]] = {
    Role.CHAIR: (PortalRole.CO_CHAIR, PortalRole.COMMITTEE_MEMBER),
    Role.MEMBER: (PortalRole.COMMITTEE_MEMBER,),
    Role.SECRETARY: (PortalRole.SECRETARY,),
    Role.OBSERVER: (),
}
MEMBERSHIP_GROUPS = {PortalRole.CO_CHAIR, PortalRole.COMMITTEE_MEMBER, PortalRole.SECRETARY}


def _apply(obj, fields: dict[str, Any]) -> None:
    for name, value in fields.items():
        setattr(obj, name, value)


# --- Users and roles ---------------------------------------------------------------------


@transaction.atomic
def create_user(actor: User | None, *, password: str, **fields: Any) -> User:
    """Create a person's account; only administrators may."""
    require(actor is None or is_administrator(actor), "Only administrators create users.")
    user = User(**{k: v for k, v in fields.items() if k in USER_FIELDS})
    try:
        validate_password(password, user)
    except ValidationError as error:
        raise ValidationError({"password": error.messages}) from error
    user.set_password(password)
    user.full_clean(exclude=["password"])
    user.save()
    record_event(actor, "user.created", user, after=snapshot(user, USER_FIELDS))
    enqueue("governance.tasks.send_account_created_email", user.pk)
    return user


@transaction.atomic
def update_user(actor: User, user: User, **fields: Any) -> User:
    """Change a person's details; administrators, or people changing their own name, email and
    how the portal's e-mails reach them (immediately, or in a daily or weekly digest: that
    choice is the person's own, so nobody else makes it)."""
    own_fields = {"email", "first_name", "last_name", "notification_delivery"}
    require(
        is_administrator(actor) or (actor.pk == user.pk and set(fields) <= own_fields),
        "You may change only your own name, email and e-mail delivery.",
    )
    require(
        "notification_delivery" not in fields
        or actor.pk == user.pk
        or fields["notification_delivery"] == user.notification_delivery,
        "Each person chooses how the portal's e-mails reach them.",
    )
    before = snapshot(user, USER_FIELDS)
    _apply(user, {k: v for k, v in fields.items() if k in USER_FIELDS})
    user.full_clean(exclude=["password"])
    user.save()
    record_event(actor, "user.updated", user, before=before, after=snapshot(user, USER_FIELDS))
    return user


def _set_groups(actor: User | None, user: User, names: set[str], managed: set[str]) -> None:
    """Make the user's groups among `managed` exactly `names`, auditing any change."""
    current = set(user.groups.filter(name__in=managed).values_list("name", flat=True))
    if current == names:
        return
    user.groups.remove(*Group.objects.filter(name__in=current - names))
    user.groups.add(*Group.objects.filter(name__in=names - current))
    record_event(
        actor,
        "user.roles_changed",
        user,
        before={"roles": sorted(current)},
        after={"roles": sorted(names)},
    )


@transaction.atomic
def grant_role(actor: User | None, user: User, role: str) -> None:
    """Give a person a portal role (program manager, staff, auditor…); administrators only."""
    require(actor is None or is_administrator(actor), "Only administrators grant portal roles.")
    if role not in PortalRole.values:
        raise ValidationError({"role": f"Unknown role '{role}'."})
    current = set(user.groups.values_list("name", flat=True))
    _set_groups(actor, user, current | {role}, current | {role})


@transaction.atomic
def revoke_role(actor: User | None, user: User, role: str) -> None:
    """Take a portal role away from a person; administrators only."""
    require(actor is None or is_administrator(actor), "Only administrators revoke portal roles.")
    current = set(user.groups.values_list("name", flat=True))
    _set_groups(actor, user, current - {role}, current)


def sync_committee_roles(actor: User | None, user: User, at: datetime.date | None = None) -> None:
    """Bring a person's committee-derived groups and object permissions in line with the
    memberships active at `at`: chairs and secretaries manage their committee."""
    active = list(Membership.objects.active(at).filter(user=user).select_related("committee"))
    groups: set[str] = {str(group) for m in active for group in ROLE_GROUPS[m.role]}
    _set_groups(actor, user, groups, {str(group) for group in MEMBERSHIP_GROUPS})

    should_manage = {m.committee for m in active if m.role in (Role.CHAIR, Role.SECRETARY)}
    manages = set(
        get_objects_for_user(user, MANAGE_COMMITTEE, klass=Committee, with_superuser=False, accept_global_perms=False)
    )
    for committee in should_manage - manages:
        assign_perm(MANAGE_COMMITTEE, user, committee)
        record_event(actor, "permission.granted", committee, after={"user": user.pk, "permission": MANAGE_COMMITTEE})
    for committee in manages - should_manage:
        remove_perm(MANAGE_COMMITTEE, user, committee)
        record_event(actor, "permission.revoked", committee, before={"user": user.pk, "permission": MANAGE_COMMITTEE})


# --- Organizations and committees ----------------------------------------------------------


@transaction.atomic
def create_organization(actor: User | None, **fields: Any) -> Organization:
    """Admit a member organization; administrators only."""
    require(actor is None or is_administrator(actor), "Only administrators add organizations.")
    organization = Organization(**{k: v for k, v in fields.items() if k in ORGANIZATION_FIELDS})
    organization.full_clean()
    organization.save()
    record_event(actor, "organization.created", organization, after=snapshot(organization, ORGANIZATION_FIELDS))
    if fields.get("signatories"):
        set_signatories(actor, organization, fields["signatories"])
    return organization


def set_signatories(actor: User | None, organization: Organization, people) -> None:
    """Name the people who sign data use agreements for an organization (DESIGN.md 2.7): its
    own people only; administrators set them, as the organization asks, and it is audited."""
    require(actor is None or is_administrator(actor), "Only administrators record an organization's signatories.")
    people = list(people)
    strangers = [str(person) for person in people if person.organization_id != organization.pk]
    if strangers:
        raise ValidationError(
            {"signatories": f"A signatory works for the organization: {', '.join(strangers)} do not."}
        )
    before = sorted(organization.signatories.values_list("pk", flat=True))
    organization.signatories.set(people)
    after = sorted(person.pk for person in people)
    if before != after:
        record_event(
            actor,
            "organization.signatories_changed",
            organization,
            before={"signatories": before},
            after={"signatories": after},
        )


@transaction.atomic
def update_organization(actor: User, organization: Organization, **fields: Any) -> Organization:
    """Change an organization's details. Its sector is fixed once it holds a seat, because
    moving it would silently change the balance of every committee it sits on."""
    require(is_administrator(actor), "Only administrators change organizations.")
    organization = Organization.objects.select_for_update().get(pk=organization.pk)
    before = snapshot(organization, ORGANIZATION_FIELDS)
    if "sector" in fields and fields["sector"] != organization.sector and organization.memberships.exists():
        raise ValidationError({"sector": "This organization holds committee seats; its sector cannot change."})
    _apply(organization, {k: v for k, v in fields.items() if k in ORGANIZATION_FIELDS})
    organization.full_clean()
    organization.save()
    after = snapshot(organization, ORGANIZATION_FIELDS)
    if after != before:
        record_event(actor, "organization.updated", organization, before=before, after=after)
    if "signatories" in fields:
        set_signatories(actor, organization, fields["signatories"])
    return organization


@transaction.atomic
def create_committee(actor: User | None, **fields: Any) -> Committee:
    """Set up a committee; administrators only."""
    require(actor is None or is_administrator(actor), "Only administrators create committees.")
    committee = Committee(**{k: v for k, v in fields.items() if k in COMMITTEE_FIELDS})
    committee.full_clean()
    committee.save()
    record_event(actor, "committee.created", committee, after=snapshot(committee, COMMITTEE_FIELDS))
    return committee


@transaction.atomic
def update_committee(actor: User, committee: Committee, **fields: Any) -> Committee:
    """Change a committee's name or description (those who manage it), or, while it is still
    being set up, its voting rules (administrators). Once constituted, its quorum, default
    methods and minimum voting period are the floor of every ballot, and no one person
    changes them (DESIGN.md 2.7)."""
    require(can_manage_committee(actor, committee), "Only administrators and this committee's co-chairs change it.")
    committee = Committee.objects.select_for_update().get(pk=committee.pk)
    rules = {
        name: value
        for name, value in fields.items()
        if name in COMMITTEE_RULE_FIELDS and value != getattr(committee, name)
    }
    if rules:
        if not committee.bootstrapping:
            raise DomainError(
                f"{committee} has been constituted: its voting rules ({', '.join(sorted(rules))}) are the floor of "
                "every ballot and no one person changes them.",
                code="rules_fixed",
            )
        require(is_administrator(actor), "Only administrators set a new committee's voting rules.")
    before = snapshot(committee, COMMITTEE_FIELDS)
    _apply(committee, {k: v for k, v in fields.items() if k in COMMITTEE_FIELDS})
    committee.full_clean()
    committee.save()
    record_event(actor, "committee.updated", committee, before=before, after=snapshot(committee, COMMITTEE_FIELDS))
    return committee
