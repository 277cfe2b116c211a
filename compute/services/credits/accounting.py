"""Accounting imports: the exports operators already have (Slurm's sacct and sreport, or a
table of hour, resource, charter, unit-hours as CSV or JSON) turned into usage lines and
posted through the batch service (usage.post_usage_batch), chunk by chunk, so an import of
millions of hours runs in bounded memory and each chunk is one transaction and one audit event.

Slurm's names reach the portal's through the administrators' mapping (AccountingMapping):
account → charter, partition (or cluster) → resource. Lines that cannot be charged (an
unmapped account, a job still running) are counted by reason, never guessed at.
"""

from __future__ import annotations

import datetime
import hashlib
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_DOWN, Decimal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from compute import permissions
from compute.choices import MappingKind, ResourceKind
from compute.collectors import slurm
from compute.models import AccountingMapping, Resource, UsageImport
from compute.models.ledger import ZERO
from compute.services.credits import batches, usage
from compute.services.credits.batches import BatchResult
from governance import values
from governance.audit import record_event
from governance.permissions import require

DEFAULT_BATCH = 50_000
# A table imported on PostgreSQL is posted from the database itself (table_sql): its batches can
# be larger, as no line of them is held in Python; each batch's alerts and audit event cost the same.
TABLE_BATCH = 250_000
# What a job's AllocTRES counts for each kind of resource (storage is not in sacct's TRES).
TRES_OF_KIND: dict[str, str] = {ResourceKind.GPU_CLUSTER: "gres/gpu", ResourceKind.CPU_POOL: "cpu"}
Progress = Callable[[int, int, float], None]  # (lines done, lines in all, seconds)


@dataclass
class ImportSummary:
    """What an import read, charged (or would charge, in a dry run) and left out."""

    rows: int = 0
    lines: int = 0
    posted: int = 0
    already_posted: int = 0
    debits: int = 0
    transactions: int = 0
    credits: Decimal = ZERO
    batches: int = 0
    alerts: int = 0
    by_charter: dict[int, Decimal] = field(default_factory=dict)
    skipped: Counter = field(default_factory=Counter)
    errors: list[str] = field(default_factory=list)
    dry_run: bool = False
    seconds: float = 0.0

    def add(self, result: BatchResult) -> None:
        self.posted += result.posted
        self.already_posted += result.already_posted
        self.debits += result.debits
        self.transactions += result.transactions
        self.credits += result.credits
        self.batches += result.batch is not None
        self.alerts += len(result.alerts)
        for charter, amount in result.by_charter.items():
            self.by_charter[charter] = self.by_charter.get(charter, ZERO) + amount


# --- The mapping ---------------------------------------------------------------------------


@transaction.atomic
def set_mapping(
    actor, *, kind: str, name: str, system: str = "slurm", charter=None, resource=None
) -> AccountingMapping:
    """Map an accounting name onto a charter (an account) or a resource (a partition, a
    cluster), or change what it maps onto; administrators only, audited."""
    require(permissions.may_map_accounting(actor), "Only administrators map accounting names.")
    mapping = AccountingMapping.objects.select_for_update().filter(system=system, kind=kind, name=name).first()
    before = {"charter": mapping.charter_id, "resource": mapping.resource_id} if mapping else {}
    mapping = mapping or AccountingMapping(system=system, kind=kind, name=name, created_by=actor)
    mapping.charter, mapping.resource = charter, resource
    mapping.full_clean()
    mapping.save()
    after = {
        "system": system,
        "kind": kind,
        "name": name,
        "charter": mapping.charter_id,
        "resource": mapping.resource_id,
    }
    record_event(actor, "accounting_mapping.set", mapping, before=before, after=after)
    return mapping


@transaction.atomic
def remove_mapping(actor, mapping: AccountingMapping) -> None:
    """Forget a mapping (usage already charged stays charged); administrators only, audited."""
    require(permissions.may_map_accounting(actor), "Only administrators map accounting names.")
    record_event(
        actor,
        "accounting_mapping.removed",
        mapping,
        before={"charter": mapping.charter_id, "resource": mapping.resource_id, "name": mapping.name},
    )
    AccountingMapping.objects.filter(pk=mapping.pk).delete()


@dataclass
class Mappings:
    """One system's mapping, read once per import."""

    accounts: dict[str, int]
    partitions: dict[str, Resource]
    clusters: dict[str, Resource]

    @classmethod
    def of(cls, system: str) -> Mappings:
        rows = AccountingMapping.objects.filter(system=system).select_related("resource")
        by_kind: dict[str, dict] = defaultdict(dict)
        for row in rows:
            by_kind[row.kind][row.name] = row.charter_id if row.kind == MappingKind.ACCOUNT else row.resource
        return cls(by_kind[MappingKind.ACCOUNT], by_kind[MappingKind.PARTITION], by_kind[MappingKind.CLUSTER])

    def resource(self, partition: str, cluster: str) -> Resource | None:
        return self.partitions.get(partition) or self.clusters.get(cluster)


# --- From each format to usage lines ---------------------------------------------------------


def _lines(totals: dict[tuple[int, int, datetime.datetime], Decimal], source: str) -> list[batches.UsageLine]:
    return [
        batches.usage_line(source=source, resource_id=r, charter_id=c, hour=h, unit_hours=amount)
        for (r, c, h), amount in sorted(totals.items(), key=lambda item: (item[0][2], item[0][0], item[0][1]))
        if amount > 0
    ]


def sacct_lines(
    jobs: Iterable[slurm.SacctJob | slurm.Skipped], mappings: Mappings, *, source: str, summary: ImportSummary
) -> list[batches.UsageLine]:
    """Unit-hours per resource, charter and hour from sacct's jobs: each job's allocated GPUs
    (or cores, on a CPU pool) times the part of each hour it ran, summed over the jobs of an
    hour, since the hour is the idempotency key."""
    totals: dict[tuple[int, int, datetime.datetime], Decimal] = defaultdict(lambda: ZERO)
    for job in jobs:
        summary.rows += 1
        if isinstance(job, slurm.Skipped):
            summary.skipped[job.reason] += 1
            continue
        charter_id = mappings.accounts.get(job.account)
        resource = mappings.resource(job.partition, job.cluster)
        if charter_id is None:
            summary.skipped[f"account '{job.account}' not mapped"] += 1
            continue
        if resource is None:
            summary.skipped[f"partition '{job.partition}' not mapped"] += 1
            continue
        tres = TRES_OF_KIND.get(resource.kind)
        count = slurm.gpus(job.tres) if tres == "gres/gpu" else job.tres.get(tres or "", ZERO)
        if count <= 0:
            summary.skipped[f"no {tres or 'countable TRES'} allocated on {resource}"] += 1
            continue
        for hour, fraction in slurm.hours_of(job.start, job.end):
            totals[(resource.pk, charter_id, hour)] += count * fraction
    return _lines(totals, source)


def sreport_lines(
    report: slurm.SreportReport, mappings: Mappings, *, source: str, summary: ImportSummary
) -> list[batches.UsageLine]:
    """Unit-hours per hour from sreport's account totals: each mapped account's use over the
    report's period, spread evenly over the period's hours (sreport gives no finer grain), so
    each hour is priced at its own rate. User rows and `root` (a sum of the others) are left out."""
    if report.start is None or report.end is None or report.end <= report.start:
        raise ValidationError("The report's period is unknown: keep sreport's banner or give --start and --end.")
    hours = [hour for hour, _ in slurm.hours_of(report.start, report.end)]
    totals: dict[tuple[int, int, datetime.datetime], Decimal] = defaultdict(lambda: ZERO)
    for row in report.rows:
        summary.rows += 1
        if row.get("login") or row["account"] == "root":
            summary.skipped["user or root row (the account rows hold the totals)"] += 1
            continue
        charter_id = mappings.accounts.get(row["account"])
        resource = mappings.clusters.get(row["cluster"])
        if charter_id is None or resource is None:
            what = f"account '{row['account']}'" if charter_id is None else f"cluster '{row['cluster']}'"
            summary.skipped[f"{what} not mapped"] += 1
            continue
        if "tres name" in row and row["tres name"] != TRES_OF_KIND.get(resource.kind):
            summary.skipped[f"TRES {row['tres name']} is not what {resource} counts"] += 1
            continue
        total = row["used"] * report.unit_seconds / 3600
        share = (total / len(hours)).quantize(batches.UNIT_HOURS, rounding=ROUND_DOWN)
        for hour in hours:
            totals[(resource.pk, charter_id, hour)] += share
        totals[(resource.pk, charter_id, hours[-1])] += total - share * len(hours)
    return _lines(totals, source)


def table_lines(rows: Iterable[dict], *, source: str, summary: ImportSummary) -> Iterator[batches.UsageLine]:
    """Lines from rows of hour (ISO 8601), resource (name), charter (id or title) and
    unit_hours, one per hour already; a row that cannot be read is an error with its number."""
    from charters.models import Charter

    resources = {r.name.casefold(): r.pk for r in Resource.objects.all()}
    charters: dict[str, int | None] = {}
    for number, row in enumerate(rows, start=1):
        summary.rows += 1
        try:
            if not isinstance(row, dict):
                raise ValidationError("not an object of hour, resource, charter, unit_hours")
            resource_id = resources.get(str(row.get("resource", "")).strip().casefold())
            if resource_id is None:
                raise ValidationError(f"unknown resource '{values.printable(row.get('resource'))}'")
            key = str(row.get("charter", "")).strip()
            if key not in charters:
                wanted = values.optional_id(key)
                found = Charter.objects.filter(pk=wanted) if wanted is not None else None
                charters[key] = (found or Charter.objects.filter(title=key)).values_list("pk", flat=True).first()
            charter_id = charters[key]
            if charter_id is None:
                raise ValidationError(f"unknown charter '{values.printable(key)}'")
            hour = datetime.datetime.fromisoformat(str(row.get("hour", "")).strip().replace("Z", "+00:00"))
            if timezone.is_naive(hour):
                hour = hour.replace(tzinfo=datetime.UTC)
            yield batches.usage_line(
                source=source,
                resource_id=resource_id,
                charter_id=charter_id,
                hour=hour,
                unit_hours=row.get("unit_hours"),
            )
        except (ValidationError, ValueError) as error:
            message = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            summary.errors.append(f"row {number}: {message}")


# --- Posting ---------------------------------------------------------------------------------


class RollBack(Exception):
    """Raised to undo a dry run's transaction."""

    pass


def post_lines(
    lines: Iterable[batches.UsageLine],
    *,
    source: str,
    summary: ImportSummary,
    actor=None,
    batch_size: int = DEFAULT_BATCH,
    dry_run: bool = False,
    progress: Progress | None = None,
    expected: int = 0,
) -> ImportSummary:
    """Post the lines in batches of `batch_size`, each one transaction; `progress(lines done,
    total, seconds)` after each, `total` being `expected` (the lines the caller counted) when
    known. A dry run posts them all in one transaction and rolls it back, so
    later chunks see the earlier ones (what would be charged is what a real run charges)."""
    if batch_size < 1:
        raise ValidationError({"batch_size": "A batch holds at least one line."})
    started = time.perf_counter()
    summary.dry_run = dry_run

    def run() -> None:
        chunk: list[batches.UsageLine] = []
        for line in lines:
            chunk.append(line)
            if len(chunk) >= batch_size:
                flush(chunk)
                chunk = []
        if chunk:
            flush(chunk)

    def flush(chunk: list[batches.UsageLine]) -> None:
        summary.add(usage.post_usage_batch(chunk, source=source, actor=actor))
        summary.lines += len(chunk)
        if progress:
            progress(summary.lines, max(expected, summary.lines), time.perf_counter() - started)

    if dry_run:
        try:
            with transaction.atomic():
                run()
                raise RollBack
        except RollBack:
            summary.batches = summary.alerts = 0
    else:
        run()
    summary.seconds = time.perf_counter() - started
    return summary


def import_usage(
    read_rows: Callable[[], Iterable[dict]],
    *,
    source: str,
    actor=None,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> ImportSummary:
    """Post a table of usage (rows of hour, resource, charter, unit_hours, from CSV or JSON).

    `read_rows` is called twice, so a file is streamed rather than held: a first pass checks
    every row, a second posts them in batches. Nothing is posted when a row cannot be read,
    unless `skip_bad_rows`; the summary lists them either way."""
    checked = ImportSummary()
    for _ in table_lines(read_rows(), source=source, summary=checked):
        checked.lines += 1
    if checked.errors and not skip_bad_rows:
        return checked
    summary = ImportSummary()
    post_lines(
        table_lines(read_rows(), source=source, summary=summary),
        source=source,
        summary=summary,
        actor=actor,
        batch_size=batch_size,
        dry_run=dry_run,
        progress=progress,
        expected=checked.lines,
    )
    summary.errors = checked.errors
    return summary


def import_slurm(
    output: Iterable[str],
    *,
    command: str,
    source: str,
    system: str = "slurm",
    zone: str = "UTC",
    period: tuple[datetime.datetime, datetime.datetime] | None = None,
    actor=None,
    dry_run: bool = False,
    batch_size: int = DEFAULT_BATCH,
    progress: Progress | None = None,
) -> ImportSummary:
    """Post Slurm's accounting output: `command` is "sacct" (`sacct --parsable2` jobs) or
    "sreport" (`sreport -P cluster AccountUtilizationByUser`); Slurm writes local times,
    read in `zone`. `period` overrides (or stands in for) sreport's banner. Output Slurm
    would not write raises ValidationError before anything is posted."""
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError) as error:
        raise ValidationError({"zone": f"'{zone}' is not a time zone."}) from error
    mappings = Mappings.of(system)
    summary = ImportSummary()
    try:
        if command == "sacct":
            lines = sacct_lines(slurm.read_sacct(output, tz), mappings, source=source, summary=summary)
        elif command == "sreport":
            report = slurm.read_sreport(output, tz)
            if period is not None:
                report.start, report.end = period
            lines = sreport_lines(report, mappings, source=source, summary=summary)
        else:
            raise ValidationError({"command": "Give sacct or sreport."})
    except slurm.SlurmFormatError as error:
        raise ValidationError(str(error)) from error
    return post_lines(
        lines,
        source=source,
        summary=summary,
        actor=actor,
        batch_size=batch_size,
        dry_run=dry_run,
        progress=progress,
        expected=len(lines),
    )


# --- Files imported in full -------------------------------------------------------------------

# A table names its charters and resources itself, so the very same bytes mean the very same
# keys, all posted already. Slurm's exports go through the mapping, which may have changed
# since: they are always read again.
KNOWN_BY_DIGEST = ("csv", "json")


def file_digest(path) -> str:
    """SHA-256 of a file's bytes, hexadecimal, read in chunks."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def imported_before(digest: str, *, source: str, format: str) -> UsageImport | None:
    """The earlier import of these very bytes from `source`, read and posted in full, if any."""
    if format not in KNOWN_BY_DIGEST:
        return None
    return UsageImport.objects.filter(digest=digest, source=source, format=format).first()


def record_import(summary: ImportSummary, *, digest: str, source: str, format: str) -> UsageImport | None:
    """Remember a file imported in full (every row read and posted; a dry run is not an import)."""
    if format not in KNOWN_BY_DIGEST or summary.dry_run or summary.errors:
        return None
    return UsageImport.objects.create(
        source=source, format=format, digest=digest, rows=summary.rows, posted=summary.posted, credits=summary.credits
    )
