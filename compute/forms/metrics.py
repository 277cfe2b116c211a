"""Forms of the metrics dashboards: the time range and resources shown, and report uploads."""

from __future__ import annotations

import datetime

from django import forms
from django.conf import settings

from compute.choices import ResourceStatus, ScanKind
from compute.models import Resource
from governance.fields import PortalForm

RANGES = {
    "1h": ("Last hour", datetime.timedelta(hours=1)),
    "6h": ("Last 6 hours", datetime.timedelta(hours=6)),
    "24h": ("Last 24 hours", datetime.timedelta(hours=24)),
    "7d": ("Last 7 days", datetime.timedelta(days=7)),
    "30d": ("Last 30 days", datetime.timedelta(days=30)),
    "90d": ("Last 90 days", datetime.timedelta(days=90)),
    "365d": ("Last year", datetime.timedelta(days=365)),
}


class RangeForm(PortalForm):
    DEFAULT_SPAN = datetime.timedelta(hours=24)

    range = forms.ChoiceField(label="Time range", choices=[(k, v[0]) for k, v in RANGES.items()], initial="24h")
    resources = forms.ModelMultipleChoiceField(
        label="Resources",
        queryset=Resource.objects.exclude(status=ResourceStatus.RETIRED),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text="None ticked: all of them.",
    )

    def span(self) -> datetime.timedelta:
        return RANGES[self.cleaned_data["range"]][1]


class ReportUploadForm(PortalForm):
    resource = forms.ModelChoiceField(queryset=Resource.objects.none())
    kind = forms.ChoiceField(
        label="Report kind",
        choices=[("", "Detect from the file"), *ScanKind.choices],
        required=False,
    )
    file = forms.FileField(
        label="Report file",
        help_text="OpenSCAP results XML, lynis-report.dat, Trivy or Grype JSON, or an attestation JSON.",
    )

    def __init__(self, *args, user=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["resource"].queryset = Resource.objects.visible_to(user).exclude(status=ResourceStatus.RETIRED)

    def clean_file(self):
        file = self.cleaned_data["file"]
        if file.size > settings.SECURITY_REPORT_MAX_BYTES:
            raise forms.ValidationError(f"The report is larger than {settings.SECURITY_REPORT_MAX_BYTES:,} bytes.")
        return file
