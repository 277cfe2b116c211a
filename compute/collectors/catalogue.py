"""The metrics the portal knows by name, and the PromQL that a Prometheus source asks for each.

GPU metrics keep the names NVIDIA's DCGM exporter gives them; CPU utilization is derived from
node_exporter's `node_cpu_seconds_total`, a counter, through `rate()`. A stored series is one
number per resource and instant, so every query aggregates over the GPUs or CPUs it matches.

`$selector` in a query is replaced by the source's extra label matchers (e.g. `job="gpu-a"`),
`$window` by its rate window, and `$charter_label` by the label that names the charter.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from string import Template


@dataclass(frozen=True)
class MetricInfo:
    name: str
    label: str
    unit: str
    promql: str


CPU_UTILIZATION = "cpu_utilization"
MEMORY_UTILIZATION = "memory_utilization"
GPU_UTIL = "DCGM_FI_DEV_GPU_UTIL"
GPU_FB_USED = "DCGM_FI_DEV_FB_USED"
GPU_POWER = "DCGM_FI_DEV_POWER_USAGE"
GPU_ENGINE_ACTIVE = "DCGM_FI_PROF_GR_ENGINE_ACTIVE"
GPU_COUNT = "gpu_count"

CATALOGUE: dict[str, MetricInfo] = {
    info.name: info
    for info in [
        MetricInfo(
            CPU_UTILIZATION,
            "CPU utilization",
            "%",
            '100 * (1 - avg(rate(node_cpu_seconds_total{mode="idle",$selector}[$window])))',
        ),
        MetricInfo(
            MEMORY_UTILIZATION,
            "Memory utilization",
            "%",
            "100 * (1 - sum(node_memory_MemAvailable_bytes{$selector}) / sum(node_memory_MemTotal_bytes{$selector}))",
        ),
        MetricInfo(GPU_UTIL, "GPU utilization", "%", "avg(DCGM_FI_DEV_GPU_UTIL{$selector})"),
        MetricInfo(GPU_FB_USED, "GPU memory used", "MiB", "sum(DCGM_FI_DEV_FB_USED{$selector})"),
        MetricInfo(GPU_POWER, "GPU power draw", "W", "sum(DCGM_FI_DEV_POWER_USAGE{$selector})"),
        MetricInfo(
            GPU_ENGINE_ACTIVE,
            "GPU graphics engine active (MIG-aware)",
            "ratio",
            "avg(DCGM_FI_PROF_GR_ENGINE_ACTIVE{$selector})",
        ),
        MetricInfo(GPU_COUNT, "GPUs reporting", "GPUs", "count(DCGM_FI_DEV_GPU_UTIL{$selector})"),
    ]
}

# GPUs held per charter: the DCGM exporter labels each GPU with the pod (and so the project)
# that holds it; a GPU without that label is idle or unattributed and is not charged.
ATTRIBUTION_QUERY = 'count by ($charter_label) (DCGM_FI_DEV_GPU_UTIL{$charter_label!="",$selector})'

METRIC_NAME = re.compile(r"^[a-zA-Z_:][a-zA-Z0-9_:]{0,199}$")
# A counter only ever grows; its raw value says nothing about utilization. Prometheus's own
# naming convention marks counters with `_total` (and `_count`/`_sum` for histograms).
COUNTER_NAME = re.compile(r"\b([a-zA-Z_:][a-zA-Z0-9_:]*(?:_total|_count|_sum|_bucket))\b")
COUNTER_FUNCTIONS = {"rate", "irate", "increase", "resets", "changes"}
CALL_OR_CLOSE = re.compile(r"([a-zA-Z_]*)\s*\(|\)")


def info(name: str) -> MetricInfo:
    """What the portal knows about a metric; unknown (pushed) metrics get a plain description."""
    return CATALOGUE.get(name) or MetricInfo(name, name, "", "")


# What a reading of each unit can plausibly be: a utilization is 0-100 %, a ratio 0-1, the power
# of a resource below ten megawatts. A value outside is a broken exporter or a hostile client;
# bounding every stored value also keeps the rollups' sums finite (1.7e308 once made them inf).
PLAUSIBLE_BY_UNIT: dict[str, tuple[float, float]] = {
    "%": (0.0, 100.0),
    "ratio": (0.0, 1.0),
    "W": (0.0, 1e7),
    "MiB": (0.0, 1e10),
    "GPUs": (0.0, 1e6),
}
PLAUSIBLE_OTHERWISE = (-1e15, 1e15)
# What the store takes from any collector: sums of a year of minutes of such values stay finite.
STORABLE = 1e15


def plausible_range(name: str) -> tuple[float, float]:
    """The lowest and highest value a reading of metric `name` may have."""
    return PLAUSIBLE_BY_UNIT.get(info(name).unit, PLAUSIBLE_OTHERWISE)


def is_plausible(name: str, value: float) -> bool:
    low, high = plausible_range(name)
    return low <= value <= high


def is_storable(value: float) -> bool:
    """Finite and small enough that no rollup of it can overflow."""
    return -STORABLE <= value <= STORABLE


def render(query: str, *, selector: str = "", window: str = "5m", charter_label: str = "") -> str:
    """Fill a query template's placeholders for one source."""
    return Template(query).safe_substitute(selector=selector, window=window, charter_label=charter_label)


def _open_calls(text: str) -> list[str]:
    """The function calls still open at the end of `text`, outermost first."""
    stack: list[str] = []
    for match in CALL_OR_CLOSE.finditer(text):
        if match.group(0) == ")":
            if stack:
                stack.pop()
        else:
            stack.append(match.group(1))
    return stack


def counter_problem(query: str) -> str | None:
    """Why a query reads a counter's raw value (a mistake), or None when it does not."""
    for match in COUNTER_NAME.finditer(query):
        if not COUNTER_FUNCTIONS.intersection(_open_calls(query[: match.start()])):
            name = match.group(1)
            return f"'{name}' is a counter: wrap it in rate() or increase(), e.g. rate({name}[5m])."
    return None
