"""Exports of the roadmap: milestones as CSV, and milestone dates as an iCalendar feed."""

from __future__ import annotations

import datetime
import io
from collections.abc import Iterable

import icalendar
from django.utils import timezone

from governance import values
from governance.exports import SafeWriter
from roadmap.models import Milestone

CSV_COLUMNS = [
    "roadmap_version",
    "initiative",
    "milestone_id",
    "milestone",
    "status",
    "percent_complete",
    "baseline_date",
    "forecast_date",
    "actual_date",
    "slippage_days",
    "depends_on",
    "forecast_before_dependency",
    "deliverables",
]


def milestones_csv(version: int, milestones: Iterable[Milestone]) -> str:
    """One row per milestone (their initiative and dependencies loaded), dates in ISO form."""
    out = io.StringIO()
    writer = SafeWriter(out)
    writer.writerow(CSV_COLUMNS)
    for m in milestones:
        deps = list(m.depends_on.all())
        writer.writerow(
            [
                version,
                m.initiative.title,
                m.pk,
                m.title,
                m.status,
                m.percent_complete,
                m.baseline_date.isoformat() if m.baseline_date else "",
                m.forecast_date.isoformat(),
                m.actual_date.isoformat() if m.actual_date else "",
                "" if m.slippage_days is None else m.slippage_days,
                " ".join(str(d.pk) for d in deps),
                "yes" if m.dependency_conflicts() else "no",
                "; ".join(m.deliverable_list()),
            ]
        )
    return out.getvalue()


def milestones_ical(milestones: Iterable[Milestone], *, site_url: str, milestone_path) -> bytes:
    """An iCalendar of all-day events, one per milestone on its forecast (or actual) date.

    Each event keeps a stable UID, so calendar clients update it when the forecast moves; the
    description gives the baseline, slippage and status.
    """
    calendar = icalendar.Calendar()
    calendar.add("prodid", "-//TGB portal//Joint R&D roadmap//EN")
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("x-wr-calname", "TGB roadmap milestones")
    stamp = timezone.now()
    for m in milestones:
        day = m.actual_date or m.forecast_date
        if not values.EARLIEST <= day <= values.LATEST:
            continue  # a date kept from before the horizon rule: no event rather than no feed
        event = icalendar.Event()
        event.add("uid", f"milestone-{m.pk}@tgb-portal")
        event.add("dtstamp", stamp)
        event.add("dtstart", day)
        event.add("dtend", day + datetime.timedelta(days=1))
        event.add("summary", values.one_line(f"{m.title} ({m.initiative.title})"))
        baseline = m.baseline_date.isoformat() if m.baseline_date else "not baselined"
        slip = "" if m.slippage_days is None else f", slippage {m.slippage_days:+d} days"
        event.add(
            "description",
            f"{m.get_status_display()}, {m.percent_complete} % complete. Baseline {baseline}{slip}.",
        )
        event.add("url", site_url.rstrip("/") + milestone_path(m.pk))
        event.add("status", "CONFIRMED")
        event.add("transp", "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()
