"""Collected infrastructure metrics: where they come from, the raw samples and their rollups,
and the GPU-hours each charter used, derived from them.

The samples and rollups are keyed by (resource, metric, time): that composite primary key is
the upsert key that makes a collector re-run idempotent, and the index a series query reads
by. A 30-day chart reads the hourly rollup (720 rows a series), never the raw minutes.
"""

from __future__ import annotations

import hashlib

from django.core.exceptions import ValidationError
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from compute.choices import MetricSourceKind
from compute.collectors import catalogue
from governance.models import TimeStampedModel


def hash_token(token: str) -> str:
    """Push tokens are kept only as their SHA-256: a database leak gives no agent's token away."""
    return hashlib.sha256(token.encode()).hexdigest()


class MetricSourceQuerySet(models.QuerySet):
    def visible_to(self, user) -> MetricSourceQuerySet:
        """Every signed-in user may see where the utilization figures come from."""
        if not (user and user.is_authenticated):
            return self.none()
        return self


class MetricSource(TimeStampedModel):
    """A place metrics come from for one resource: a Prometheus server, agents pushing to the
    API with this source's token, or the host the portal runs on."""

    name = models.CharField(max_length=120)
    kind = models.CharField(max_length=20, choices=MetricSourceKind.choices)
    resource = models.ForeignKey("compute.Resource", on_delete=models.PROTECT, related_name="metric_sources")
    enabled = models.BooleanField(default=True)
    url = models.URLField("base URL", blank=True, help_text="Prometheus only, e.g. http://prometheus:9090")
    bearer_token = models.CharField(
        max_length=500, blank=True, help_text="Prometheus only: sent as 'Authorization: Bearer …' when set."
    )
    queries = models.JSONField(
        default=dict,
        blank=True,
        help_text="Prometheus only: metric name → PromQL. Empty means the portal's defaults "
        "(CPU from node_exporter, GPUs from the DCGM exporter).",
    )
    selector = models.CharField(
        max_length=500,
        blank=True,
        help_text='Label matchers added to the default queries, e.g. job="gpu-cluster-a".',
    )
    rate_window = models.CharField(max_length=16, default="5m", help_text="Range of rate() in the default queries.")
    charter_label = models.CharField(
        max_length=100, blank=True, help_text="Prometheus label naming the charter (project) that uses a GPU."
    )
    charter_map = models.JSONField(
        default=dict,
        blank=True,
        help_text="Label value → charter id. A value not listed here is read as a charter id itself.",
    )
    step_seconds = models.PositiveIntegerField(
        default=60, validators=[MinValueValidator(1), MaxValueValidator(3600)], help_text="Sample spacing."
    )
    token_hash = models.CharField(max_length=64, blank=True, editable=False)

    # Collection state, written by the collectors only.
    last_success_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)
    last_error_at = models.DateTimeField(null=True, blank=True, editable=False)
    failing_since = models.DateTimeField(null=True, blank=True, editable=False)
    consecutive_failures = models.PositiveIntegerField(default=0, editable=False)
    next_attempt_at = models.DateTimeField(null=True, blank=True, editable=False)
    collected_until = models.DateTimeField(null=True, blank=True, editable=False)
    attributed_until = models.DateTimeField(null=True, blank=True, editable=False)
    status_note = models.CharField(max_length=500, blank=True, editable=False)

    objects = MetricSourceQuerySet.as_manager()

    # A new push source's token, set by sources.create_source and shown once; only its hash is kept.
    plain_token: str = ""

    class Meta:
        ordering = ["name"]
        constraints = [
            models.UniqueConstraint(
                fields=["name"], name="metricsource_unique_name", violation_error_message="A source has this name."
            ),
            models.UniqueConstraint(
                fields=["token_hash"],
                condition=~Q(token_hash=""),
                name="metricsource_unique_token",
                violation_error_message="This token is already in use.",
            ),
            models.CheckConstraint(
                condition=~Q(kind=MetricSourceKind.PROMETHEUS) | ~Q(url=""),
                name="metricsource_prometheus_has_url",
                violation_error_message="A Prometheus source needs its base URL.",
            ),
        ]

    def __str__(self) -> str:
        return self.name

    def clean(self) -> None:
        errors: dict[str, str] = {}
        if self.kind != MetricSourceKind.PROMETHEUS:
            for name in ("url", "bearer_token", "charter_label", "selector"):
                if getattr(self, name):
                    errors[name] = "Only a Prometheus source takes this."
        if not isinstance(self.queries, dict):
            errors["queries"] = "Give an object of metric name → PromQL."
        else:
            for metric, query in self.queries.items():
                if not catalogue.METRIC_NAME.match(str(metric)):
                    errors["queries"] = f"'{metric}' is not a valid metric name."
                elif not isinstance(query, str) or not query.strip():
                    errors["queries"] = f"The query for '{metric}' must be a non-empty string."
                elif problem := catalogue.counter_problem(query):
                    errors["queries"] = f"{metric}: {problem}"
        if not isinstance(self.charter_map, dict) or not all(
            isinstance(v, int) and not isinstance(v, bool) for v in self.charter_map.values()
        ):
            errors["charter_map"] = "Give an object of label value → charter id (a whole number)."
        if errors:
            raise ValidationError(errors)

    def effective_queries(self) -> dict[str, str]:
        """Metric name → PromQL with this source's selector and window filled in."""
        templates = self.queries or {name: m.promql for name, m in catalogue.CATALOGUE.items()}
        return {
            name: catalogue.render(query, selector=self.selector, window=self.rate_window)
            for name, query in templates.items()
        }

    def attribution_query(self) -> str | None:
        if not self.charter_label:
            return None
        return catalogue.render(catalogue.ATTRIBUTION_QUERY, selector=self.selector, charter_label=self.charter_label)


class Metric(models.Model):
    """A metric name the store has seen, kept once so samples carry a small id, not the text."""

    name = models.CharField(max_length=200, unique=True)
    unit = models.CharField(max_length=20, blank=True)
    label = models.CharField(max_length=200, blank=True)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class Sample(models.Model):
    """One raw value of a metric on a resource at an instant (whole seconds, UTC).

    Missing values are never stored (no zero, no NaN): a gap is the absence of a row."""

    pk = models.CompositePrimaryKey("resource_id", "metric_id", "time")
    # The composite primary key already indexes resource first; no separate index is wanted on
    # tables written at this rate. No foreign-key constraint in the database either: checking
    # two keys for each of a batch's 100,000 rows at commit took longer than writing them.
    # store.ingest checks the batch's few resources and metrics exist instead, and deleting a
    # resource or metric still deletes its samples (Django's CASCADE).
    resource = models.ForeignKey(
        "compute.Resource", on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False
    )
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="+", db_index=False, db_constraint=False)
    time = models.DateTimeField()
    value = models.FloatField()

    class Meta:
        # No index on time alone: each extra index slows every ingestion, and retention
        # purges series by series through the primary key instead.
        db_table = "compute_metric_sample"

    def __str__(self) -> str:
        return f"{self.metric_id}@{self.resource_id} {self.time:%Y-%m-%d %H:%M:%S} = {self.value}"


class Rollup(models.Model):
    """Count, sum, minimum and maximum of the raw samples in one bucket: the mean is sum/count,
    and coarser buckets combine exactly (sums add, minima take the least)."""

    count = models.PositiveIntegerField()
    sum = models.FloatField()
    min = models.FloatField()
    max = models.FloatField()

    class Meta:
        abstract = True

    def __str__(self) -> str:
        return f"{self.metric_id}@{self.resource_id} {self.bucket:%Y-%m-%d %H:%M} mean {self.mean:.3g}"

    @property
    def mean(self) -> float:
        return self.sum / self.count


class HourlyRollup(Rollup):
    pk = models.CompositePrimaryKey("resource_id", "metric_id", "bucket")
    # The composite primary key already indexes resource first; no separate index is wanted on
    # tables written at this rate.
    resource = models.ForeignKey("compute.Resource", on_delete=models.CASCADE, related_name="+", db_index=False)
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="+", db_index=False)
    bucket = models.DateTimeField(help_text="Start of the hour (UTC).")

    class Meta:
        db_table = "compute_metric_hourly"


class DailyRollup(Rollup):
    pk = models.CompositePrimaryKey("resource_id", "metric_id", "bucket")
    # The composite primary key already indexes resource first; no separate index is wanted on
    # tables written at this rate.
    resource = models.ForeignKey("compute.Resource", on_delete=models.CASCADE, related_name="+", db_index=False)
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="+", db_index=False)
    bucket = models.DateTimeField(help_text="Start of the day (UTC).")

    class Meta:
        db_table = "compute_metric_daily"


class SeriesVersion(models.Model):
    """Which write a series' rollups were last changed by: a fresh token per ingested batch.

    Series answers are cached, pre-serialised, under the token of each series they read
    (compute.services.metrics.series_cache), so a batch that changes a series makes every
    cached answer over it unreachable, in the same transaction as the rollups."""

    pk = models.CompositePrimaryKey("resource_id", "metric_id")
    resource = models.ForeignKey("compute.Resource", on_delete=models.CASCADE, related_name="+", db_index=False)
    metric = models.ForeignKey(Metric, on_delete=models.CASCADE, related_name="+", db_index=False)
    token = models.UUIDField()

    class Meta:
        db_table = "compute_metric_series_version"

    def __str__(self) -> str:
        return f"{self.metric_id}@{self.resource_id} {self.token}"


class UsageAttributionQuerySet(models.QuerySet):
    def visible_to(self, user) -> UsageAttributionQuerySet:
        """Aggregate usage is public within the portal (DESIGN.md: auditors and the public read it)."""
        if not (user and user.is_authenticated):
            return self.none()
        return self


class UsageAttribution(models.Model):
    """GPU-hours a charter used on a resource in one hour, as derived from a source's metrics.

    (source, resource, charter, hour) is the key the ledger's usage debits are idempotent on;
    `posted_at` says when the ledger accepted this row."""

    source = models.ForeignKey(MetricSource, on_delete=models.PROTECT, related_name="attributions")
    resource = models.ForeignKey("compute.Resource", on_delete=models.PROTECT, related_name="usage_attributions")
    charter = models.ForeignKey("charters.Charter", on_delete=models.PROTECT, related_name="usage_attributions")
    hour = models.DateTimeField(help_text="Start of the hour (UTC).")
    unit_hours = models.DecimalField(max_digits=14, decimal_places=4)
    posted_at = models.DateTimeField(null=True, blank=True)

    objects = UsageAttributionQuerySet.as_manager()

    class Meta:
        ordering = ["-hour"]
        constraints = [
            models.UniqueConstraint(
                fields=["source", "resource", "charter", "hour"],
                name="usageattribution_unique_key",
                violation_error_message="This hour of usage is already attributed.",
            ),
            models.CheckConstraint(
                condition=Q(unit_hours__gte=0),
                name="usageattribution_non_negative",
                violation_error_message="Usage cannot be negative.",
            ),
        ]
        indexes = [models.Index(fields=["charter", "hour"], name="usageattribution_charter_idx")]

    def __str__(self) -> str:
        return f"{self.unit_hours} on {self.resource_id} by charter {self.charter_id} at {self.hour:%Y-%m-%d %H:00}"
