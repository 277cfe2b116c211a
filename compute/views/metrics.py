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
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_POST

from charters.models import Charter
from compute import permissions, selectors
from compute.choices import MetricSourceKind, ResourceKind, ResourceStatus, ScanKind, ScanOrigin
from compute.collectors import catalogue
from compute.forms.metrics import RANGES, RangeForm, ReportUploadForm
from compute.models import MetricSource, Resource, SecurityScan, UsageAttribution
from compute.services.metrics import security, series_cache

# Each chart and the kinds of resource it is about: a GPU chart lists GPU clusters only, never
# storage or CPU pools; CPU and memory apply to every kind.
CHART_METRICS = [
    (catalogue.GPU_UTIL, {ResourceKind.GPU_CLUSTER}),
    (catalogue.CPU_UTILIZATION, None),
    (catalogue.MEMORY_UTILIZATION, None),
]


def _range(request: HttpRequest) -> tuple[RangeForm, datetime.datetime, datetime.datetime]:
    form = RangeForm(request.GET or None)
    span = form.span() if form.is_valid() else RangeForm.DEFAULT_SPAN
    end = timezone.now()
    return form, end - span, end


def _asked(form: RangeForm) -> str:
    key = form.cleaned_data["range"] if form.is_bound and form.is_valid() else "24h"
    return RANGES[key][0]


def _charts(request: HttpRequest, metrics=CHART_METRICS):
    form, start, end = _range(request)
    resources = list(Resource.objects.visible_to(request.user).exclude(status=ResourceStatus.RETIRED))
    chosen = form.cleaned_data.get("resources") if form.is_bound and form.is_valid() else None
    if chosen:
        resources = [r for r in resources if r in chosen]
    asked = _asked(form)
    # What each chart's series would look up again (the resources, their sources, the metric).
    lookups = selectors.series_lookups(request.user, [r.pk for r in resources], [metric for metric, _ in metrics])
    charts = []
    for metric, kinds in metrics:
        about = [r for r in resources if kinds is None or r.kind in kinds]
        data = (
            selectors.drawable(
                selectors.series(
                    request.user,
                    resources=[str(r.pk) for r in about],
                    metric=metric,
                    start=start.isoformat(),
                    end=end.isoformat(),
                    step=None,
                    lookups=lookups,
                    digits=series_cache.CHART_DIGITS,
                ),
                asked=asked,
            )
            if about
            else None
        )
        if data and not data["series"]:
            data["empty"] = True
        chart_id = f"chart-{metric.lower().replace('_', '-')}"
        charts.append(
            {
                "id": chart_id,
                "data_id": f"{chart_id}-data",
                "metric": metric,
                "info": catalogue.info(metric),
                "data": data,
                "kinds": ", ".join(sorted(ResourceKind(k).label for k in kinds)) if kinds else "",
            }
        )
    return form, resources, charts, lookups


@login_required
def utilization(request: HttpRequest) -> HttpResponse:
    """GPU, CPU and memory utilization by resource over a selectable range. A resource that
    no source collects, or that has no data in the range, gets no line (and no legend entry):
    it is listed under the chart with the reason. Each chart's table alternative is a page of
    its own (a link under the chart), so this page stays small with many resources."""
    form, resources, charts, lookups = _charts(request)
    query = request.GET.urlencode()
    sources = _sources(resources, lookups)
    return render(
        request,
        "compute/dashboards/utilization.html",
        {"form": form, "charts": charts, "resources": resources, "sources": sources, "query": query},
    )


@login_required
def utilization_table(request: HttpRequest) -> HttpResponse:
    """One utilization chart's data as a table: the same range, resources and series."""
    wanted = request.GET.get("metric", "")
    chosen = [(metric, kinds) for metric, kinds in CHART_METRICS if metric == wanted]
    if not chosen:
        raise Http404("No such chart.")
    form, resources, charts, _ = _charts(request, chosen)
    back = request.GET.copy()
    back.pop("metric", None)
    return render(
        request,
        "compute/dashboards/table.html",
        {"form": form, "chart": charts[0], "back": back.urlencode()},
    )


def _sources(resources, lookups: selectors.SeriesLookups | None = None) -> list[dict]:
    """Every source of the resources with its freshness (as the charts above said it, where they did)."""
    now = timezone.now()
    rows = []
    for source in MetricSource.objects.filter(resource__in=resources).select_related("resource"):
        said = lookups.freshness_of(source, now) if lookups else selectors.freshness(source, now)
        rows.append({"source": source, "freshness": said})
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
    rows = list(rows)
    # Only the charters in the range: the portal's every charter would grow the page with the register.
    charter_ids = {row["charter_id"] for row in rows}
    visible = {c.pk: c for c in Charter.objects.visible_to(request.user).filter(pk__in=charter_ids).only("title")}
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
    bucket = datetime.timedelta(hours=1) if hourly else datetime.timedelta(days=1)
    moment = datetime.datetime.fromisoformat
    covered = selectors.coverage(
        moment(buckets[0]) if buckets else None,
        moment(buckets[-1]) + bucket if buckets else None,
        start=start,
        end=end,
        asked=_asked(form),
        slack=2 * bucket,
    )
    table = [{"charter": visible[c], "total": t} for c, t in sorted(totals.items(), key=lambda i: -i[1])]
    latest = UsageAttribution.objects.aggregate(latest=Max("hour"))["latest"]
    prometheus = MetricSource.objects.filter(kind=MetricSourceKind.PROMETHEUS).exclude(charter_label="")
    return render(
        request,
        "compute/dashboards/usage.html",
        {
            "form": form,
            "chart": {"series": series, "unit": "GPU-hours", "granularity": "hour" if hourly else "day"},
            "coverage": covered,
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
    now = timezone.now()
    since = now - datetime.timedelta(days=TREND_DAYS)
    history = list(
        SecurityScan.objects.filter(resource__in=resources, scanned_at__gte=since)
        .order_by("scanned_at")
        .values("resource_id", "kind", "scanned_at", "score", "critical", "high")
    )
    trends = _trends(history, [p.resource for p in postures], stale_before=selectors.stale_before(now))
    first = history[0]["scanned_at"] if history else None
    trend_range = selectors.coverage(
        first,
        now,
        start=since,
        end=now,
        asked=f"last {TREND_DAYS} days",
        # Weekly scans: a first scan within a week of the start covers the range.
        slack=datetime.timedelta(days=7),
    )
    return render(
        request,
        "compute/dashboards/security.html",
        {
            "postures": postures,
            "trends": trends,
            "trend_range": trend_range,
            "upload_form": ReportUploadForm(user=request.user)
            if permissions.may_submit_reports(request.user)
            else None,
            "show_findings": permissions.may_read_findings(request.user),
            "stale_days": settings.SECURITY_SCAN_STALE_DAYS,
            "recent": SecurityScan.objects.filter(resource__in=resources).select_related("resource")[:20],
        },
    )


TREND_DAYS = 180
ORDER = ["OpenSCAP", "Lynis", "Trivy", "Grype"]


def _trends(history: list[dict], resources: list[Resource], *, stale_before: datetime.datetime) -> dict:
    """The security trends as small multiples: one small chart per resource for the scores
    (OpenSCAP and Lynis, 0–100) and one per resource for critical + high vulnerabilities, each
    chart with its resource's two or fewer series; every chart of a kind shares its y range and
    its time range, so they compare at a glance."""
    names = {r.pk: r.name for r in resources}
    charts: dict[str, dict[int, dict[str, dict]]] = {"score": defaultdict(dict), "vulnerabilities": defaultdict(dict)}
    for scan in history:
        if scan["kind"] in (ScanKind.OPENSCAP, ScanKind.LYNIS) and scan["score"] is not None:
            chart, name, value = "score", ScanKind(scan["kind"]).label.split(" ")[0], float(scan["score"])
        elif scan["kind"] in (ScanKind.TRIVY, ScanKind.GRYPE):
            chart, name, value = (
                "vulnerabilities",
                ScanKind(scan["kind"]).label.split(" ")[0],
                scan["critical"] + scan["high"],
            )
        else:
            continue
        entry = charts[chart][scan["resource_id"]].setdefault(
            name, {"name": name, "times": [], "values": [], "stale": []}
        )
        entry["times"].append(scan["scanned_at"].isoformat())
        entry["values"].append(value)
        entry["stale"].append(scan["scanned_at"] < stale_before)
    times = [h["scanned_at"] for h in history]
    span = [times[0].isoformat(), timezone.now().isoformat()] if times else None
    most = max((v for c in charts["vulnerabilities"].values() for e in c.values() for v in e["values"]), default=0)
    ymax = {"score": 100, "vulnerabilities": max(5, most) * 1.1}
    out: dict[str, list[dict]] = {}
    for chart, by_resource in charts.items():
        out[chart] = [
            {
                "id": f"{chart}-trend-{resource_id}",
                "data_id": f"{chart}-trend-{resource_id}-data",
                "resource": names[resource_id],
                # A fixed order, so the line styles the page names (solid OpenSCAP, dashed Lynis) hold.
                "data": {
                    "traces": sorted(by_resource[resource_id].values(), key=lambda t: ORDER.index(t["name"])),
                    "ymax": ymax[chart],
                    "range": span,
                },
            }
            for resource_id in names
            if resource_id in by_resource
        ]
    return out


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
