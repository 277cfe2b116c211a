"""Users, organizations with their sector, committees and memberships."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.contrib.auth.models import AbstractUser, UserManager
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone
from django.utils.crypto import salted_hmac

from governance import values
from governance.choices import (
    MembershipChangeKind,
    MembershipChangeStatus,
    NotificationDelivery,
    Role,
    RollCallPublication,
    Sector,
    VotingMethod,
)
from governance.models.base import TimeStampedModel
from governance.roles import is_administrator


class UserQuerySet(models.QuerySet):
    def visible_to(self, user) -> UserQuerySet:
        """Administrators and auditors see everyone; others see themselves, their colleagues
        and the people who sit on committees (whose names are part of the record)."""
        if not (user and user.is_authenticated):
            return self.none()
        if is_administrator(user) or user.has_perm("governance.view_user"):
            return self
        visible = Q(pk=user.pk) | Q(memberships__isnull=False)
        if user.organization_id:
            visible |= Q(organization_id=user.organization_id)
        return self.filter(visible).distinct()


class PortalUserManager(UserManager.from_queryset(UserQuerySet)):
    pass


class User(AbstractUser):
    """A person using the portal; most belong to one member organization."""

    organization = models.ForeignKey(
        "governance.Organization",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="users",
        help_text="The organization this person works for, if any.",
    )
    sign_in_epoch = models.PositiveIntegerField(
        default=0,
        editable=False,
        help_text="Raised by 'sign out everywhere': every session signed in before it ends.",
    )

    notification_delivery = models.CharField(
        max_length=16,
        choices=NotificationDelivery.choices,
        default=NotificationDelivery.IMMEDIATE,
        help_text="How the portal's e-mails reach this person; deadlines always go at once.",
    )

    objects = PortalUserManager()

    class Meta(AbstractUser.Meta):
        ordering = ["username"]

    def __str__(self) -> str:
        return self.get_full_name() or self.username

    def _get_session_auth_hash(self, secret=None) -> str:
        # Django ends a session whose stored hash no longer matches: covering the epoch as well
        # as the password lets a person end all their sessions without changing the password.
        if not self.sign_in_epoch:
            return super()._get_session_auth_hash(secret=secret)
        return salted_hmac(
            "governance.User.get_session_auth_hash",
            f"{self.password}:{self.sign_in_epoch}",
            secret=secret,
            algorithm="sha256",
        ).hexdigest()


class OrganizationQuerySet(models.QuerySet):
    def visible_to(self, user) -> OrganizationQuerySet:
        """Member organizations are public within the portal: any signed-in user sees them."""
        if not (user and user.is_authenticated):
            return self.none()
        return self


class Organization(TimeStampedModel):
    """A member organization of the partnership, on the public or the private side."""

    name = models.CharField(max_length=200)
    short_name = models.CharField(max_length=40, blank=True)
    sector = models.CharField(max_length=20, choices=Sector.choices)
    jurisdiction = models.CharField(
        max_length=64,
        blank=True,
        validators=[values.valid_jurisdiction],
        help_text="Country or region whose law the organization is under.",
    )
    website = models.URLField(blank=True)
    signatories = models.ManyToManyField(
        settings.AUTH_USER_MODEL,
        blank=True,
        related_name="signatory_for",
        help_text="The people this organization has named to sign data use agreements for it.",
    )

    objects = OrganizationQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                name="organization_unique_name",
                violation_error_message="An organization with this name already exists.",
            ),
            models.CheckConstraint(
                condition=Q(sector__in=Sector.values),
                name="organization_sector_valid",
                violation_error_message="Sector must be one of: " + ", ".join(Sector.values) + ".",
            ),
        ]

    def __str__(self) -> str:
        return self.name


class CommitteeQuerySet(models.QuerySet):
    def with_active_memberships(self) -> CommitteeQuerySet:
        """Prefetch today's seats, so listing committees with their balance costs two queries."""
        return self.prefetch_related(
            models.Prefetch(
                "memberships",
                queryset=Membership.objects.active().select_related("organization", "user"),
                to_attr="active_memberships",
            )
        )

    def visible_to(self, user) -> CommitteeQuerySet:
        """The body's committees are known to every signed-in user."""
        if not (user and user.is_authenticated):
            return self.none()
        return self


def _quorum_validators():
    return [MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1"))]


class Committee(TimeStampedModel):
    """A joint committee in which every sector holds the same number of voting seats."""

    name = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    quorum = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        default=Decimal("0.5"),
        validators=_quorum_validators(),
        help_text="Share of each sector's eligible members who must take part (0.01 to 1).",
    )
    method_charter = models.CharField(max_length=32, choices=VotingMethod.choices, default=VotingMethod.DOUBLE_MAJORITY)
    method_credit_request = models.CharField(
        max_length=32, choices=VotingMethod.choices, default=VotingMethod.DOUBLE_MAJORITY
    )
    method_roadmap = models.CharField(max_length=32, choices=VotingMethod.choices, default=VotingMethod.PARITY_MAJORITY)
    method_sop = models.CharField(
        max_length=32, choices=VotingMethod.choices, default=VotingMethod.DOUBLE_SUPERMAJORITY
    )
    method_motion = models.CharField(max_length=32, choices=VotingMethod.choices, default=VotingMethod.PARITY_MAJORITY)
    min_voting_hours = models.PositiveSmallIntegerField(
        default=24,
        validators=[MinValueValidator(1), MaxValueValidator(24 * 90)],
        help_text="The shortest voting period: a ballot's closing time is at least this many hours after it opens.",
    )
    roll_call_publication = models.CharField(
        max_length=16,
        choices=RollCallPublication.choices,
        default=RollCallPublication.COUNTS_ONLY,
        help_text="What the public pages say about named votes once a ballot has closed. One of the "
        "voting rules: fixed once the committee is constituted.",
    )
    constituted_at = models.DateTimeField(
        null=True,
        blank=True,
        editable=False,
        help_text="When the committee first acted as constituted (its first ballot or signature); "
        "from then on its seats change only by both co-chairs' consent.",
    )

    objects = CommitteeQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        permissions = [("manage_committee", "Can manage the committee's seats, meetings and ballots")]
        constraints = [
            models.UniqueConstraint(
                fields=["name"],
                name="committee_unique_name",
                violation_error_message="A committee with this name already exists.",
            ),
            models.CheckConstraint(
                condition=Q(quorum__gt=0) & Q(quorum__lte=1),
                name="committee_quorum_range",
                violation_error_message="Quorum must be greater than 0 and at most 1.",
            ),
            models.CheckConstraint(
                condition=Q(min_voting_hours__gte=1),
                name="committee_min_voting_hours_positive",
                violation_error_message="The minimum voting period is at least one hour.",
            ),
            models.CheckConstraint(
                condition=Q(roll_call_publication__in=RollCallPublication.values),
                name="committee_roll_call_publication_valid",
                violation_error_message="Unknown roll-call publication setting.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def bootstrapping(self) -> bool:
        """Never constituted yet: an administrator may still seat its members directly."""
        return self.constituted_at is None

    def default_method(self, subject_type: str) -> str:
        """The voting method this committee uses by default for a subject type."""
        return getattr(self, f"method_{subject_type}")

    def seats_by_sector(self, at: datetime.date | None = None) -> dict[str, dict[str, int]]:
        """Voting seats and co-chairs per sector among the memberships active at `at`."""
        tally = {sector: {"seats": 0, "chairs": 0, "members": 0} for sector in Sector.values}
        if at is None and hasattr(self, "active_memberships"):
            memberships = self.active_memberships  # prefetched by with_active_memberships()
        else:
            memberships = self.memberships.active(at).select_related("organization")
        for membership in memberships:
            counts = tally.setdefault(membership.organization.sector, {"seats": 0, "chairs": 0, "members": 0})
            counts["members"] += 1
            counts["seats"] += int(membership.voting)
            counts["chairs"] += int(membership.role == Role.CHAIR)
        return tally

    def constitution_problems(self, at: datetime.date | None = None) -> list[str]:
        """What stops the committee from being constituted at `at`; empty when it is.

        Constituted: every sector holds the same, non-zero number of voting seats and has
        exactly one co-chair.
        """
        return constitution_problems(self.seats_by_sector(at))

    @property
    def constituted(self) -> bool:
        return not self.constitution_problems()


def constitution_problems(tally: dict[str, dict[str, int]]) -> list[str]:
    """The messages for a per-sector seat tally (see Committee.seats_by_sector)."""
    labels = dict(Sector.choices)
    problems = []
    most = max(counts["seats"] for counts in tally.values())
    for sector, counts in tally.items():
        label = labels.get(sector, sector)
        if counts["chairs"] == 0:
            problems.append(f"The {label.lower()} sector has no co-chair.")
        elif counts["chairs"] > 1:
            problems.append(f"The {label.lower()} sector has {counts['chairs']} co-chairs; it must have exactly one.")
        if counts["seats"] == 0:
            problems.append(f"The {label.lower()} sector holds no voting seat.")
        elif counts["seats"] < most:
            short = most - counts["seats"]
            problems.append(
                f"The {label.lower()} sector is short of {short} voting seat{'s' if short > 1 else ''}: "
                f"it holds {counts['seats']}, another sector holds {most}."
            )
    return problems


class MembershipQuerySet(models.QuerySet):
    def active(self, at: datetime.date | None = None) -> MembershipQuerySet:
        """Memberships whose term covers the date `at` (today by default)."""
        at = at or timezone.localdate()
        return self.filter(Q(term_end__isnull=True) | Q(term_end__gte=at), term_start__lte=at)

    def visible_to(self, user) -> MembershipQuerySet:
        """Who sits on which committee is known to every signed-in user."""
        if not (user and user.is_authenticated):
            return self.none()
        return self


class Membership(TimeStampedModel):
    """A seat of a person, for an organization, on a committee, for a term."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="memberships")
    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="memberships")
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, related_name="memberships")
    role = models.CharField(max_length=20, choices=Role.choices, default=Role.MEMBER)
    voting = models.BooleanField(default=True)
    term_start = models.DateField()
    term_end = models.DateField(null=True, blank=True, help_text="Empty for an open-ended term.")

    objects = MembershipQuerySet.as_manager()

    class Meta:
        ordering = ["committee", "role", "user__username"]
        constraints = [
            models.UniqueConstraint(
                fields=["committee", "user", "term_start"],
                name="membership_unique_term",
                violation_error_message="This person already has a term starting that day on this committee.",
            ),
            models.CheckConstraint(
                condition=Q(term_end__isnull=True) | Q(term_end__gte=models.F("term_start")),
                name="membership_term_order",
                violation_error_message="A term cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.CHAIR) | Q(voting=True),
                name="membership_chair_votes",
                violation_error_message="A co-chair holds a voting seat.",
            ),
            models.CheckConstraint(
                condition=~Q(role=Role.OBSERVER) | Q(voting=False),
                name="membership_observer_does_not_vote",
                violation_error_message="An observer does not vote.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} — {self.get_role_display()} of {self.committee} for {self.organization}"

    @property
    def sector(self) -> str:
        return self.organization.sector

    def covers(self, at: datetime.date) -> bool:
        return self.term_start <= at and (self.term_end is None or self.term_end >= at)

    def clean(self) -> None:
        """A person sits for their own organization, and holds one term at a time per committee."""
        super().clean()
        if self.user_id and self.organization_id:
            user_org = self.user.organization_id
            if user_org and user_org != self.organization_id:
                raise ValidationError({"organization": "A member sits for the organization they belong to."})
        if self.user_id and self.committee_id and self.term_start:
            overlapping = Membership.objects.filter(user_id=self.user_id, committee_id=self.committee_id).exclude(
                pk=self.pk
            )
            if self.term_end:
                overlapping = overlapping.filter(term_start__lte=self.term_end)
            overlapping = overlapping.filter(Q(term_end__isnull=True) | Q(term_end__gte=self.term_start))
            if overlapping.exists():
                raise ValidationError(
                    {"term_start": "This person already holds a term on this committee over these dates."}
                )


class MembershipChangeQuerySet(models.QuerySet):
    def visible_to(self, user) -> MembershipChangeQuerySet:
        """Seat changes are part of the body's record: whoever sees the committee sees them,
        so a change pending for one sector's consent is visible to the other."""
        return self.filter(committee__in=Committee.objects.visible_to(user))

    def pending(self) -> MembershipChangeQuerySet:
        return self.filter(status=MembershipChangeStatus.PENDING)


class MembershipChange(TimeStampedModel):
    """A proposed change to a constituted committee's seats, applied once the co-chairs of
    the sectors it needs have consented (DESIGN.md 2.7): the other sector's co-chair when a
    co-chair proposes it, both co-chairs when the secretary does."""

    committee = models.ForeignKey(Committee, on_delete=models.PROTECT, related_name="membership_changes")
    kind = models.CharField(max_length=20, choices=MembershipChangeKind.choices)
    membership = models.ForeignKey(
        "Membership",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="changes",
        help_text="The seat a term end or role change applies to; the new seat once a seating is applied.",
    )
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    organization = models.ForeignKey(Organization, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    role = models.CharField(max_length=20, choices=Role.choices, blank=True)
    voting = models.BooleanField(null=True, blank=True)
    term_start = models.DateField(null=True, blank=True)
    term_end = models.DateField(null=True, blank=True)
    reason = models.TextField(blank=True)
    status = models.CharField(
        max_length=20, choices=MembershipChangeStatus.choices, default=MembershipChangeStatus.PENDING
    )
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    proposer_role = models.CharField(max_length=20, choices=Role.choices)
    proposer_sector = models.CharField(max_length=20, choices=Sector.choices)
    consented_by = models.ManyToManyField(settings.AUTH_USER_MODEL, blank=True, related_name="+")
    decided_at = models.DateTimeField(null=True, blank=True)

    objects = MembershipChangeQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["committee", "status"], name="membershipchange_open_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} on {self.committee} ({self.get_status_display().lower()})"
