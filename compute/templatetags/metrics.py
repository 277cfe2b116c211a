"""Turning a series answer into the chart's compact data and the table beside each chart."""

import json

from django import template
from django.utils.html import json_script

register = template.Library()


@register.filter
def series_rows(data: dict) -> list[dict]:
    """One row per time slot, one value per resource ('—' where data is missing); a run of
    slots where no resource has data is one row ("no data from … to …"), not hundreds of dashes."""
    series = data.get("series") or []
    if not series:
        return []
    times = data["times"]
    rows: list[dict] = []
    for i, t in enumerate(times):
        time = t.replace("T", " ").replace("Z", "")
        values = [s["values"][i] for s in series]
        if all(v is None for v in values):
            if rows and rows[-1].get("gap"):
                rows[-1]["until"] = time
            else:
                rows.append({"time": time, "until": time, "gap": True, "span": len(series)})
            continue
        # Formatted here, not by floatformat per cell: a table holds thousands of cells.
        rows.append({"time": time, "values": ["—" if v is None else f"{v:.1f}" for v in values]})
    return rows


@register.filter
def chart_json(data: dict, element_id: str):
    """The part of a series answer the chart script draws (times, unit, each drawn series' name
    and values), as compact JSON in a json_script element: the freshness and the table are in the
    page already. The slots' times are given as the first and the step."""
    times = data["times"]
    payload = {
        "unit": data.get("unit") or "",
        # The slots are evenly spaced: the first and the step stand for all of them.
        "first": times[0] if times else None,
        "step": data["step"],
        "slots": len(times),
        "series": [{"resource_name": s["resource_name"], "values": s["values"]} for s in data["series"]],
    }
    return json_script(payload, element_id, encoder=_Compact)


class _Compact(json.JSONEncoder):
    def __init__(self, *args, **kwargs):
        kwargs["separators"] = (",", ":")
        super().__init__(*args, **kwargs)
