"""Demo data of the metrics half of the compute app: a live local-host source (so a fresh
`make run` charts this machine within a minute), two weeks of utilization history with an
outage gap, attributed GPU usage, and a security-scan history with a stale resource.

Everything goes through the services the pages and the API use."""

from __future__ import annotations

import datetime
import json
import math
import random
from decimal import Decimal

from django.utils import timezone

from charters.choices import CharterStatus
from charters.models import Charter
from compute.choices import MetricSourceKind, ResourceKind, ResourceStatus, ScanOrigin
from compute.collectors import catalogue
from compute.collectors.prometheus import CollectorError
from compute.models import MetricSource, Resource
from compute.services.metrics import attribution, collection, security, sources, store

HISTORY_DAYS = 14
STEP = datetime.timedelta(minutes=5)


def _resource(context: dict, name: str, **defaults) -> Resource:
    """A resource another seeder made (context["resources"]) or one made here."""
    known = context.get("resources") or {}
    if name in known:
        return known[name]
    resource, _ = Resource.objects.get_or_create(name=name, defaults=defaults)
    return resource


def seed_demo(context: dict) -> None:
    admin = context["admin"]
    rng = random.Random(2026)  # noqa: S311 - demo figures, not secrets
    now = timezone.now().replace(second=0, microsecond=0)

    host = _resource(
        context,
        "Portal host",
        kind=ResourceKind.CPU_POOL,
        capacity=Decimal("2"),
        jurisdiction="EU",
        description="The machine this portal runs on, measured live by the local metric source.",
    )
    resources = list(Resource.objects.exclude(pk=host.pk).exclude(status=ResourceStatus.RETIRED))
    if not resources:
        resources = [
            _resource(
                context,
                "Sovereign GPU cluster",
                kind=ResourceKind.GPU_CLUSTER,
                capacity=Decimal("64"),
                jurisdiction="EU",
                tee_capable=True,
            ),
            _resource(
                context, "Research CPU pool", kind=ResourceKind.CPU_POOL, capacity=Decimal("512"), jurisdiction="EU"
            ),
        ]
    gpu_clusters = [r for r in resources if r.kind == ResourceKind.GPU_CLUSTER] or resources[:1]

    local = sources.create_source(admin, name="This host (live)", kind=MetricSourceKind.LOCAL, resource=host)
    sources.create_source(
        admin,
        name=f"Prometheus of {gpu_clusters[0].name}",
        kind=MetricSourceKind.PROMETHEUS,
        url="http://prometheus.gpu-cluster.invalid:9090",
        resource=gpu_clusters[0],
        enabled=False,
        charter_label="project",
    )
    sources.create_source(admin, name="Edge agent (push)", kind=MetricSourceKind.PUSH, resource=resources[-1])
    agents = [
        sources.create_source(
            admin, name=f"Agent of {cluster.name} (push)", kind=MetricSourceKind.PUSH, resource=cluster
        )
        for cluster in gpu_clusters[1:]
        if cluster != resources[-1]
    ]

    # History only where a source collected it: the pushed resources up to now, the first GPU
    # cluster until its Prometheus was switched off 30 hours ago; a resource no source collects
    # has none (its dashboard line says so instead of showing made-up samples).
    switched_off = now - datetime.timedelta(hours=30)
    collected = {resources[-1].pk: now, **{a.resource_id: now for a in agents}, gpu_clusters[0].pk: switched_off}
    _utilization_history([r for r in resources if r.pk in collected], now, rng, until=collected)
    MetricSource.objects.filter(resource_id__in=collected, kind=MetricSourceKind.PUSH).update(last_success_at=now)
    MetricSource.objects.filter(resource=gpu_clusters[0], enabled=False, charter_label="project").update(
        last_success_at=switched_off
    )
    _usage_history(admin, gpu_clusters[0], now, rng)
    _security_history(admin, [*resources, host], now, rng)

    try:
        collection.collect_source(local.pk)
    except CollectorError:
        pass  # the worker's first pass will collect it; the demo must not fail over it
    context.setdefault("metric_sources", {})["local"] = local


def _utilization_history(
    resources: list[Resource], now: datetime.datetime, rng: random.Random, *, until: dict[int, datetime.datetime]
) -> None:
    """Two weeks of five-minute samples with a daily rhythm, and a six-hour outage three days
    ago; each resource's samples stop at `until[resource.pk]` (when its source stopped)."""
    start = now - datetime.timedelta(days=HISTORY_DAYS)
    recent = now - datetime.timedelta(days=2)
    outage = (now - datetime.timedelta(days=3, hours=8), now - datetime.timedelta(days=3, hours=2))
    # Every five minutes for the older history, every minute for the last two days.
    moments = [start + i * STEP for i in range(int((recent - start) / STEP))]
    moments += [recent + datetime.timedelta(minutes=i) for i in range(int((now - recent).total_seconds() // 60))]
    for index, resource in enumerate(resources):
        gpu = resource.kind == ResourceKind.GPU_CLUSTER
        gpus = float(resource.capacity) if gpu else 0.0
        rows = []
        for moment in moments:
            if moment >= until[resource.pk]:
                break
            if outage[0] <= moment < outage[1]:
                continue  # missing, not zero
            hour = moment.hour + moment.minute / 60
            load = 0.55 + 0.3 * math.sin((hour - 9) / 24 * 2 * math.pi) + rng.uniform(-0.08, 0.08) + 0.05 * index
            load = min(max(load, 0.02), 0.99)
            rows.append((catalogue.CPU_UTILIZATION, moment, round(100 * load * 0.8, 2)))
            rows.append((catalogue.MEMORY_UTILIZATION, moment, round(40 + 30 * load, 2)))
            if gpu:
                rows.append((catalogue.GPU_UTIL, moment, round(100 * load, 2)))
                rows.append((catalogue.GPU_FB_USED, moment, round(gpus * 81559 * load * 0.9, 0)))
                rows.append((catalogue.GPU_POWER, moment, round(gpus * (90 + 600 * load), 1)))
                rows.append((catalogue.GPU_ENGINE_ACTIVE, moment, round(load * 0.95, 3)))
                rows.append((catalogue.GPU_COUNT, moment, gpus))
        store.save(resource.pk, rows)


def _usage_history(admin, cluster: Resource, now: datetime.datetime, rng: random.Random) -> None:
    """A week of GPU-hours for the running charters, as a Prometheus source would attribute them."""
    charters = list(Charter.objects.filter(status__in=[CharterStatus.ACTIVE, CharterStatus.APPROVED])[:4])
    if not charters:
        return
    source = sources.create_source(
        admin,
        name=f"DCGM usage of {cluster.name} (history)",
        kind=MetricSourceKind.PROMETHEUS,
        url="http://dcgm-history.invalid:9090",
        resource=cluster,
        enabled=False,
        charter_label="project",
    )
    last = now.replace(minute=0) - datetime.timedelta(hours=1)
    rows = []
    for hours_ago in range(24 * 7, 0, -1):
        hour = last - datetime.timedelta(hours=hours_ago - 1)
        for n, charter in enumerate(charters):
            gpus = max(0, round(rng.gauss(8 - 2 * n, 2)))
            if gpus:
                rows.append(
                    attribution.UsageRow(
                        attribution.ledger_source_key(source),
                        cluster.pk,
                        charter.pk,
                        hour,
                        Decimal(gpus).quantize(Decimal("0.0001")),
                    )
                )
    attribution.save_attribution(source, rows)


# Hardening that improves from poor, one that starts good and holds, one that regresses, one
# flat and middling, one that improves fast: the posture page has something to say about each.
PROFILES = [(78, 10, 82, 8, 1), (41, 34, 38, 40, 6), (74, -18, 80, -22, 2), (60, 0, 63, 2, 3), (48, 22, 52, 30, 4)]


def _security_history(admin, resources: list[Resource], now: datetime.datetime, rng: random.Random) -> None:
    """Weekly Lynis and OpenSCAP scans and fortnightly image scans; the last resource stops
    being scanned three weeks ago, so it shows as stale."""
    for index, resource in enumerate(resources):
        stale = index == len(resources) - 1
        # Each resource its own story: (Lynis start, Lynis change, OpenSCAP start, change, critical CVEs at start).
        lynis_from, lynis_by, oscap_from, oscap_by, cves = PROFILES[index % len(PROFILES)]
        for weeks_ago in range(12, 0 if not stale else 2, -1):
            when = now - datetime.timedelta(weeks=weeks_ago - 1, hours=rng.randint(1, 20))
            progress = (12 - weeks_ago) / 12
            index_value = int(lynis_from + lynis_by * progress + rng.randint(-2, 2))
            security.ingest_report(
                admin,
                resource=resource,
                data=_lynis(when, index_value, rng),
                filename="lynis-report.dat",
                origin=ScanOrigin.UPLOAD,
            )
            security.ingest_report(
                admin,
                resource=resource,
                data=_xccdf(when, oscap_from + oscap_by * progress, rng),
                filename="results.xml",
                origin=ScanOrigin.UPLOAD,
            )
            if weeks_ago % 2 == 0:
                critical = max(0, int(cves - cves * progress + rng.randint(0, 1)))
                security.ingest_report(
                    admin,
                    resource=resource,
                    data=_trivy(when, critical, rng),
                    filename="trivy.json",
                    origin=ScanOrigin.UPLOAD,
                )
        if resource.tee_capable:
            verdict = {
                "status": "verified",
                "tee": "sev-snp",
                "verified_at": (now - datetime.timedelta(hours=3)).isoformat(),
            }
            security.ingest_report(
                admin,
                resource=resource,
                data=json.dumps(verdict).encode(),
                filename="attestation.json",
                origin=ScanOrigin.API,
            )


def _lynis(when: datetime.datetime, index: int, rng: random.Random) -> bytes:
    lines = [
        "# Lynis Report",
        "lynis_version=3.0.8",
        f"report_datetime_end={when:%Y-%m-%d %H:%M:%S}",
        f"hardening_index={index}",
        "os_fullname=Debian GNU/Linux 12 (bookworm)",
    ]
    lines += [f"warning[]=DEMO-{n:04d}|Demo warning {n}|-|-|" for n in range(rng.randint(0, 4))]
    lines += [f"suggestion[]=DEMO-{n:04d}|Demo suggestion {n}|-|-|" for n in range(rng.randint(20, 45))]
    return "\n".join(lines).encode()


def _xccdf(when: datetime.datetime, score: float, rng: random.Random) -> bytes:
    results = []
    for n in range(40):
        severity = ("high", "medium", "medium", "low")[n % 4]
        outcome = "fail" if rng.random() > score / 100 else "pass"
        results.append(
            f'<rule-result idref="xccdf_demo_rule_{n}" severity="{severity}"><result>{outcome}</result></rule-result>'
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?>'
        '<Benchmark xmlns="http://checklists.nist.gov/xccdf/1.2" id="xccdf_demo_benchmark">'
        f'<TestResult id="xccdf_demo_testresult" end-time="{when.isoformat()}" '
        'test-system="cpe:/a:redhat:openscap:1.3.7">'
        '<profile idref="xccdf_org.ssgproject.content_profile_standard"/>'
        f"{''.join(results)}"
        f'<score system="urn:xccdf:scoring:default" maximum="100">{score:.2f}</score>'
        "</TestResult></Benchmark>"
    ).encode()


def _trivy(when: datetime.datetime, critical: int, rng: random.Random) -> bytes:
    vulns = [
        {
            "VulnerabilityID": f"CVE-2026-{1000 + n}",
            "PkgName": f"pkg{n}",
            "InstalledVersion": "1.0",
            "Severity": severity,
        }
        for n, severity in enumerate(
            ["CRITICAL"] * critical + ["HIGH"] * rng.randint(2, 8) + ["MEDIUM"] * rng.randint(5, 15)
        )
    ]
    return json.dumps(
        {
            "SchemaVersion": 2,
            "CreatedAt": when.isoformat(),
            "ArtifactName": "tgb/runtime",
            "Results": [{"Target": "tgb/runtime", "Vulnerabilities": vulns}],
        }
    ).encode()
