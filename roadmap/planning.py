"""Schedule arithmetic of the roadmap: slippage and its rollup, dependency cycles and flags,
report periods and when reports fall due, baseline comparison.

Pure functions over dates and plain values: the models, services and pages call them, and the
tests state the rules with explicit inputs.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass

MONTHLY = "monthly"
QUARTERLY = "quarterly"


# --- Slippage ------------------------------------------------------------------------------


def slippage_days(baseline: datetime.date | None, forecast: datetime.date) -> int | None:
    """Forecast − baseline in days: positive when late, negative when early, None without a baseline."""
    if baseline is None:
        return None
    return (forecast - baseline).days


def forecast_before(forecast: datetime.date, dependency_forecast: datetime.date) -> bool:
    """A milestone forecast earlier than one of its dependencies cannot hold: it is flagged."""
    return forecast < dependency_forecast


@dataclass(frozen=True)
class SlippageRollup:
    """Slippage of an initiative's milestones, rolled up.

    `worst_days` is the largest slippage of any milestone; `finish_days` is how far the
    initiative's last forecast lies beyond its last baseline date (its end date slipping).
    """

    milestones: int
    baselined: int
    slipped: int
    worst_days: int | None
    finish_days: int | None

    def as_dict(self) -> dict:
        return {
            "milestones": self.milestones,
            "baselined": self.baselined,
            "slipped": self.slipped,
            "worst_days": self.worst_days,
            "finish_days": self.finish_days,
        }


def rollup(dates: Iterable[tuple[datetime.date | None, datetime.date]]) -> SlippageRollup:
    """Roll up (baseline, forecast) pairs of one initiative's milestones."""
    dates = list(dates)
    baselined = [(baseline, forecast) for baseline, forecast in dates if baseline is not None]
    slips = [(forecast - baseline).days for baseline, forecast in baselined]
    finish = None
    if baselined:
        finish = (max(f for _, f in baselined) - max(b for b, _ in baselined)).days
    return SlippageRollup(
        milestones=len(dates),
        baselined=len(baselined),
        slipped=sum(1 for days in slips if days > 0),
        worst_days=max(slips) if slips else None,
        finish_days=finish,
    )


# --- Dependencies --------------------------------------------------------------------------


def dependency_cycle(milestone_id: int, depends_on: Collection[int], edges: Iterable[tuple[int, int]]) -> list[int]:
    """The cycle that making `milestone_id` depend on `depends_on` would close, as a path of ids
    from the milestone back to itself; empty when there is none.

    `edges` are the existing (milestone, depends_on) pairs; the milestone's own current
    dependencies are ignored, since `depends_on` replaces them.
    """
    graph: dict[int, list[int]] = defaultdict(list)
    for source, target in edges:
        if source != milestone_id:
            graph[source].append(target)
    for first in depends_on:
        if first == milestone_id:
            return [milestone_id, milestone_id]
        # Depth-first search from the new dependency back to the milestone.
        parent: dict[int, int | None] = {first: None}
        stack = [first]
        while stack:
            node = stack.pop()
            if node == milestone_id:
                path = [node]
                while parent[path[-1]] is not None:
                    path.append(parent[path[-1]])
                return [milestone_id, *reversed(path)]
            for following in graph.get(node, ()):
                if following not in parent:
                    parent[following] = node
                    stack.append(following)
    return []


# --- Report periods ------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """A calendar month or quarter that a progress report covers."""

    start: datetime.date
    end: datetime.date
    cadence: str

    @property
    def label(self) -> str:
        return period_label(self.start, self.cadence)


def period_containing(day: datetime.date, cadence: str) -> Period:
    months = 3 if cadence == QUARTERLY else 1
    first_month = (day.month - 1) // months * months + 1
    start = datetime.date(day.year, first_month, 1)
    next_month = first_month + months
    next_start = datetime.date(day.year + (next_month > 12), (next_month - 1) % 12 + 1, 1)
    return Period(start, next_start - datetime.timedelta(days=1), cadence)


def previous_period(period: Period) -> Period:
    return period_containing(period.start - datetime.timedelta(days=1), period.cadence)


def period_label(start: datetime.date, cadence: str) -> str:
    if cadence == QUARTERLY:
        return f"{start.year} Q{(start.month - 1) // 3 + 1}"
    return start.strftime("%B %Y")


@dataclass(frozen=True)
class ReportDue:
    """The next report an initiative owes, and when it falls due."""

    period: Period
    due_on: datetime.date
    today: datetime.date

    @property
    def overdue(self) -> bool:
        return self.today > self.due_on

    @property
    def days_left(self) -> int:
        return (self.due_on - self.today).days


def next_report_due(
    *,
    cadence: str,
    starts_on: datetime.date,
    reported: Collection[datetime.date],
    today: datetime.date,
    due_days: int,
) -> ReportDue | None:
    """The report owed next: the last finished period while it is unreported, else the current one.

    A period's report is due `due_days` after the period ends. Periods that ended before the
    initiative started are owed nothing; neither is a period not yet begun.
    """
    current = period_containing(today, cadence)
    last = previous_period(current)
    for period in (last, current):
        if period.end < starts_on or period.start in reported:
            continue
        return ReportDue(period=period, due_on=period.end + datetime.timedelta(days=due_days), today=today)
    return None


# --- Baseline comparison -------------------------------------------------------------------


@dataclass(frozen=True)
class ComparedDate:
    """One milestone's date in two schedules (a baseline, or today's forecast)."""

    milestone_id: int
    initiative: str
    title: str
    before: datetime.date | None
    after: datetime.date | None

    @property
    def delta_days(self) -> int | None:
        if self.before is None or self.after is None:
            return None
        return (self.after - self.before).days

    @property
    def change(self) -> str:
        """'added', 'removed', 'later', 'earlier' or 'unchanged', in words for the table."""
        if self.before is None:
            return "added"
        if self.after is None:
            return "removed"
        if self.after > self.before:
            return "later"
        if self.after < self.before:
            return "earlier"
        return "unchanged"


def compare_schedules(
    before: Mapping[int, tuple[str, str, datetime.date]], after: Mapping[int, tuple[str, str, datetime.date]]
) -> list[ComparedDate]:
    """Line up two schedules, each {milestone id: (initiative, title, date)}, milestone by
    milestone, in the order of the earlier date (added milestones last)."""
    rows = []
    for milestone_id in set(before) | set(after):
        initiative, title, _ = after.get(milestone_id) or before[milestone_id]
        rows.append(
            ComparedDate(
                milestone_id=milestone_id,
                initiative=initiative,
                title=title,
                before=before[milestone_id][2] if milestone_id in before else None,
                after=after[milestone_id][2] if milestone_id in after else None,
            )
        )
    return sorted(rows, key=lambda row: (row.before or datetime.date.max, row.after or datetime.date.max, row.title))
