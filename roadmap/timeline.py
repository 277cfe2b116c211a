"""The roadmap timeline as a plotly Gantt figure, built on the server.

One row per milestone, grouped by initiative: a grey bar for the baseline and a dark bar for
the forecast (each from the milestone's start to its date), the milestone as a marker whose
shape and colour both say its status, dependency lines from a dependency's marker to the start
of the milestone that waits on it (dashed red where the forecast comes before the dependency's),
and a line for today. The page script draws it with the plotly.js served from static.

The figure is plotly's JSON built as plain dictionaries: plotly.graph_objects validates every
property as it goes, which cost half a second for 500 milestones; the tests validate the same
figure with graph_objects instead, so a misspelt property still fails loudly.

A milestone starts when the latest of its dependencies is due, or when its initiative starts.
"""

from __future__ import annotations

import datetime

from roadmap.choices import MilestoneStatus
from roadmap.models import Initiative, Milestone

# Shape and colour both carry the status, so it never rests on colour alone.
STATUS_STYLE: dict[str, tuple[str, str]] = {
    MilestoneStatus.PLANNED: ("circle-open", "#4a5562"),
    MilestoneStatus.IN_PROGRESS: ("circle", "#0b57a4"),
    MilestoneStatus.DONE: ("diamond", "#1e6b34"),
    MilestoneStatus.AT_RISK: ("triangle-up", "#8a5300"),
    MilestoneStatus.BLOCKED: ("x", "#a3161b"),
}
BASELINE_COLOUR = "#9aa5b1"
FORECAST_COLOUR = "#12355b"
CONFLICT_COLOUR = "#a3161b"
DAY_MS = 86_400_000


def _start(dates: list[datetime.date | None], fallback: datetime.date, end: datetime.date) -> datetime.date:
    known = [d for d in dates if d is not None]
    return min(max(known) if known else fallback, end)


def _label(initiative: Initiative, milestone: Milestone) -> str:
    def short(text: str, size: int) -> str:
        return text if len(text) <= size else text[: size - 1] + "…"

    return f"{short(initiative.title, 28)} · {short(milestone.title, 36)}"


def figure(initiatives: list[Initiative], *, today: datetime.date, milestone_url) -> dict:
    """The figure as plotly JSON, from initiatives carrying `shown_milestones`, each with its
    `dependencies` (roadmap.selectors.timeline_initiatives). `milestone_url(pk)` gives the page
    a marker opens."""
    rows: list[tuple[Initiative, Milestone]] = [(i, m) for i in initiatives for m in i.shown_milestones]
    row_of = {m.pk: f"m{m.pk}" for _, m in rows}

    baseline_bars = {"base": [], "x": [], "y": [], "text": []}
    forecast_bars = {"base": [], "x": [], "y": [], "text": []}
    markers: dict[str, dict[str, list]] = {status: {"x": [], "y": [], "text": [], "url": []} for status in STATUS_STYLE}
    baseline_marks = {"x": [], "y": []}
    links = {"x": [], "y": []}
    conflicts = {"x": [], "y": []}

    for initiative, m in rows:
        y = row_of[m.pk]
        deps = m.dependencies
        end = m.actual_date or m.forecast_date
        start = _start([d.forecast_date for d in deps], initiative.starts_on, end)
        slip = m.slippage_days
        slip_text = "not baselined" if slip is None else f"{slip:+d} days"
        forecast_bars["base"].append(start.isoformat())
        forecast_bars["x"].append((end - start).days * DAY_MS)
        forecast_bars["y"].append(y)
        forecast_bars["text"].append(f"Forecast {start:%d %b %Y} → {end:%d %b %Y} ({slip_text})")
        if m.baseline_date is not None:
            baseline_start = _start([d.baseline_date for d in deps], initiative.starts_on, m.baseline_date)
            baseline_bars["base"].append(baseline_start.isoformat())
            baseline_bars["x"].append((m.baseline_date - baseline_start).days * DAY_MS)
            baseline_bars["y"].append(y)
            baseline_bars["text"].append(f"Baseline {baseline_start:%d %b %Y} → {m.baseline_date:%d %b %Y}")
            baseline_marks["x"].append(m.baseline_date.isoformat())
            baseline_marks["y"].append(y)
        point = markers[m.status]
        point["x"].append(end.isoformat())
        point["y"].append(y)
        point["text"].append(
            f"<b>{m.title}</b><br>{initiative.title}<br>{m.get_status_display()}, {m.percent_complete} %"
            f"<br>Forecast {m.forecast_date:%d %b %Y}, slippage {slip_text}"
        )
        point["url"].append(milestone_url(m.pk))
        for dep in deps:
            if dep.pk not in row_of:
                continue
            if m.forecast_date < dep.forecast_date:
                conflicts["x"] += [dep.forecast_date.isoformat(), m.forecast_date.isoformat(), None]
                conflicts["y"] += [row_of[dep.pk], y, None]
            else:
                links["x"] += [dep.forecast_date.isoformat(), start.isoformat(), None]
                links["y"] += [row_of[dep.pk], y, None]

    traces = [
        {
            "type": "bar",
            "name": "Baseline",
            "orientation": "h",
            "base": baseline_bars["base"],
            "x": baseline_bars["x"],
            "y": baseline_bars["y"],
            "hovertext": baseline_bars["text"],
            "hoverinfo": "text",
            "marker": {"color": BASELINE_COLOUR},
        },
        {
            "type": "bar",
            "name": "Forecast",
            "orientation": "h",
            "base": forecast_bars["base"],
            "x": forecast_bars["x"],
            "y": forecast_bars["y"],
            "hovertext": forecast_bars["text"],
            "hoverinfo": "text",
            "marker": {"color": FORECAST_COLOUR},
        },
        {
            "type": "scatter",
            "name": "Dependency",
            "mode": "lines",
            "x": links["x"],
            "y": links["y"],
            "hoverinfo": "skip",
            "line": {"color": "#4a5562", "width": 1},
        },
        {
            "type": "scatter",
            "name": "Forecast before dependency",
            "mode": "lines",
            "x": conflicts["x"],
            "y": conflicts["y"],
            "hoverinfo": "skip",
            "line": {"color": CONFLICT_COLOUR, "width": 2, "dash": "dash"},
            "visible": True if conflicts["x"] else "legendonly",
        },
        {
            "type": "scatter",
            "name": "Baseline date",
            "mode": "markers",
            "x": baseline_marks["x"],
            "y": baseline_marks["y"],
            "hoverinfo": "skip",
            "marker": {"symbol": "line-ns-open", "size": 14, "color": BASELINE_COLOUR, "line": {"width": 2}},
        },
    ]
    for status, (symbol, colour) in STATUS_STYLE.items():
        point = markers[status]
        traces.append(
            {
                "type": "scatter",
                "name": MilestoneStatus(status).label,
                "mode": "markers",
                "x": point["x"],
                "y": point["y"],
                "hovertext": point["text"],
                "hoverinfo": "text",
                "customdata": point["url"],
                "marker": {"symbol": symbol, "size": 12, "color": colour, "line": {"width": 2, "color": colour}},
            }
        )
    layout = dict(
        barmode="group",
        bargap=0.35,
        height=140 + 30 * max(len(rows), 3),
        margin={"l": 10, "r": 10, "t": 30, "b": 40},
        legend={"orientation": "h", "y": -0.08 if rows else 0},
        xaxis={"type": "date", "showgrid": True, "gridcolor": "#e3e8ee"},
        yaxis={
            "type": "category",
            "autorange": "reversed",
            "automargin": True,
            "tickvals": [row_of[m.pk] for _, m in rows],
            "ticktext": [_label(i, m) for i, m in rows],
            "categoryorder": "array",
            "categoryarray": [row_of[m.pk] for _, m in rows],
        },
        shapes=[
            {
                "type": "line",
                "x0": today.isoformat(),
                "x1": today.isoformat(),
                "yref": "paper",
                "y0": 0,
                "y1": 1,
                "line": {"color": "#12355b", "width": 2, "dash": "dot"},
            }
        ],
        annotations=[
            {
                "x": today.isoformat(),
                "yref": "paper",
                "y": 1,
                "yanchor": "bottom",
                "text": "Today",
                "showarrow": False,
                "font": {"color": "#12355b"},
            }
        ],
    )
    return {"data": traces, "layout": layout}
