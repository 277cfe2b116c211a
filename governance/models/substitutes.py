"""Substitutes (DESIGN.md 2.1): a voting member names a person of their own sector to vote in
their seat for one ballot, one meeting or a period."""

from __future__ import annotations

import datetime

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from governance.choices import SubstitutionScope, SubstitutionStatus
from governance.models.base import TimeStampedModel
from governance.roles import is_administrator

# When several substitutions of one member cover the same ballot, the narrowest decides.
SCOPE_PRECEDENCE = {SubstitutionScope.BALLOT: 0, SubstitutionScope.MEETING: 1, SubstitutionScope.PERIOD: 2}


class SubstitutionQuerySet(models.QuerySet):
    def visible_to(self, user) -> SubstitutionQuerySet:
        """A substitution is seen by its member, its substitute, the committee's co-chairs and
        secretary (who are told of it) and administrators; who votes for whom becomes public
        only through the roll call of a closed ballot."""
        if not (user and user.is_authenticated):
            return self.none()
        if is_administrator(user):
            return self
        from governance.choices import Role
        from governance.models.people import Membership

        running = (
            Membership.objects.active()
            .filter(user=user, role__in=[Role.CHAIR, Role.SECRETARY])
            .order_by()
            .values("committee_id")
        )
        return self.filter(Q(member=user) | Q(substitute=user) | Q(committee_id__in=running))

    def active(self) -> SubstitutionQuerySet:
        return self.filter(status=SubstitutionStatus.ACTIVE)

    def covering(self, ballot, today: datetime.date | None = None) -> SubstitutionQuerySet:
        """The substitutions in force for a ballot today, of every member of its committee:
        named for this ballot, for a meeting whose agenda carries it, or for a period that
        includes today."""
        from governance.models.meetings import AgendaItem

        today = today or timezone.localdate()
        on_agenda = AgendaItem.objects.filter(ballot_id=ballot.pk).values("meeting_id")
        return self.active().filter(
            Q(committee_id=ballot.committee_id)
            & (
                Q(scope=SubstitutionScope.BALLOT, ballot_id=ballot.pk)
                | Q(scope=SubstitutionScope.MEETING, meeting_id__in=on_agenda)
                | Q(scope=SubstitutionScope.PERIOD, starts_on__lte=today, ends_on__gte=today)
            )
        )


class Substitution(TimeStampedModel):
    """A member's substitute for one ballot, one meeting or a period.

    The substitute votes in the member's seat, never beside it: their vote is the seat's one
    Vote row (keyed by the seat's member, unique per ballot), with the substitute as `cast_by`.
    While a substitution covers a ballot the member does not vote on it themself; they withdraw
    it first, which they may do until the substitute has voted under it.
    """

    committee = models.ForeignKey("governance.Committee", on_delete=models.PROTECT, related_name="substitutions")
    membership = models.ForeignKey("governance.Membership", on_delete=models.PROTECT, related_name="substitutions")
    member = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="substitutions_named")
    substitute = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="substitutions_held"
    )
    substitute_organization = models.ForeignKey(
        "governance.Organization", on_delete=models.PROTECT, related_name="+", editable=False
    )
    sector = models.CharField(max_length=20, editable=False)
    scope = models.CharField(max_length=16, choices=SubstitutionScope.choices)
    ballot = models.ForeignKey(
        "governance.Ballot", on_delete=models.PROTECT, null=True, blank=True, related_name="substitutions"
    )
    meeting = models.ForeignKey(
        "governance.Meeting", on_delete=models.PROTECT, null=True, blank=True, related_name="substitutions"
    )
    starts_on = models.DateField(null=True, blank=True)
    ends_on = models.DateField(null=True, blank=True)
    status = models.CharField(
        max_length=16, choices=SubstitutionStatus.choices, default=SubstitutionStatus.ACTIVE, editable=False
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Claimed by a conditional update when the co-chair and the substitute are told, so a
    # task that runs twice tells them once.
    notice_sent_at = models.DateTimeField(null=True, editable=False)

    objects = SubstitutionQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(
                        scope=SubstitutionScope.BALLOT,
                        ballot__isnull=False,
                        meeting__isnull=True,
                        starts_on__isnull=True,
                    )
                    | Q(
                        scope=SubstitutionScope.MEETING,
                        meeting__isnull=False,
                        ballot__isnull=True,
                        starts_on__isnull=True,
                    )
                    | Q(
                        scope=SubstitutionScope.PERIOD,
                        ballot__isnull=True,
                        meeting__isnull=True,
                        starts_on__isnull=False,
                        ends_on__isnull=False,
                        ends_on__gte=models.F("starts_on"),
                    )
                ),
                name="substitution_scope_fields",
                violation_error_message=(
                    "A substitution names one ballot, one meeting, or a period from one date to another."
                ),
            ),
            models.CheckConstraint(
                condition=~Q(member=models.F("substitute")),
                name="substitution_not_oneself",
                violation_error_message="A member cannot be their own substitute.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=SubstitutionStatus.values),
                name="substitution_status_valid",
                violation_error_message="Unknown substitution status.",
            ),
            models.UniqueConstraint(
                fields=["member", "ballot"],
                condition=Q(status=SubstitutionStatus.ACTIVE, scope=SubstitutionScope.BALLOT),
                name="substitution_one_per_ballot",
                violation_error_message="You have already named a substitute for this ballot.",
            ),
            models.UniqueConstraint(
                fields=["member", "meeting"],
                condition=Q(status=SubstitutionStatus.ACTIVE, scope=SubstitutionScope.MEETING),
                name="substitution_one_per_meeting",
                violation_error_message="You have already named a substitute for this meeting.",
            ),
        ]
        indexes = [models.Index(fields=["committee", "status"], name="substitution_committee_idx")]

    def __str__(self) -> str:
        return f"{self.substitute} for {self.member} ({self.describe_scope()})"

    def describe_scope(self) -> str:
        if self.scope == SubstitutionScope.BALLOT:
            return f"ballot “{self.ballot}”" if self.ballot_id else "one ballot"
        if self.scope == SubstitutionScope.MEETING:
            return f"meeting “{self.meeting}”" if self.meeting_id else "one meeting"
        return f"{self.starts_on:%Y-%m-%d} to {self.ends_on:%Y-%m-%d}"

    @property
    def has_voted(self) -> bool:
        return self.votes.exists()
