"""Serializers of the metrics and security-posture API."""

from __future__ import annotations

from rest_framework import serializers

from compute import permissions
from compute.choices import ScanKind
from compute.models import MetricSource, Resource, SecurityScan
from governance.api.base import CleanModelSerializer, StrictPrimaryKeyRelatedField


class MetricSourceSerializer(CleanModelSerializer):
    """A metric source. Its Prometheus bearer token is write-only; a push source's own token is
    returned once, in the answer to its creation (or to rotate-token), and never again."""

    bearer_token = serializers.CharField(write_only=True, required=False, allow_blank=True, max_length=500)
    token = serializers.SerializerMethodField()

    class Meta:
        model = MetricSource
        fields = [
            "id",
            "name",
            "kind",
            "url",
            "resource",
            "enabled",
            "bearer_token",
            "queries",
            "selector",
            "rate_window",
            "charter_label",
            "charter_map",
            "step_seconds",
            "last_success_at",
            "last_error",
            "failing_since",
            "collected_until",
            "status_note",
            "token",
        ]
        read_only_fields = ["last_success_at", "last_error", "failing_since", "collected_until", "status_note"]

    def get_token(self, source) -> str | None:
        return getattr(source, "plain_token", None) or None

    def clean_exclude(self) -> list[str]:
        # The token is hashed by the service; bearer_token is checked by the model all the same.
        return [*super().clean_exclude(), "token_hash"]


class SeriesQuerySerializer(serializers.Serializer):
    """The parameters of /api/metrics/series/ (for the schema; the service checks them)."""

    resource = serializers.CharField(help_text="Resource id, or several: resource=1,2 or repeated.")
    metric = serializers.CharField(help_text="e.g. DCGM_FI_DEV_GPU_UTIL, cpu_utilization")
    start = serializers.CharField(required=False, help_text="ISO 8601 or epoch seconds; default end - 24 h")
    end = serializers.CharField(required=False, help_text="ISO 8601 or epoch seconds; default now")
    step = serializers.IntegerField(required=False, help_text="Seconds; raised to keep at most METRICS_MAX_POINTS")
    envelope = serializers.BooleanField(required=False, help_text="Also return min and max per slot.")


class IngestResultSerializer(serializers.Serializer):
    accepted = serializers.IntegerField()
    stored = serializers.IntegerField()
    missing = serializers.IntegerField()
    too_old = serializers.IntegerField()


class SecurityScanSerializer(serializers.ModelSerializer):
    """A scan's numbers for everyone signed in; its findings only for those who may read them."""

    failed_total = serializers.IntegerField(read_only=True)
    findings = serializers.SerializerMethodField()

    class Meta:
        model = SecurityScan
        fields = [
            "id",
            "resource",
            "kind",
            "origin",
            "scanned_at",
            "received_at",
            "filename",
            "tool_version",
            "score",
            "score_max",
            "critical",
            "high",
            "medium",
            "low",
            "unknown",
            "failed_total",
            "warnings",
            "suggestions",
            "passed",
            "attestation",
            "summary",
            "findings",
        ]
        read_only_fields = fields

    def get_findings(self, scan) -> list | None:
        request = self.context.get("request")
        return scan.findings if request and permissions.may_read_findings(request.user) else None


class SecurityReportUploadSerializer(serializers.Serializer):
    resource = StrictPrimaryKeyRelatedField(queryset=Resource.objects.all())
    kind = serializers.ChoiceField(choices=ScanKind.choices, required=False, allow_blank=True)
    file = serializers.FileField()
