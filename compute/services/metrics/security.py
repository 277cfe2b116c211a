"""Security posture: ingesting scan reports (upload, API, watched directories). Reading the
posture is compute.selectors.metrics.posture."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone

from compute import permissions
from compute.choices import ScanOrigin
from compute.collectors.reports import parse_report
from compute.models import ReportDirectory, Resource, SecurityScan
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
    if origin != ScanOrigin.WATCHED and not permissions.may_submit_reports(actor):
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
    if not permissions.may_submit_reports(actor):
        raise PermissionDenied("Only administrators set up watched report directories.")
    directory = ReportDirectory(resource=resource, path=path)
    directory.full_clean()
    directory.save()
    record_event(actor, "report_directory.created", directory, after={"path": path, "resource": resource.pk})
    return directory
