"""Models of the compute app: shared resources, the credit ledger, and collected metrics."""

from compute.models.metrics import (
    DailyRollup,
    HourlyRollup,
    Metric,
    MetricSource,
    Sample,
    UsageAttribution,
)
from compute.models.resources import Resource
from compute.models.security import ReportDirectory, SecurityScan

__all__ = [
    "DailyRollup",
    "HourlyRollup",
    "Metric",
    "MetricSource",
    "ReportDirectory",
    "Resource",
    "Sample",
    "SecurityScan",
    "UsageAttribution",
]
