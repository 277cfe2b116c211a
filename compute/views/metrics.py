"""Dashboard pages of the metrics half of the compute app: utilization, usage by charter, and
security posture. Charts are drawn by static/js/metrics-dashboards.js from data the page
embeds with json_script; every chart has a freshness line and a table alternative."""

from __future__ import annotations

import datetime
from collections import defaultdict
from decimal import Decimal

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.db.models import Max, Sum
from django.db.models.functions import TruncDay, TruncHour
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from charters.models import Charter
from compute import permissions, selectors
from compute.choices import MetricSourceKind, ResourceStatus, ScanKind, ScanOrigin
from compute.collectors import catalogue
from compute.forms.metrics import RangeForm, ReportUploadForm
from compute.models import MetricSource, Resource, SecurityScan, UsageAttribution
from compute.services.metrics import security

CHART_METRICS = [catalogue.GPU_UTIL, catalogue.CPU_UTILIZATION, catalogue.MEMORY_UTILIZATION]


def _range(request: HttpRequest) -> tuple[RangeForm, datetime.datetime, datetime.datetime]:
    form = RangeForm(request.GET or None)
    span = form.span() if form.is_valid() else RangeForm.DEFAULT_SPAN
    end = timezone.now()
    return form, end - span, end


@login_required
def utilization(request: HttpRequest) -> HttpResponse:
    """GPU, CPU and memory utilization by resource over a selectable range."""
    form, start, end = _range(request)
    resources = list(Resource.objects.visible_to(request.user).exclude(status=ResourceStatus.RETIRED))
    chosen = form.cleaned_data.get("resources") if form.is_bound and form.is_valid() else None
    if chosen:
        resources = [r for r in resources if r in chosen]
    charts = []
    for metric in CHART_METRICS:
        data = (
            selectors.series(
                request.user,
                resources=[str(r.pk) for r in resources],
                metric=metric,
                start=start.isoformat(),
                end=end.isoformat(),
                step=None,
            )
            if resources
            else None
        )
        if data and not any(v is not None for s in data["series"] for v in s["values"]):
            data["empty"] = True
        chart_id = f"chart-{metric.lower().replace('_', '-')}"
        charts.append(
            {
                "id": chart_id,
                "data_id": f"{chart_id}-data",
                "metric": metric,
                "info": catalogue.info(metric),
                "data": data,
            }
        )
    return render(
        request,
        "compute/dashboards/utilization.html",
        {"form": form, "charts": charts, "resources": resources, "sources": _sources(resources)},
    )


def _sources(resources) -> list[dict]:
    rows = []
    for source in MetricSource.objects.filter(resource__in=resources).select_related("resource"):
        rows.append({"source": source, "freshness": selectors.freshness(source)})
    return rows


@login_required
def usage(request: HttpRequest) -> HttpResponse:
    """GPU-hours per charter, stacked by day (by hour over short ranges)."""
    form, start, end = _range(request)
    hourly = end - start <= datetime.timedelta(days=2)
    trunc = TruncHour if hourly else TruncDay
    rows = (
        UsageAttribution.objects.visible_to(request.user)
        .filter(hour__gte=start, hour__lt=end)
        .annotate(bucket=trunc("hour", tzinfo=datetime.UTC))
        .values("bucket", "charter_id")
        .annotate(units=Sum("unit_hours"))
        .order_by("bucket")
    )
    visible = {c.pk: c for c in Charter.objects.visible_to(request.user)}
    by_charter: dict[int, dict[str, float]] = defaultdict(dict)
    totals: dict[int, Decimal] = defaultdict(Decimal)
    buckets = []
    for row in rows:
        if row["charter_id"] not in visible:
            continue
        key = row["bucket"].isoformat().replace("+00:00", "Z")
        if key not in buckets:
            buckets.append(key)
        by_charter[row["charter_id"]][key] = float(row["units"])
        totals[row["charter_id"]] += row["units"]
    series = [
        {
            "name": visible[charter_id].title,
            "times": buckets,
            "values": [values.get(b) for b in buckets],
        }
        for charter_id, values in by_charter.items()
    ]
    table = [{"charter": visible[c], "total": t} for c, t in sorted(totals.items(), key=lambda i: -i[1])]
    latest = UsageAttribution.objects.aggregate(latest=Max("hour"))["latest"]
    prometheus = MetricSource.objects.filter(kind=MetricSourceKind.PROMETHEUS).exclude(charter_label="")
    return render(
        request,
        "compute/dashboards/usage.html",
        {
            "form": form,
            "chart": {"series": series, "unit": "GPU-hours", "granularity": "hour" if hourly else "day"},
            "table": table,
            "latest": latest,
            "sources": [{"source": s, "freshness": selectors.freshness(s)} for s in prometheus],
        },
    )


@login_required
def security_posture(request: HttpRequest) -> HttpResponse:
    """Per resource: latest score of each scanner, vulnerabilities, attestation, staleness, trend."""
    resources = Resource.objects.visible_to(request.user).exclude(status=ResourceStatus.RETIRED)
    postures = selectors.posture(resources)
    since = timezone.now() - datetime.timedelta(days=180)
    history = (
        SecurityScan.objects.filter(resource__in=resources, scanned_at__gte=since)
        .order_by("scanned_at")
        .values("resource_id", "kind", "scanned_at", "score", "critical", "high")
    )
    names = {r.pk: r.name for r in resources}
    stale_threshold = selectors.stale_before()
    trends: dict[str, list[dict]] = {"score": [], "vulnerabilities": []}
    grouped: dict[tuple, dict] = {}
    for scan in history:
        when = scan["scanned_at"].isoformat()
        if scan["kind"] in (ScanKind.OPENSCAP, ScanKind.LYNIS) and scan["score"] is not None:
            key = ("score", scan["resource_id"], scan["kind"])
            label = f"{names[scan['resource_id']]} · {ScanKind(scan['kind']).label.split(' ')[0]}"
            value = scan["score"]
        elif scan["kind"] in (ScanKind.TRIVY, ScanKind.GRYPE):
            key = ("vulnerabilities", scan["resource_id"], "vulns")
            label = f"{names[scan['resource_id']]} · critical + high"
            value = scan["critical"] + scan["high"]
        else:
            continue
        entry = grouped.setdefault(key, {"name": label, "times": [], "values": [], "stale": []})
        entry["times"].append(when)
        entry["values"].append(value)
        entry["stale"].append(scan["scanned_at"] < stale_threshold)
    for (chart, _, _), entry in grouped.items():
        trends[chart].append(entry)
    return render(
        request,
        "compute/dashboards/security.html",
        {
            "postures": postures,
            "trends": trends,
            "upload_form": ReportUploadForm(user=request.user)
            if permissions.may_submit_reports(request.user)
            else None,
            "show_findings": permissions.may_read_findings(request.user),
            "stale_days": settings.SECURITY_SCAN_STALE_DAYS,
            "recent": SecurityScan.objects.filter(resource__in=resources).select_related("resource")[:20],
        },
    )


@login_required
@require_POST
def upload_report(request: HttpRequest) -> HttpResponse:
    """The upload form of the security page: one report file for one resource."""
    if not permissions.may_submit_reports(request.user):
        raise PermissionDenied("Only administrators and report submitters may upload reports.")
    form = ReportUploadForm(request.POST, request.FILES, user=request.user)
    if form.is_valid():
        file = form.cleaned_data["file"]
        try:
            scan = security.ingest_report(
                request.user,
                resource=form.cleaned_data["resource"],
                data=file.read(),
                filename=file.name,
                kind=form.cleaned_data["kind"] or None,
                origin=ScanOrigin.UPLOAD,
            )
        except ValidationError as error:
            messages.error(request, f"The report was not stored: {' '.join(error.messages)}")
        else:
            messages.success(request, f"Stored: {scan}.")
    else:
        messages.error(
            request, "The report was not stored: " + " ".join(e for errs in form.errors.values() for e in errs)
        )
    return redirect("compute:dashboard-security")
