"""Models of the roadmap app: roadmap versions, initiatives, milestones with dependencies,
named immutable baselines, re-baselining proposals, progress reports and calendar feeds.

How the pieces fit (DESIGN.md 2.5):
- The live plan is the set of initiatives and their milestones. A `Roadmap` is a version of the
  joint roadmap: which initiatives it holds and over which horizon. A draft version is approved
  by a ballot; approving it supersedes the previous approved version and takes a baseline.
- A `Baseline` is a named, immutable snapshot of every milestone's dates in a roadmap version.
  `Milestone.baseline_date` is the date of the latest baseline that holds the milestone; it can
  be set freely only until the milestone is first baselined. After that it changes only when a
  `RebaselineRequest` is adopted by a passed ballot, which takes the next baseline.
"""

from __future__ import annotations

import datetime
import hashlib

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q
from django.utils import timezone

from governance import values
from governance.models import TimeStampedModel
from governance.models.base import AppendOnlyModel, AppendOnlyQuerySet
from roadmap import planning
from roadmap.choices import (
    RAG,
    BaselineKind,
    MilestoneStatus,
    Priority,
    RebaselineStatus,
    ReportCadence,
    RoadmapStatus,
)
from roadmap.permissions import MANAGE_ROADMAP, may_read_roadmap


class BodyVisibleQuerySet(models.QuerySet):
    def visible_to(self, user):
        """The roadmap is the body's shared plan: everyone in the body reads all of it."""
        return self if may_read_roadmap(user) else self.none()


class RoadmapQuerySet(BodyVisibleQuerySet):
    def published(self) -> RoadmapQuerySet:
        """Roadmap versions a ballot approved (the one in force, and those it superseded);
        drafts are never public."""
        return self.filter(status__in=(RoadmapStatus.APPROVED, RoadmapStatus.SUPERSEDED))


class InitiativeQuerySet(BodyVisibleQuerySet):
    def published(self) -> InitiativeQuerySet:
        """Initiatives of the approved roadmap in force."""
        return self.filter(roadmaps__status=RoadmapStatus.APPROVED).distinct()


class Theme(models.Model):
    """A strand of the roadmap (sovereign foundation model, federated health data…)."""

    name = models.CharField(max_length=100)
    slug = models.SlugField(max_length=100)

    objects = BodyVisibleQuerySet.as_manager()

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["slug"], name="theme_unique_slug", violation_error_message="A theme with this slug exists."
            ),
            models.UniqueConstraint(
                fields=["name"], name="theme_unique_name", violation_error_message="A theme with this name exists."
            ),
        ]

    def __str__(self) -> str:
        return self.name


class Roadmap(TimeStampedModel):
    """One version of the joint R&D roadmap: its horizon and the initiatives it holds."""

    committee = models.ForeignKey("governance.Committee", on_delete=models.PROTECT, related_name="roadmaps")
    version = models.PositiveIntegerField(editable=False)
    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    starts_on = models.DateField()
    ends_on = models.DateField()
    status = models.CharField(max_length=16, choices=RoadmapStatus.choices, default=RoadmapStatus.DRAFT, editable=False)
    initiatives = models.ManyToManyField("roadmap.Initiative", blank=True, related_name="roadmaps")
    approved_at = models.DateTimeField(null=True, blank=True, editable=False)
    approval_ballot = models.ForeignKey(
        "governance.Ballot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="The passed ballot that approved this version.",
    )
    superseded_at = models.DateTimeField(null=True, blank=True, editable=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )

    objects = RoadmapQuerySet.as_manager()

    class Meta:
        ordering = ["-version"]
        permissions = [(MANAGE_ROADMAP.split(".")[1], "Can edit the roadmap: initiatives, milestones, reports")]
        constraints = [
            models.UniqueConstraint(
                fields=["committee", "version"],
                name="roadmap_unique_version",
                violation_error_message="This committee already has a roadmap with this version number.",
            ),
            models.UniqueConstraint(
                fields=["committee"],
                condition=Q(status=RoadmapStatus.APPROVED),
                name="roadmap_one_approved_per_committee",
                violation_error_message="Only one roadmap version is approved at a time.",
            ),
            models.CheckConstraint(
                condition=Q(ends_on__gt=models.F("starts_on")),
                name="roadmap_horizon_order",
                violation_error_message="A roadmap ends after it starts.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=RoadmapStatus.values),
                name="roadmap_status_valid",
                violation_error_message="Unknown roadmap status.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} (v{self.version})"

    def pending_rebaseline(self) -> RebaselineRequest | None:
        return self.rebaseline_requests.filter(status=RebaselineStatus.PROPOSED).first()

    def milestones(self) -> models.QuerySet[Milestone]:
        return Milestone.objects.filter(initiative__roadmaps=self)


class Initiative(TimeStampedModel):
    """A line of joint work on the roadmap, with its sponsors, themes and linked charters."""

    title = models.CharField(max_length=200)
    summary = models.TextField(blank=True)
    national_impact_score = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(1), MaxValueValidator(5)],
        help_text="1 (local benefit) to 5 (transforms a national capability).",
    )
    priority = models.CharField(max_length=16, choices=Priority.choices, default=Priority.MEDIUM)
    themes = models.ManyToManyField(Theme, blank=True, related_name="initiatives")
    sponsors = models.ManyToManyField(
        "governance.Organization",
        blank=True,
        related_name="sponsored_initiatives",
        help_text="The member organizations, of either sector, that sponsor this initiative.",
    )
    charters = models.ManyToManyField("charters.Charter", blank=True, related_name="initiatives")
    owner = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="owned_initiatives",
        help_text="Who reports progress; reminded before each report is due.",
    )
    starts_on = models.DateField(help_text="When work on the initiative starts.")
    report_cadence = models.CharField(max_length=16, choices=ReportCadence.choices, default=ReportCadence.QUARTERLY)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )

    objects = InitiativeQuerySet.as_manager()

    class Meta:
        ordering = ["title"]
        constraints = [
            models.CheckConstraint(
                condition=Q(national_impact_score__gte=1) & Q(national_impact_score__lte=5),
                name="initiative_impact_range",
                violation_error_message="The national-impact score is from 1 to 5.",
            ),
            models.CheckConstraint(
                condition=Q(priority__in=Priority.values),
                name="initiative_priority_valid",
                violation_error_message="Unknown priority.",
            ),
        ]

    def __str__(self) -> str:
        return self.title


class MilestoneQuerySet(BodyVisibleQuerySet):
    def published(self) -> MilestoneQuerySet:
        """Milestones of the initiatives of the approved roadmap in force."""
        return self.filter(
            initiative__in=Initiative.objects.published().order_by().values("pk"),
        )

    def with_schedule(self) -> MilestoneQuerySet:
        """Everything slippage, dependency flags and the timeline read, in a fixed number of
        queries however many milestones there are."""
        return self.select_related("initiative").prefetch_related(
            models.Prefetch(
                "depends_on", queryset=Milestone.objects.only("pk", "title", "forecast_date", "baseline_date", "status")
            )
        )

    def with_baselined(self) -> MilestoneQuerySet:
        return self.annotate(in_baseline=models.Exists(BaselineEntry.objects.filter(milestone=models.OuterRef("pk"))))


# How far a milestone's dates may fall outside the span of its roadmaps: work slips, and a
# milestone may be planned past the horizon of today's version, but not by decades.
MILESTONE_MARGIN = datetime.timedelta(days=5 * 365)


class Milestone(TimeStampedModel):
    """A dated point of an initiative: baseline, forecast and actual dates, status, progress."""

    initiative = models.ForeignKey(Initiative, on_delete=models.PROTECT, related_name="milestones")
    title = models.CharField(max_length=200)
    description = models.TextField(blank=True)
    deliverables = models.TextField(blank=True, help_text="What the milestone delivers, one item per line.")
    baseline_date = models.DateField(
        null=True,
        blank=True,
        help_text="The committed date. Free until the milestone is first baselined; then changed only by "
        "a re-baselining that a ballot adopted.",
    )
    forecast_date = models.DateField(help_text="Today's best estimate of when it will be done.")
    actual_date = models.DateField(null=True, blank=True, help_text="When it was done.")
    status = models.CharField(max_length=16, choices=MilestoneStatus.choices, default=MilestoneStatus.PLANNED)
    percent_complete = models.PositiveSmallIntegerField(
        default=0, validators=[MinValueValidator(0), MaxValueValidator(100)]
    )
    status_note = models.TextField(blank=True, help_text="What puts it at risk or blocks it.")
    depends_on = models.ManyToManyField(
        "self",
        through="roadmap.MilestoneDependency",
        through_fields=("milestone", "depends_on"),
        symmetrical=False,
        blank=True,
        related_name="dependents",
    )

    objects = MilestoneQuerySet.as_manager()

    class Meta:
        ordering = ["forecast_date", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(percent_complete__gte=0) & Q(percent_complete__lte=100),
                name="milestone_percent_range",
                violation_error_message="Percent complete is from 0 to 100.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=MilestoneStatus.values),
                name="milestone_status_valid",
                violation_error_message="Unknown milestone status.",
            ),
            models.CheckConstraint(
                condition=(Q(status=MilestoneStatus.DONE) & Q(actual_date__isnull=False) & Q(percent_complete=100))
                | (~Q(status=MilestoneStatus.DONE) & Q(actual_date__isnull=True)),
                name="milestone_done_has_actual_date",
                violation_error_message="A done milestone has an actual date and is 100 % complete; "
                "an open one has no actual date.",
            ),
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_open(self) -> bool:
        return self.status != MilestoneStatus.DONE

    @property
    def slippage_days(self) -> int | None:
        """Forecast − baseline in days (positive: late); None before the milestone has a baseline."""
        return planning.slippage_days(self.baseline_date, self.forecast_date)

    def dependency_conflicts(self) -> list[Milestone]:
        """Dependencies forecast later than this milestone: flagged, since it cannot finish first."""
        return [dep for dep in self.depends_on.all() if planning.forecast_before(self.forecast_date, dep.forecast_date)]

    def deliverable_list(self) -> list[str]:
        return [line.strip() for line in self.deliverables.splitlines() if line.strip()]

    def clean(self) -> None:
        """Bring a milestone marked done into its done shape, then check the dates agree.

        Done means an actual date (today unless given), 100 % complete, and the forecast equal
        to what actually happened, so slippage of a done milestone is its final slippage.
        """
        super().clean()
        today = timezone.localdate()
        if self.status == MilestoneStatus.DONE:
            self.actual_date = self.actual_date or today
            self.percent_complete = 100
            self.forecast_date = self.actual_date
        elif self.actual_date is not None:
            raise ValidationError({"actual_date": "Only a done milestone has an actual date; set its status to done."})
        if self.actual_date and self.actual_date > today:
            raise ValidationError({"actual_date": "A milestone cannot be done in the future."})
        self._check_dates_in_span()

    def _check_dates_in_span(self) -> None:
        """Forecast and baseline fall within the span of the roadmaps holding the initiative,
        widened by MILESTONE_MARGIN (or the portal's horizon while it is on no roadmap)."""
        earliest, latest = values.EARLIEST, values.LATEST
        if self.initiative_id:
            span = self.initiative.roadmaps.aggregate(start=models.Min("starts_on"), end=models.Max("ends_on"))
            if span["start"] is not None:
                earliest = max(earliest, max(earliest, span["start"]) - MILESTONE_MARGIN)
                latest = min(latest, min(latest, span["end"]) + MILESTONE_MARGIN)
        errors = {
            name: f"Give a date between {earliest.isoformat()} and {latest.isoformat()}, the roadmap's span "
            "and a margin."
            for name in ("forecast_date", "baseline_date")
            if isinstance(getattr(self, name), datetime.date) and not earliest <= getattr(self, name) <= latest
        }
        if errors:
            raise ValidationError(errors)


class MilestoneDependency(models.Model):
    """`milestone` cannot be done before `depends_on` is."""

    milestone = models.ForeignKey(Milestone, on_delete=models.CASCADE, related_name="dependency_links")
    depends_on = models.ForeignKey(Milestone, on_delete=models.PROTECT, related_name="dependent_links")

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["milestone", "depends_on"],
                name="milestonedependency_unique",
                violation_error_message="This dependency is already recorded.",
            ),
            models.CheckConstraint(
                condition=~Q(milestone=models.F("depends_on")),
                name="milestonedependency_not_self",
                violation_error_message="A milestone cannot depend on itself.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.milestone_id} depends on {self.depends_on_id}"


# Written once, never changed or removed (the database refuses too; see migration 0002).
BASELINE_IMMUTABLE = "A baseline is immutable; re-baselining records a new one."


class BaselineQuerySet(AppendOnlyQuerySet, BodyVisibleQuerySet):
    """Baselines and their entries: read by everyone in the body, never updated or deleted."""


class Baseline(AppendOnlyModel):
    """A named, immutable snapshot of every milestone's dates in a roadmap version, taken when a
    passed ballot approved the version or adopted a re-baselining."""

    roadmap = models.ForeignKey(Roadmap, on_delete=models.PROTECT, related_name="baselines")
    name = models.CharField(max_length=200)
    kind = models.CharField(max_length=16, choices=BaselineKind.choices)
    reason = models.TextField(blank=True)
    ballot = models.ForeignKey(
        "governance.Ballot", on_delete=models.PROTECT, related_name="+", help_text="The passed ballot that made it."
    )
    request = models.OneToOneField(
        "roadmap.RebaselineRequest", on_delete=models.PROTECT, null=True, blank=True, related_name="baseline"
    )
    created_at = models.DateTimeField()
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    append_only_message = BASELINE_IMMUTABLE
    objects = BaselineQuerySet.as_manager()

    class Meta:
        ordering = ["roadmap", "created_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["roadmap", "name"],
                name="baseline_unique_name_per_roadmap",
                violation_error_message="This roadmap already has a baseline with this name.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.roadmap})"


class BaselineEntry(AppendOnlyModel):
    """One milestone's dates, status and progress as they stood in a baseline."""

    baseline = models.ForeignKey(Baseline, on_delete=models.PROTECT, related_name="entries")
    milestone = models.ForeignKey(Milestone, on_delete=models.PROTECT, related_name="baseline_entries")
    initiative_title = models.CharField(max_length=200)
    title = models.CharField(max_length=200)
    baseline_date = models.DateField()
    forecast_date = models.DateField()
    actual_date = models.DateField(null=True, blank=True)
    status = models.CharField(max_length=16, choices=MilestoneStatus.choices)
    percent_complete = models.PositiveSmallIntegerField()

    append_only_message = BASELINE_IMMUTABLE
    objects = BaselineQuerySet.as_manager()

    class Meta:
        ordering = ["baseline", "baseline_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["baseline", "milestone"],
                name="baselineentry_unique_milestone",
                violation_error_message="A baseline holds each milestone once.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.title} @ {self.baseline_date}"


class RebaselineRequest(TimeStampedModel):
    """A proposal to re-baseline an approved roadmap: a name for the new baseline, the reason,
    and the proposed date of every milestone. A ballot on the roadmap decides it; only one
    proposal per roadmap is pending at a time, so the ballot always knows what it decides."""

    roadmap = models.ForeignKey(Roadmap, on_delete=models.PROTECT, related_name="rebaseline_requests")
    name = models.CharField(max_length=200, help_text="The name the new baseline will carry.")
    reason = models.TextField(help_text="Why the committed dates should change.")
    status = models.CharField(
        max_length=16, choices=RebaselineStatus.choices, default=RebaselineStatus.PROPOSED, editable=False
    )
    proposed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, related_name="+", editable=False
    )
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    ballot = models.ForeignKey(
        "governance.Ballot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="The ballot that decided it.",
    )

    objects = BodyVisibleQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["roadmap"],
                condition=Q(status=RebaselineStatus.PROPOSED),
                name="rebaseline_one_pending_per_roadmap",
                violation_error_message="A re-baselining of this roadmap is already pending.",
            ),
            models.CheckConstraint(
                condition=Q(status__in=RebaselineStatus.values),
                name="rebaseline_status_valid",
                violation_error_message="Unknown re-baselining status.",
            ),
        ]

    def __str__(self) -> str:
        return f"Re-baselining '{self.name}' of {self.roadmap}"


class RebaselineEntry(models.Model):
    """The date a re-baselining proposes for one milestone, beside the date it would replace."""

    request = models.ForeignKey(RebaselineRequest, on_delete=models.CASCADE, related_name="entries")
    milestone = models.ForeignKey(Milestone, on_delete=models.PROTECT, related_name="+")
    previous_date = models.DateField(null=True, blank=True)
    proposed_date = models.DateField()

    class Meta:
        ordering = ["proposed_date", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "milestone"],
                name="rebaselineentry_unique_milestone",
                violation_error_message="A proposal names each milestone once.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.milestone_id}: {self.previous_date} → {self.proposed_date}"


class ProgressReport(TimeStampedModel):
    """An initiative's report for one period: the owner's RAG and narrative, beside the RAG the
    evidence gave when it was filed (slippage, blocked dependencies, credit burn)."""

    initiative = models.ForeignKey(Initiative, on_delete=models.PROTECT, related_name="reports")
    period_start = models.DateField(help_text="First day of the month or quarter reported on.")
    period_end = models.DateField(editable=False)
    rag = models.CharField("reported RAG", max_length=8, choices=RAG.choices)
    summary = models.TextField()
    risks = models.TextField(blank=True)
    issues = models.TextField(blank=True)
    next_steps = models.TextField(blank=True)
    evidence_rag = models.CharField(max_length=8, choices=RAG.choices, editable=False)
    evidence_reasons = models.JSONField(default=list, editable=False)
    author = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+", editable=False)

    objects = BodyVisibleQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start", "initiative"]
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "period_start"],
                name="progressreport_one_per_period",
                violation_error_message="This initiative already has a report for this period.",
            ),
            models.CheckConstraint(
                condition=Q(rag__in=RAG.values),
                name="progressreport_rag_valid",
                violation_error_message="RAG is green, amber or red.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.initiative} — {self.period_label}"

    @property
    def period_label(self) -> str:
        return planning.period_label(self.period_start, self.initiative.report_cadence)

    @property
    def disagrees(self) -> bool:
        return bool(self.evidence_rag) and self.evidence_rag != self.rag

    def clean(self) -> None:
        """The period is a whole calendar month or quarter of the initiative's cadence that has begun."""
        super().clean()
        if (
            not isinstance(self.period_start, datetime.date)
            or not values.EARLIEST <= self.period_start <= values.LATEST
        ):
            return  # the field's own horizon check has said why; no period to compute
        if self.initiative_id and self.period_start:
            period = planning.period_containing(self.period_start, self.initiative.report_cadence)
            if period.start != self.period_start:
                raise ValidationError(
                    {
                        "period_start": f"A {self.initiative.get_report_cadence_display().lower()} report starts on "
                        f"the first day of its period ({period.start.isoformat()} here)."
                    }
                )
            if self.period_start > timezone.localdate():
                raise ValidationError({"period_start": "This period has not begun yet."})
            self.period_end = period.end


class ReportReminder(models.Model):
    """That the owner of an initiative was reminded of one period's report: claimed once, so a
    reminder task that runs twice sends one email."""

    initiative = models.ForeignKey(Initiative, on_delete=models.CASCADE, related_name="+")
    period_start = models.DateField()
    due_on = models.DateField()
    recipient = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["initiative", "period_start"],
                name="reportreminder_once_per_period",
                violation_error_message="The owner was already reminded of this report.",
            ),
        ]

    def __str__(self) -> str:
        return f"Reminder for {self.initiative_id} {self.period_start}"


class CalendarFeed(models.Model):
    """A person's secret iCalendar feed of milestone dates. Only a hash of the token is kept:
    the feed address is shown once, when the token is issued."""

    user = models.OneToOneField(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="calendar_feed")
    token_hash = models.CharField(max_length=64, editable=False)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    last_used_at = models.DateTimeField(null=True, blank=True, editable=False)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["token_hash"], name="calendarfeed_unique_token"),
        ]

    def __str__(self) -> str:
        return f"Calendar feed of {self.user}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()
