"""Turning a series answer into rows of the table that stands beside each chart."""

from django import template

register = template.Library()


@register.filter
def series_rows(data: dict) -> list[dict]:
    """One row per time slot, one value per resource (None where data is missing)."""
    series = data.get("series") or []
    if not series:
        return []
    times = data["times"]
    return [
        {"time": t.replace("T", " ").replace("Z", ""), "values": [s["values"][i] for s in series]}
        for i, t in enumerate(times)
    ]
