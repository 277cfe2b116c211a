"""The read side of the roadmap: what the pages, the API and the exports show, assembled in a
fixed number of queries however many initiatives and milestones there are."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings
from django.db.models import DurationField, ExpressionWrapper, F, Prefetch, QuerySet
from django.utils import timezone

from charters.models import Charter
from governance.choices import Sector
from roadmap import evidence, planning
from roadmap.choices import MilestoneStatus, RoadmapStatus
from roadmap.models import Baseline, BaselineEntry, Initiative, Milestone, MilestoneDependency, ProgressReport, Roadmap


def current_roadmap(user, committee_id: int | None = None) -> Roadmap | None:
    """The approved version, else the newest draft: what the roadmap pages open on."""
    versions = Roadmap.objects.visible_to(user).exclude(status=RoadmapStatus.SUPERSEDED)
    if committee_id is not None:
        versions = versions.filter(committee_id=committee_id)
    return versions.filter(status=RoadmapStatus.APPROVED).first() or versions.first()


@dataclass(frozen=True)
class TimelineFilters:
    """Narrow the timeline by an initiative's theme or sponsor sector, or a milestone's status."""

    theme: str = ""
    sector: str = ""
    status: str = ""

    @classmethod
    def from_query(cls, query) -> TimelineFilters:
        status = query.get("status", "")
        sector = query.get("sector", "")
        return cls(
            theme=query.get("theme", "")[:100],
            sector=sector if sector in Sector.values else "",
            status=status if status in MilestoneStatus.values else "",
        )

    @property
    def active(self) -> bool:
        return bool(self.theme or self.sector or self.status)


def schedule_milestones(milestones: QuerySet[Milestone] | None = None) -> QuerySet[Milestone]:
    """Milestones with their dependencies' dates and whether a baseline holds them."""
    milestones = Milestone.objects.all() if milestones is None else milestones
    return milestones.with_schedule().with_baselined().order_by("forecast_date", "pk")


def _timeline_milestones(filters: TimelineFilters) -> QuerySet[Milestone]:
    milestones = Milestone.objects.all()
    if filters.status:
        milestones = milestones.filter(status=filters.status)
    return milestones


def matching_initiatives(roadmap: Roadmap, filters: TimelineFilters | None = None) -> QuerySet[Initiative]:
    """The roadmap's initiatives matching the theme and sponsor-sector filters, by title."""
    filters = filters or TimelineFilters()
    initiatives = roadmap.initiatives.all()
    if filters.theme:
        initiatives = initiatives.filter(themes__slug=filters.theme)
    if filters.sector:
        initiatives = initiatives.filter(sponsors__sector=filters.sector)
    return initiatives.distinct().order_by("title", "pk")


TIMELINE_FIELDS = (
    "initiative",
    "title",
    "baseline_date",
    "forecast_date",
    "actual_date",
    "status",
    "percent_complete",
)


def timeline_initiatives(initiatives: QuerySet[Initiative], filters: TimelineFilters | None = None) -> list[Initiative]:
    """These initiatives (from `matching_initiatives`, or one page of them), each with
    `shown_milestones` (those matching the status filter) and its themes and sponsors: four
    queries in all."""
    filters = filters or TimelineFilters()
    # The fields the chart and its table show: the long texts stay in the database, and the
    # prefetch sets each milestone's initiative from the page's own (no join, no copies).
    milestones = _timeline_milestones(filters).only(*TIMELINE_FIELDS).order_by("forecast_date", "pk")
    initiatives = list(
        initiatives.prefetch_related(
            "themes", "sponsors", Prefetch("milestones", queryset=milestones, to_attr="shown_milestones")
        )
    )
    shown = [milestone for initiative in initiatives for milestone in initiative.shown_milestones]
    # Each milestone's dependencies from one query of the links, not a prefetch of the
    # many-to-many: that builds a related manager per milestone, a third of this page's time
    # with 200 milestones shown.
    needs: dict[int, list[Milestone]] = defaultdict(list)
    links = MilestoneDependency.objects.filter(milestone__in=[m.pk for m in shown]).order_by(
        "depends_on__forecast_date", "depends_on_id"
    )
    for milestone_id, pk, title, forecast, baseline, status in links.values_list(
        "milestone_id",
        "depends_on_id",
        "depends_on__title",
        "depends_on__forecast_date",
        "depends_on__baseline_date",
        "depends_on__status",
    ):
        needs[milestone_id].append(
            Milestone(pk=pk, title=title, forecast_date=forecast, baseline_date=baseline, status=status)
        )
    for milestone in shown:
        milestone.dependencies = needs.get(milestone.pk, [])
    return initiatives


def count_milestones(initiatives: QuerySet[Initiative], filters: TimelineFilters | None = None) -> int:
    """How many milestones of these initiatives match the status filter (one query)."""
    return _timeline_milestones(filters or TimelineFilters()).filter(initiative__in=initiatives.values("pk")).count()


@dataclass(frozen=True)
class TimelineRow:
    """One milestone as the timeline's data table shows it, the text prepared once."""

    milestone: Milestone
    url: str
    status_label: str
    baseline: str
    forecast: str
    slippage: int | None
    dependencies: list[tuple[str, bool]]  # (title, this milestone is forecast before it)

    # Written once here rather than by the template's number formatting, 200 rows a page.
    @property
    def percent(self) -> str:
        return f"{self.milestone.percent_complete} %"

    @property
    def slippage_text(self) -> str:
        return "—" if self.slippage is None else f"{self.slippage:+d}" if self.slippage > 0 else str(self.slippage)


STATUS_LABELS = dict(MilestoneStatus.choices)


def _day(value: datetime.date | None) -> str:
    return f"{value.day} {value:%b %Y}" if value else ""


def timeline_rows(initiatives: list[Initiative], milestone_url) -> list[tuple[Initiative, list[TimelineRow]]]:
    """The data table of the timeline, initiative by initiative (from `timeline_initiatives`)."""
    return [
        (
            initiative,
            [
                TimelineRow(
                    milestone=m,
                    url=milestone_url(m.pk),
                    status_label=STATUS_LABELS[m.status],
                    baseline=_day(m.baseline_date) or "not baselined",
                    forecast=_day(m.actual_date) + " (done)" if m.actual_date else _day(m.forecast_date),
                    slippage=m.slippage_days,
                    dependencies=[
                        (dep.title, planning.forecast_before(m.forecast_date, dep.forecast_date))
                        for dep in m.dependencies
                    ],
                )
                for m in initiative.shown_milestones
            ],
        )
        for initiative in initiatives
    ]


@dataclass(frozen=True)
class InitiativeStanding:
    """Where an initiative stands: its slippage rolled up and the evidence-based RAG."""

    rollup: planning.SlippageRollup
    evidence: evidence.Evidence


def standings(initiatives: list[Initiative], today: datetime.date | None = None) -> dict[int, InitiativeStanding]:
    """Rollup and evidence of each initiative; the initiatives carry `schedule` (all their
    milestones, prefetched with `with_standing_data`) and their charters."""
    today = today or timezone.localdate()
    burns = evidence.credit_burns({i.pk: [c.pk for c in i.charters.all()] for i in initiatives})
    result = {}
    for initiative in initiatives:
        milestones = initiative.schedule
        result[initiative.pk] = InitiativeStanding(
            rollup=planning.rollup((m.baseline_date, m.forecast_date) for m in milestones),
            evidence=evidence.evidence_rag(
                evidence.inputs_from_milestones(milestones, today=today, credit_burn=burns[initiative.pk])
            ),
        )
    return result


def with_standing_data(initiatives: QuerySet[Initiative]) -> QuerySet[Initiative]:
    """Prefetch what `standings` and the initiative lists read."""
    return initiatives.prefetch_related(
        "themes",
        "sponsors",
        "charters",
        "roadmaps",
        Prefetch("milestones", queryset=schedule_milestones(), to_attr="schedule"),
        Prefetch(
            "reports",
            queryset=ProgressReport.objects.only("pk", "initiative_id", "period_start", "rag", "evidence_rag"),
        ),
    )


def latest_report(initiative: Initiative) -> ProgressReport | None:
    """The newest report of an initiative whose `reports` are prefetched."""
    return max(initiative.reports.all(), key=lambda report: report.period_start, default=None)


@dataclass(frozen=True)
class CharterCreditUse:
    """A linked charter with what the ledger says it was allocated and used (None: no account)."""

    charter: Charter
    allocated: Decimal | None = None
    used: Decimal | None = None

    @property
    def share(self) -> Decimal | None:
        if self.allocated is None or self.allocated <= 0:
            return None
        return self.used / self.allocated


def charter_credit_use(charters: Iterable[Charter]) -> list[CharterCreditUse]:
    """Each charter with its allocation and use, from the ledger in one query."""
    from compute.selectors import charter_allocation_and_use

    charters = list(charters)
    figures = charter_allocation_and_use(c.pk for c in charters)
    return [CharterCreditUse(c, *figures[c.pk]) if c.pk in figures else CharterCreditUse(c) for c in charters]


# --- Baselines -----------------------------------------------------------------------------

FORECAST = "forecast"


def baseline_schedule(baseline: Baseline) -> dict[int, tuple[str, str, datetime.date]]:
    return {
        entry.milestone_id: (entry.initiative_title, entry.title, entry.baseline_date)
        for entry in BaselineEntry.objects.filter(baseline=baseline)
    }


def forecast_schedule(roadmap: Roadmap) -> dict[int, tuple[str, str, datetime.date]]:
    """Today's forecast of every milestone of a roadmap version."""
    return {
        m.pk: (m.initiative.title, m.title, m.forecast_date)
        for m in roadmap.milestones().select_related("initiative").distinct()
    }


def compare(baseline: Baseline, other: Baseline | None) -> list[planning.ComparedDate]:
    """A baseline against another baseline, or against today's forecast when `other` is None."""
    after = baseline_schedule(other) if other is not None else forecast_schedule(baseline.roadmap)
    return planning.compare_schedules(baseline_schedule(baseline), after)


# --- Home panel ----------------------------------------------------------------------------


def slipped_milestones(roadmap: Roadmap, limit: int = 5) -> list[Milestone]:
    """The open milestones that slipped most, worst first: picked by the database, so the
    panel reads `limit` rows however large the roadmap is."""
    return list(
        roadmap.milestones()
        .exclude(status=MilestoneStatus.DONE)
        .filter(baseline_date__isnull=False, forecast_date__gt=F("baseline_date"))
        .annotate(slip=ExpressionWrapper(F("forecast_date") - F("baseline_date"), output_field=DurationField()))
        .select_related("initiative")
        .order_by("-slip", "forecast_date", "pk")[:limit]
    )


def initiative_evidence(initiative: Initiative, today: datetime.date | None = None) -> evidence.Evidence:
    """The evidence-based RAG of one initiative now (for several at once, see roadmap.selectors)."""
    today = today or timezone.localdate()
    milestones = list(initiative.milestones.with_schedule())
    burn = evidence.credit_burns({initiative.pk: initiative.charters.values_list("pk", flat=True)})[initiative.pk]
    return evidence.evidence_rag(evidence.inputs_from_milestones(milestones, today=today, credit_burn=burn))


def reported_periods(initiatives: Iterable[Initiative]) -> dict[int, set[datetime.date]]:
    """initiative id → the first days of the periods it reported on, as plain values (one
    query, no report instances with their narratives): for report_due over many initiatives."""
    reported: dict[int, set[datetime.date]] = defaultdict(set)
    periods = ProgressReport.objects.filter(initiative__in=[i.pk for i in initiatives]).order_by()
    for initiative_id, period_start in periods.values_list("initiative_id", "period_start"):
        reported[initiative_id].add(period_start)
    return reported


def report_due(
    initiative: Initiative, today: datetime.date | None = None, *, reported: set[datetime.date] | None = None
) -> planning.ReportDue | None:
    """The report the initiative owes next: `reported`, the periods it reported on, is read
    from its `reports` (which may be prefetched) unless given."""
    if reported is None:
        reported = {report.period_start for report in initiative.reports.all()}
    return planning.next_report_due(
        cadence=initiative.report_cadence,
        starts_on=initiative.starts_on,
        reported=reported,
        today=today or timezone.localdate(),
        due_days=settings.ROADMAP_REPORT_DUE_DAYS,
    )
