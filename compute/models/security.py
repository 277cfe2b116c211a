"""Security posture of the shared resources: every scan result kept, so trends can be drawn.

A scan is one report of one tool about one resource (OpenSCAP, Lynis, Trivy, Grype, or a TEE
attestation), reduced to the numbers a trend needs (score, findings by severity) plus a capped
list of the findings themselves. Reports are never edited; a new scan is a new row.
"""

from __future__ import annotations

from pathlib import Path

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from compute.choices import AttestationStatus, ScanKind, ScanOrigin


class SecurityScanQuerySet(models.QuerySet):
    def visible_to(self, user) -> SecurityScanQuerySet:
        """Every signed-in user sees the posture (scores and counts); who may read the findings
        themselves is compute.permissions.may_read_findings."""
        if not (user and user.is_authenticated):
            return self.none()
        return self


class SecurityScan(models.Model):
    """One security report about one resource, as ingested."""

    resource = models.ForeignKey("compute.Resource", on_delete=models.PROTECT, related_name="security_scans")
    kind = models.CharField(max_length=20, choices=ScanKind.choices)
    origin = models.CharField(max_length=20, choices=ScanOrigin.choices)
    scanned_at = models.DateTimeField(help_text="When the tool ran (from the report when it says).")
    received_at = models.DateTimeField(auto_now_add=True)
    digest = models.CharField(max_length=64, help_text="SHA-256 of the report file.")
    filename = models.CharField(max_length=255, blank=True)
    tool_version = models.CharField(max_length=100, blank=True)
    score = models.FloatField(null=True, blank=True, help_text="OpenSCAP score or Lynis hardening index.")
    score_max = models.FloatField(null=True, blank=True)
    critical = models.PositiveIntegerField(default=0)
    high = models.PositiveIntegerField(default=0)
    medium = models.PositiveIntegerField(default=0)
    low = models.PositiveIntegerField(default=0)
    unknown = models.PositiveIntegerField(default=0)
    warnings = models.PositiveIntegerField(null=True, blank=True, help_text="Lynis warnings.")
    suggestions = models.PositiveIntegerField(null=True, blank=True, help_text="Lynis suggestions.")
    passed = models.PositiveIntegerField(null=True, blank=True, help_text="OpenSCAP rules that passed.")
    attestation = models.CharField(max_length=20, choices=AttestationStatus.choices, blank=True)
    summary = models.JSONField(default=dict, blank=True)
    findings = models.JSONField(default=list, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = SecurityScanQuerySet.as_manager()

    class Meta:
        ordering = ["-scanned_at"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "kind", "digest"],
                name="securityscan_unique_report",
                violation_error_message="This report has already been ingested for this resource.",
            ),
            models.CheckConstraint(
                condition=~Q(kind=ScanKind.ATTESTATION) | ~Q(attestation=""),
                name="securityscan_attestation_has_status",
                violation_error_message="An attestation records whether it was verified.",
            ),
        ]
        indexes = [models.Index(fields=["resource", "kind", "scanned_at"], name="securityscan_trend_idx")]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} of {self.resource} at {self.scanned_at:%Y-%m-%d %H:%M}"

    @property
    def failed_total(self) -> int:
        return self.critical + self.high + self.medium + self.low + self.unknown


class ReportDirectory(models.Model):
    """A directory, per resource, where scanners drop their reports for the portal to pick up."""

    resource = models.ForeignKey("compute.Resource", on_delete=models.PROTECT, related_name="report_directories")
    path = models.CharField(max_length=500, help_text="Inside SECURITY_REPORTS_ROOT.")
    enabled = models.BooleanField(default=True)
    last_checked_at = models.DateTimeField(null=True, blank=True, editable=False)
    last_error = models.TextField(blank=True, editable=False)

    class Meta:
        ordering = ["path"]
        constraints = [
            models.UniqueConstraint(
                fields=["resource", "path"],
                name="reportdirectory_unique_path",
                violation_error_message="This directory is already watched for this resource.",
            )
        ]

    def __str__(self) -> str:
        return self.path

    def resolved(self) -> Path:
        root = Path(settings.SECURITY_REPORTS_ROOT).resolve()
        path = Path(self.path)
        return (path if path.is_absolute() else root / path).resolve()

    def clean(self) -> None:
        root = Path(settings.SECURITY_REPORTS_ROOT).resolve()
        if not self.resolved().is_relative_to(root):
            raise ValidationError({"path": f"A watched directory must lie inside {root}."})
