"""Ballots, the roll of voters each one froze when it opened, recusals and votes."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, Subquery
from django.utils import timezone

from governance.choices import (
    METHOD_STRICTNESS,
    BallotStatus,
    Outcome,
    Role,
    Sector,
    SubjectType,
    VoteChoice,
    VotingMethod,
)
from governance.models.base import TimeStampedModel
from governance.models.people import Membership
from governance.roles import MANAGE_COMMITTEE, is_administrator
from governance.tally import SectorCount, compute_tally

CLOSING_GRACE = datetime.timedelta(minutes=5)


def _managed_by(user) -> models.QuerySet:
    """The committees the user manages through guardian (co-chairs, the secretary), as a
    lazy queryset: used as a subquery, it costs no query of its own."""
    from guardian.shortcuts import get_objects_for_user

    from governance.models.people import Committee

    return get_objects_for_user(
        user, MANAGE_COMMITTEE, klass=Committee, with_superuser=False, accept_global_perms=False
    )


def member_committee_ids(user) -> set[int]:
    """Committees where the user holds a seat today (any role): they see open tallies there."""
    if not (user and user.is_authenticated):
        return set()
    return set(Membership.objects.active().filter(user=user).order_by().values_list("committee_id", flat=True))


class BallotQuerySet(models.QuerySet):
    def on(self, subject) -> BallotQuerySet:
        """Ballots deciding this subject (a Charter, CreditRequest, Roadmap or SOPVersion)."""
        from governance.subjects import subject_type_of

        return self.filter(subject_type=subject_type_of(subject), subject_id=subject.pk)

    def open(self) -> BallotQuerySet:
        """Ballots open now (at most one per subject, by constraint)."""
        return self.filter(status=BallotStatus.OPEN)

    def decided(self, outcome: str | None = None) -> BallotQuerySet:
        """Closed ballots, of one outcome when given."""
        closed = self.filter(status=BallotStatus.CLOSED)
        return closed.filter(outcome=outcome) if outcome else closed

    def published(self) -> BallotQuerySet:
        """What the public view shows (DESIGN.md 2.8): closed ballots only. A draft or an open
        ballot, its votes and its live tally are never public."""
        return self.filter(status=BallotStatus.CLOSED)

    def visible_to(self, user) -> BallotQuerySet:
        """Open and closed ballots are part of the body's record for every signed-in user;
        drafts are seen by the committee's members (who may declare a conflict ahead of the
        opening), those who manage it and administrators."""
        if not (user and user.is_authenticated):
            return self.none()
        if is_administrator(user):
            return self
        seated = Membership.objects.active().filter(user=user).order_by().values("committee_id")
        return self.filter(
            ~Q(status=BallotStatus.DRAFT)
            | Q(committee_id__in=seated)
            | Q(committee_id__in=_managed_by(user).values("pk"))
        )

    def with_voter_state(self, user) -> BallotQuerySet:
        """Annotate `my_vote` (choice or None), `my_recused` and `my_eligible` for one user,
        so a list shows everyone's own status without a query per row."""
        if not (user and user.is_authenticated):
            return self.annotate(
                my_vote=models.Value(None, output_field=models.CharField()),
                my_recused=models.Value(False),
                my_eligible=models.Value(False),
            )
        return self.annotate(
            my_vote=Subquery(Vote.objects.filter(ballot=OuterRef("pk"), voter=user).order_by().values("choice")[:1]),
            my_recused=Exists(Recusal.objects.filter(ballot=OuterRef("pk"), user=user)),
            my_eligible=Exists(Eligibility.objects.filter(ballot=OuterRef("pk"), user=user)),
        )

    def waiting_for(self, user) -> BallotQuerySet:
        """Open ballots on which the user may still cast a first vote."""
        return (
            self.filter(status=BallotStatus.OPEN)
            .filter(Q(closes_at__isnull=True) | Q(closes_at__gt=timezone.now()))
            .filter(Exists(Eligibility.objects.filter(ballot=OuterRef("pk"), user=user)))
            .exclude(Exists(Recusal.objects.filter(ballot=OuterRef("pk"), user=user)))
            .exclude(Exists(Vote.objects.filter(ballot=OuterRef("pk"), voter=user)))
        )

    def unresolved_deadlocks(self) -> BallotQuerySet:
        """Deadlocked ballots whose subject has not been put to a further ballot yet."""
        return self.filter(status=BallotStatus.CLOSED, outcome=Outcome.DEADLOCKED).exclude(
            Exists(Ballot.objects.filter(previous_ballot=OuterRef("pk")))
        )

    def due(self, now=None) -> BallotQuerySet:
        """Open ballots whose closing time has come."""
        return self.filter(status=BallotStatus.OPEN, closes_at__lte=now or timezone.now())


def _quorum_validators():
    return [MinValueValidator(Decimal("0.01")), MaxValueValidator(Decimal("1"))]


class Ballot(TimeStampedModel):
    """A decision of a committee on one subject, counted sector by sector (DESIGN.md 2.1).

    The method and quorum are fixed when the ballot opens, together with the roll of eligible
    voters; from then on only votes and declared conflicts change, and once closed nothing does.
    """

    committee = models.ForeignKey("governance.Committee", on_delete=models.PROTECT, related_name="ballots")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    subject_type = models.CharField(max_length=20, choices=SubjectType.choices)
    subject_id = models.PositiveBigIntegerField(null=True, blank=True, help_text="Empty for a motion.")
    subject_title = models.CharField(
        max_length=300, blank=True, editable=False, help_text="The subject's one-line title when the ballot was made."
    )
    method = models.CharField(max_length=32, choices=VotingMethod.choices)
    quorum = models.DecimalField(
        max_digits=4,
        decimal_places=3,
        validators=_quorum_validators(),
        help_text="Share of each sector's eligible members who must take part.",
    )
    status = models.CharField(max_length=16, choices=BallotStatus.choices, default=BallotStatus.DRAFT, editable=False)
    outcome = models.CharField(max_length=16, choices=Outcome.choices, blank=True, editable=False)
    closes_at = models.DateTimeField(null=True, blank=True, help_text="When the ballot closes by itself.")
    opened_at = models.DateTimeField(null=True, blank=True, editable=False)
    closed_at = models.DateTimeField(null=True, blank=True, editable=False)
    previous_ballot = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="follow_ups",
        help_text="The earlier ballot on the same subject this one follows (after a deadlock).",
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )
    opened_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )
    closed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        related_name="+",
        editable=False,
        help_text="Empty when the ballot closed by itself at its closing time.",
    )
    result = models.JSONField(null=True, editable=False, help_text="The final tally, frozen at closing.")
    # When each notification went out: claimed by a conditional update, so a task that runs
    # twice (a retry, two workers) sends it once.
    opened_notice_at = models.DateTimeField(null=True, editable=False)
    reminder_sent_at = models.DateTimeField(null=True, editable=False)
    result_notice_at = models.DateTimeField(null=True, editable=False)

    objects = BallotQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=BallotStatus.values),
                name="ballot_status_valid",
                violation_error_message="Unknown ballot status.",
            ),
            models.CheckConstraint(
                condition=Q(method__in=VotingMethod.values),
                name="ballot_method_valid",
                violation_error_message="Unknown voting method.",
            ),
            models.CheckConstraint(
                condition=Q(quorum__gt=0) & Q(quorum__lte=1),
                name="ballot_quorum_range",
                violation_error_message="Quorum must be greater than 0 and at most 1.",
            ),
            models.CheckConstraint(
                condition=(Q(status=BallotStatus.CLOSED) & Q(outcome__in=Outcome.values))
                | (~Q(status=BallotStatus.CLOSED) & Q(outcome="")),
                name="ballot_outcome_when_closed",
                violation_error_message="A ballot has an outcome exactly when it is closed.",
            ),
            models.CheckConstraint(
                condition=(Q(subject_type=SubjectType.MOTION) & Q(subject_id__isnull=True))
                | (~Q(subject_type=SubjectType.MOTION) & Q(subject_id__isnull=False)),
                name="ballot_subject_named",
                violation_error_message="A motion has no subject id; every other ballot names its subject.",
            ),
            models.UniqueConstraint(
                fields=["subject_type", "subject_id"],
                condition=Q(status=BallotStatus.OPEN) & Q(subject_id__isnull=False),
                name="ballot_one_open_per_subject",
                violation_error_message="Another ballot on this subject is already open.",
            ),
        ]
        indexes = [
            models.Index(fields=["status", "closes_at"], name="ballot_status_closes_idx"),
            models.Index(fields=["subject_type", "subject_id"], name="ballot_subject_idx"),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def subject_aside(self) -> str:
        """The subject's title where it says more than the ballot's own ("Approve the charter
        “X”" already names Charter “X”); empty where the title holds it."""
        if not self.subject_title or self.subject_title.casefold() in self.title.casefold():
            return ""
        return self.subject_title

    # --- Rules on the ballot's own fields (forms, the API and the services all run these) ---

    def apply_committee_defaults(self) -> None:
        """Take the committee's method for this kind of subject and its quorum, where unset."""
        if self.committee_id and self.subject_type in SubjectType.values:
            if not self.method:
                self.method = self.committee.default_method(self.subject_type)
            if self.quorum is None:
                self.quorum = self.committee.quorum

    def clean(self) -> None:
        super().clean()
        errors: dict[str, str] = {}
        if self.subject_type == SubjectType.MOTION:
            if self.subject_id is not None:
                errors["subject_id"] = "A motion has no subject; leave the subject id empty."
        elif self.subject_type in SubjectType.values:
            if self.subject_id is None:
                errors["subject_id"] = f"Name the {SubjectType(self.subject_type).label.lower()} this ballot decides."
            else:
                problem = self.subject_problem()
                if problem:
                    errors["subject_id"] = problem
        errors.update(self.floor_problems())
        if self.closes_at and self.status == BallotStatus.DRAFT:
            problem = self.closing_problem(timezone.now())
            if problem:
                errors["closes_at"] = problem
        previous = self.previous_ballot
        if previous is not None:
            if previous.pk == self.pk:
                errors["previous_ballot"] = "A ballot cannot follow itself."
            elif previous.status != BallotStatus.CLOSED:
                errors["previous_ballot"] = "Only a closed ballot can be followed by another."
            elif (previous.committee_id, previous.subject_type, previous.subject_id) != (
                self.committee_id,
                self.subject_type,
                self.subject_id,
            ):
                errors["previous_ballot"] = "A follow-up ballot decides the same subject in the same committee."
        if errors:
            raise ValidationError(errors)

    # --- The subject ---

    def subject_module(self):
        """The module that answers for this ballot's subject (None for a motion)."""
        from governance.subjects import subject_module

        return subject_module(self.subject_type)

    def get_subject(self, *, for_update: bool = False):
        """The subject itself (None for a motion)."""
        module = self.subject_module()
        if module is None:
            return None
        return module.get_subject(self.subject_id, for_update=for_update)

    def subject_problem(self) -> str | None:
        """Why the named subject cannot carry a ballot of this committee: there is no such
        subject, or it belongs to another committee (only its own committee decides it)."""
        label = SubjectType(self.subject_type).label.lower()
        try:
            module = self.subject_module()
            if module is None:
                return None
            subject = module.get_subject(self.subject_id)
        except models.ObjectDoesNotExist:
            return f"There is no {label} with id {self.subject_id}."
        owner = module.committee_id(subject)
        if self.committee_id and owner != self.committee_id:
            return f"This {label} belongs to another committee; only that committee's ballots decide it."
        return None

    def closing_problem(self, opening: datetime.datetime) -> str | None:
        """Why the closing time is too early for a ballot opening at `opening`: it must leave
        the committee's minimum voting period (2.7)."""
        if self.closes_at is None or not self.committee_id:
            return None
        hours = self.committee.min_voting_hours
        earliest = opening + datetime.timedelta(hours=hours)
        # A closing time picked to the minute as "now plus the period" stays acceptable for the
        # few minutes between choosing it and opening the ballot.
        if self.closes_at < earliest - CLOSING_GRACE:
            return (
                f"{self.committee} votes for at least {hours} hour{'s' if hours != 1 else ''}: close at "
                f"{timezone.localtime(earliest):%Y-%m-%d %H:%M} or later."
            )
        # A ballot that closes decades away is a typo, and would hold its subject until then.
        days = settings.BALLOT_MAX_VOTING_DAYS
        if self.closes_at > opening + datetime.timedelta(days=days):
            return f"A ballot closes within {days} days of opening: pick an earlier closing time."
        return None

    def floor_problems(self) -> dict[str, str]:
        """A ballot's rules can be stricter than its committee's defaults, never weaker (2.7)."""
        if not self.committee_id or self.subject_type not in SubjectType.values:
            return {}
        committee = self.committee
        problems = {}
        floor = committee.default_method(self.subject_type)
        if self.method and METHOD_STRICTNESS.get(self.method, -1) < METHOD_STRICTNESS[floor]:
            problems["method"] = (
                f"{committee} decides a {SubjectType(self.subject_type).label.lower()} by "
                f"{VotingMethod(floor).label.lower()} at least; a ballot may only be stricter."
            )
        if self.quorum is not None and self.quorum < committee.quorum:
            problems["quorum"] = (
                f"{committee}'s quorum is {committee.quorum:.0%} of each sector; a ballot may only ask for more."
            )
        return problems

    def subject_url(self) -> str | None:
        try:
            module = self.subject_module()
            return module.url(self.get_subject()) if module else None
        except models.ObjectDoesNotExist:
            return None

    # --- The tally ---

    @property
    def tally(self) -> dict | None:
        """The tally in DESIGN.md's shape: frozen at closing, live while open, none for a draft."""
        if self.status == BallotStatus.DRAFT:
            return None
        if self.status == BallotStatus.CLOSED and self.result is not None:
            return self.result
        return self.live_tally()

    def live_tally(self) -> dict:
        """Counted from the roll, the recusals and the votes: two queries however many voters."""
        return compute_tally(self.method, self.quorum, sector_counts([self.pk])[self.pk])

    def roll_call(self) -> list[dict]:
        """Every voter on the roll with their vote, recusal (and its reason) or absence, by
        sector: the record the minutes and the CSV export print. A seat voted by a substitute
        says so: `substitute` names them, and `member` reads "X for Y". Three queries."""
        votes, reasons, substitutes = {}, {}, {}
        rows = self.votes.values_list(
            "voter_id", "choice", "reason", "cast_by__first_name", "cast_by__last_name", "cast_by__username"
        )
        for voter_id, choice, reason, first, last, username in rows:
            votes[voter_id], reasons[voter_id] = choice, reason
            if username:
                substitutes[voter_id] = f"{first} {last}".strip() or username
        recusals = {r.user_id: r.reason for r in self.recusals.all()}
        rows = []
        for seat in self.roll.select_related("user", "organization").order_by("sector", "user__username"):
            if seat.user_id in recusals:
                vote = "recused"
            else:
                vote = votes.get(seat.user_id, "did not vote")
            substitute = "" if seat.user_id in recusals else substitutes.get(seat.user_id, "")
            rows.append(
                {
                    "member": f"{substitute} for {seat.user}" if substitute else str(seat.user),
                    "seat": str(seat.user),
                    "substitute": substitute,
                    "username": seat.user.username,
                    "organization": str(seat.organization),
                    "sector": seat.sector,
                    "role": seat.role,
                    "vote": vote,
                    "reason": recusals.get(seat.user_id, ""),
                    "vote_reason": "" if seat.user_id in recusals else reasons.get(seat.user_id, ""),
                }
            )
        return rows

    def missing_voters(self) -> list:
        """The members on the roll, not recused, who have not voted yet, by sector and name
        (for the co-chairs' list and reminder)."""
        recused = self.recusals.values("user_id")
        return list(
            self.roll.exclude(user_id__in=recused)
            .exclude(user_id__in=self.votes.values("voter_id"))
            .select_related("user", "organization")
            .order_by("sector", "user__username")
        )

    def not_yet_voted(self) -> int:
        """How many eligible members (on the roll, not recused) have not voted yet."""
        recused = self.recusals.values("user_id")
        return self.roll.exclude(user_id__in=recused).exclude(user_id__in=self.votes.values("voter_id")).count()

    def everyone_has_voted(self) -> bool:
        """Every eligible member (on the roll and not recused) has cast a vote."""
        return self.not_yet_voted() == 0

    def sectors_asking_to_close(self) -> list[str]:
        """The sectors whose co-chair has asked to close this ballot early."""
        return sorted(self.close_requests.values_list("sector", flat=True))

    @property
    def is_past_closing(self) -> bool:
        return self.closes_at is not None and self.closes_at <= timezone.now()


class Eligibility(models.Model):
    """One voter on a ballot's roll: a voting member whose term covered the opening time.

    The roll is written once, when the ballot opens; a recused voter stays on it (the minutes
    name them) and leaves the tally's denominator through their Recusal.
    """

    ballot = models.ForeignKey(Ballot, on_delete=models.PROTECT, related_name="roll")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    membership = models.ForeignKey("governance.Membership", on_delete=models.PROTECT, related_name="+")
    organization = models.ForeignKey("governance.Organization", on_delete=models.PROTECT, related_name="+")
    sector = models.CharField(max_length=20, choices=Sector.choices)
    role = models.CharField(max_length=20, choices=Role.choices)

    class Meta:
        verbose_name_plural = "eligibilities"
        # Plain columns: ordering by "ballot" would join the ballot (and its own ordering) in
        # every list, prefetch and subquery.
        ordering = ["ballot_id", "sector", "user_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ballot", "user"],
                name="eligibility_one_per_member",
                violation_error_message="This member is already on the ballot's roll.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} on {self.ballot}"


class Recusal(models.Model):
    """A member standing aside from a ballot: automatically, because their organization is a
    party to the subject, or by declaring a conflict of interest before voting."""

    ballot = models.ForeignKey(Ballot, on_delete=models.PROTECT, related_name="recusals")
    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="recusals")
    organization = models.ForeignKey("governance.Organization", on_delete=models.PROTECT, null=True, related_name="+")
    sector = models.CharField(max_length=20, choices=Sector.choices)
    reason = models.TextField()
    automatic = models.BooleanField(default=False, help_text="Recused because their organization is a party.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ballot_id", "sector", "created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["ballot", "user"],
                name="recusal_one_per_member",
                violation_error_message="This member is already recused from this ballot.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.user} recused from {self.ballot}"


class CloseRequest(models.Model):
    """A co-chair asking for an open ballot to close before its closing time. The ballot
    closes early only once the co-chair of every sector has asked (DESIGN.md 2.7)."""

    ballot = models.ForeignKey(Ballot, on_delete=models.PROTECT, related_name="close_requests")
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sector = models.CharField(max_length=20, choices=Sector.choices)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["ballot_id", "sector"]
        constraints = [
            models.UniqueConstraint(
                fields=["ballot", "sector"],
                name="closerequest_one_per_sector",
                violation_error_message="This sector's co-chair has already asked to close this ballot.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.requested_by} asks to close {self.ballot}"


class Vote(TimeStampedModel):
    """The vote of one seat on a ballot. Changing it updates this row (the last vote counts);
    the audit log keeps every cast and change.

    `voter` is the seat: the member on the ballot's roll (Eligibility is unique per ballot and
    member), so "one row per ballot and voter", enforced by the database, is one vote per seat.
    A substitute (DESIGN.md 2.1) votes in that same row, named in `cast_by`: neither the member
    nor their substitute can add a second vote for the seat, and a sector never casts more
    votes than it has seats.
    """

    ballot = models.ForeignKey(Ballot, on_delete=models.PROTECT, related_name="votes")
    voter = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="ballot_votes")
    cast_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="votes_as_substitute",
        help_text="The substitute who cast this vote in the voter's seat; empty when the member voted.",
    )
    substitution = models.ForeignKey(
        "governance.Substitution", on_delete=models.PROTECT, null=True, blank=True, related_name="votes"
    )
    sector = models.CharField(max_length=20, choices=Sector.choices)
    choice = models.CharField(max_length=10, choices=VoteChoice.choices)
    changes = models.PositiveIntegerField(default=0, help_text="How many times the vote was changed.")
    reason = models.TextField(
        blank=True,
        max_length=2000,
        help_text="Why the member voted so, if they said; shown in the roll call and minutes.",
    )

    class Meta:
        ordering = ["ballot_id", "sector", "voter_id"]
        constraints = [
            models.UniqueConstraint(
                fields=["ballot", "voter"],
                name="vote_one_per_member",
                violation_error_message="This member has already voted on this ballot.",
            ),
            models.CheckConstraint(
                condition=Q(choice__in=VoteChoice.values),
                name="vote_choice_valid",
                violation_error_message="A vote is yes, no or abstain.",
            ),
            models.CheckConstraint(
                condition=(Q(cast_by__isnull=True) & Q(substitution__isnull=True))
                | (Q(cast_by__isnull=False) & Q(substitution__isnull=False) & ~Q(cast_by=models.F("voter"))),
                name="vote_substitute_named",
                violation_error_message="A substitute's vote names the substitution it was cast under.",
            ),
        ]

    def __str__(self) -> str:
        if self.cast_by_id:
            return f"{self.cast_by} for {self.voter}: {self.choice} on {self.ballot}"
        return f"{self.voter}: {self.choice} on {self.ballot}"


def sector_counts(ballot_ids: list[int]) -> dict[int, dict[str, SectorCount]]:
    """Per-sector counts of several ballots in two queries, whatever the number of voters.

    Every configured sector appears, with zeros where a ballot has nobody from it. Recused
    voters leave the eligible count and their votes (which the services never accept) are
    not counted.
    """
    recused = Recusal.objects.filter(ballot_id=OuterRef("ballot_id"), user_id=OuterRef("user_id"))
    recused_voter = Recusal.objects.filter(ballot_id=OuterRef("ballot_id"), user_id=OuterRef("voter_id"))
    raw: dict[int, dict[str, dict[str, int]]] = {
        pk: {sector: {"eligible": 0, "recused": 0, "yes": 0, "no": 0, "abstain": 0} for sector in Sector.values}
        for pk in ballot_ids
    }
    roll = (
        Eligibility.objects.filter(ballot_id__in=ballot_ids)
        .annotate(is_recused=Exists(recused))
        .values("ballot_id", "sector", "is_recused")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in roll:
        counts = raw[row["ballot_id"]].setdefault(
            row["sector"], {"eligible": 0, "recused": 0, "yes": 0, "no": 0, "abstain": 0}
        )
        counts["recused" if row["is_recused"] else "eligible"] += row["n"]
    votes = (
        Vote.objects.filter(ballot_id__in=ballot_ids)
        .exclude(Exists(recused_voter))
        .values("ballot_id", "sector", "choice")
        .annotate(n=Count("pk"))
        .order_by()
    )
    for row in votes:
        raw[row["ballot_id"]][row["sector"]][row["choice"]] += row["n"]
    return {
        pk: {sector: SectorCount(**counts) for sector, counts in by_sector.items()} for pk, by_sector in raw.items()
    }


def tallies_for(ballots) -> dict[int, dict | None]:
    """The tallies of many ballots at once (for lists): closed ones from their frozen result,
    open ones counted together in two queries."""
    live = [b for b in ballots if b.status == BallotStatus.OPEN or (b.status == BallotStatus.CLOSED and not b.result)]
    counts = sector_counts([b.pk for b in live]) if live else {}
    tallies: dict[int, dict | None] = {}
    for ballot in ballots:
        if ballot.pk in counts:
            tallies[ballot.pk] = compute_tally(ballot.method, ballot.quorum, counts[ballot.pk])
        else:
            tallies[ballot.pk] = ballot.tally
    return tallies
