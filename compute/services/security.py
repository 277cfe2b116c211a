"""Security posture: ingesting scan reports (upload, API, watched directories) and reading the
posture of each resource, with its history and whether its last scan is stale."""

from __future__ import annotations

import datetime
import hashlib
import logging
from dataclasses import dataclass, field
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from compute.choices import ScanKind, ScanOrigin
from compute.collectors.reports import parse_report
from compute.models import ReportDirectory, Resource, SecurityScan
from compute.models.security import can_submit_reports
from governance.audit import record_event

logger = logging.getLogger(__name__)

WATCHED_SUFFIXES = (".xml", ".json", ".dat")


def ingest_report(
    actor,
    *,
    resource: Resource,
    data: bytes,
    filename: str = "",
    kind: str | None = None,
    origin: str = ScanOrigin.API,
) -> SecurityScan:
    """Parse a report and keep it as one scan of the resource, or refuse it whole.

    The same file for the same resource is refused as a duplicate (409), so re-uploads and a
    directory scanned twice never double a trend."""
    if origin != ScanOrigin.WATCHED and not can_submit_reports(actor):
        raise PermissionDenied("Only administrators and those allowed to submit security reports may.")
    if len(data) > settings.SECURITY_REPORT_MAX_BYTES:
        raise ValidationError(f"The report is larger than {settings.SECURITY_REPORT_MAX_BYTES:,} bytes.")
    parsed = parse_report(data, kind or None, filename)
    digest = hashlib.sha256(data).hexdigest()
    scan = SecurityScan(
        resource=resource,
        kind=parsed.kind,
        origin=origin,
        scanned_at=parsed.scanned_at or timezone.now(),
        digest=digest,
        filename=Path(filename).name[:255],
        tool_version=parsed.tool_version,
        score=parsed.score,
        score_max=parsed.score_max,
        warnings=parsed.warnings,
        suggestions=parsed.suggestions,
        passed=parsed.passed,
        attestation=parsed.attestation,
        summary=parsed.summary,
        findings=parsed.findings,
        submitted_by=actor if getattr(actor, "is_authenticated", False) else None,
        **parsed.counts,
    )
    scan.full_clean(exclude=["submitted_by"])
    with transaction.atomic():
        scan.save()
        record_event(
            actor,
            "security_scan.ingested",
            scan,
            after={"kind": scan.kind, "score": scan.score, "failed": scan.failed_total, "origin": origin},
        )
    return scan


def scan_directory(directory: ReportDirectory) -> tuple[int, list[str]]:
    """Ingest the reports in one watched directory that have not been ingested yet."""
    path = directory.resolved()
    if not path.is_relative_to(Path(settings.SECURITY_REPORTS_ROOT).resolve()):
        raise ValidationError(f"{path} lies outside SECURITY_REPORTS_ROOT.")
    if not path.is_dir():
        raise ValidationError(f"{path} is not a directory.")
    known = set(SecurityScan.objects.filter(resource=directory.resource_id).values_list("digest", flat=True))
    ingested, problems = 0, []
    for file in sorted(path.iterdir()):
        if not file.is_file() or file.suffix not in WATCHED_SUFFIXES:
            continue
        if file.stat().st_size > settings.SECURITY_REPORT_MAX_BYTES:
            problems.append(f"{file.name}: larger than {settings.SECURITY_REPORT_MAX_BYTES:,} bytes")
            continue
        data = file.read_bytes()
        if hashlib.sha256(data).hexdigest() in known:
            continue
        try:
            ingest_report(None, resource=directory.resource, data=data, filename=file.name, origin=ScanOrigin.WATCHED)
            ingested += 1
        except (ValidationError, IntegrityError) as error:
            messages = getattr(error, "messages", [str(error)])
            problems.append(f"{file.name}: {' '.join(messages)}")
    return ingested, problems


def scan_watched_directories() -> int:
    """One pass over every enabled watched directory; each records its own last error."""
    total = 0
    for directory in ReportDirectory.objects.filter(enabled=True).select_related("resource"):
        try:
            ingested, problems = scan_directory(directory)
            total += ingested
            error = "; ".join(problems)[:2000]
        except (ValidationError, OSError) as problem:
            error = " ".join(getattr(problem, "messages", [str(problem)]))
        ReportDirectory.objects.filter(pk=directory.pk).update(last_checked_at=timezone.now(), last_error=error)
        if error:
            logger.warning("Watched report directory %s: %s", directory.path, error)
    return total


@transaction.atomic
def watch_directory(actor, *, resource: Resource, path: str) -> ReportDirectory:
    if not can_submit_reports(actor):
        raise PermissionDenied("Only administrators set up watched report directories.")
    directory = ReportDirectory(resource=resource, path=path)
    directory.full_clean()
    directory.save()
    record_event(actor, "report_directory.created", directory, after={"path": path, "resource": resource.pk})
    return directory


# --- Reading the posture ------------------------------------------------------------------


@dataclass
class Posture:
    resource: Resource
    latest: dict[str, SecurityScan] = field(default_factory=dict)
    last_scan_at: datetime.datetime | None = None
    stale: bool = True

    @property
    def stale_reason(self) -> str:
        if self.last_scan_at is None:
            return "Never scanned."
        if self.stale:
            return f"Last scan {self.last_scan_at:%Y-%m-%d} is older than {settings.SECURITY_SCAN_STALE_DAYS} days."
        return ""


def stale_before(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=settings.SECURITY_SCAN_STALE_DAYS)


def posture(resources) -> list[Posture]:
    """The latest scan of each kind per resource, and whether the resource's scans are stale."""
    resources = list(resources)
    by_resource = {r.pk: Posture(resource=r) for r in resources}
    latest_ids = []
    for kind in ScanKind.values:
        seen = set()
        rows = (
            SecurityScan.objects.filter(resource__in=by_resource, kind=kind)
            .order_by("resource_id", "-scanned_at", "-pk")
            .values_list("resource_id", "pk")
        )
        for resource_id, pk in rows.iterator():
            if resource_id not in seen:
                seen.add(resource_id)
                latest_ids.append(pk)
    threshold = stale_before()
    for scan in SecurityScan.objects.filter(pk__in=latest_ids):
        item = by_resource[scan.resource_id]
        item.latest[scan.kind] = scan
        if item.last_scan_at is None or scan.scanned_at > item.last_scan_at:
            item.last_scan_at = scan.scanned_at
    for item in by_resource.values():
        item.stale = item.last_scan_at is None or item.last_scan_at < threshold
    return list(by_resource.values())
