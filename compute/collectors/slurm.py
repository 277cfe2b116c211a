"""Reading Slurm's accounting output: `sacct --parsable2` jobs and `sreport -P cluster
AccountUtilizationByUser` utilisation, as Slurm's manual pages document their fields.

sacct: one job (or job step) per line, fields separated by `|`, the first line naming them
(`--format` chooses which; `JobID`, `Account`, `Partition`, `Start`, `End` and `AllocTRES` are
needed, `Cluster` and `State` are used when present). Times are the controller's local time,
without a zone (`2024-03-01T10:15:00`); `Unknown` for a job still running, `None` for one that
never started. AllocTRES lists the trackable resources allocated, `cpu=8,mem=64G,node=1,
billing=8,gres/gpu=2` (typed GPUs as `gres/gpu:a100=2` beside the total).

sreport: a banner (`Cluster/Account/User Utilization 2024-03-01T00:00:00 - 2024-03-31T23:59:59
(2678400 secs)`, `Usage reported in TRES Minutes`) between dashed lines unless `-n` was given,
then `Cluster|Account|Login|Proper Name|TRES Name|Used` rows: one per account (empty Login,
its sub-accounts included) and one per user of it.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from zoneinfo import ZoneInfo

SACCT_NEEDS = ("jobid", "account", "partition", "start", "end", "alloctres")
SREPORT_NEEDS = ("cluster", "account", "login", "used")
TIME_FORMAT = "%Y-%m-%dT%H:%M:%S"
HOUR = datetime.timedelta(hours=1)
BANNER = re.compile(r"Utilization (\S+) - (\S+) \((\d+) secs\)")
UNIT = re.compile(r"Usage reported in (?:TRES )?(Seconds|Minutes|Hours|Percentage)", re.IGNORECASE)
UNIT_SECONDS = {"seconds": 1, "minutes": 60, "hours": 3600}


class SlurmFormatError(ValueError):
    """Output that is not what the Slurm command writes; the message says what is missing."""


@dataclass(frozen=True)
class SacctJob:
    line: int
    job_id: str
    account: str
    partition: str
    cluster: str
    start: datetime.datetime
    end: datetime.datetime
    tres: dict[str, Decimal]


@dataclass(frozen=True)
class Skipped:
    """A line that charges nothing, and why (a job step, a job still running, …)."""

    line: int
    reason: str


@dataclass
class SreportReport:
    start: datetime.datetime | None = None
    end: datetime.datetime | None = None
    unit_seconds: int = 60
    rows: list[dict] = field(default_factory=list)


def parse_tres(text: str) -> dict[str, Decimal]:
    """`cpu=8,mem=64G,gres/gpu=2` → {"cpu": 8, "gres/gpu": 2}: the counted TRES (memory and
    other sized ones, written with a unit, are left out)."""
    found: dict[str, Decimal] = {}
    for item in filter(None, (part.strip() for part in text.split(","))):
        name, _, value = item.partition("=")
        try:
            found[name.strip().lower()] = Decimal(value)
        except InvalidOperation:
            continue
    return found


def gpus(tres: dict[str, Decimal]) -> Decimal:
    """GPUs allocated: `gres/gpu`, or the typed counts (`gres/gpu:a100`) when it is absent."""
    if "gres/gpu" in tres:
        return tres["gres/gpu"]
    return sum((v for k, v in tres.items() if k.startswith("gres/gpu:")), Decimal(0))


def _time(text: str, zone: ZoneInfo) -> datetime.datetime | None:
    text = text.strip()
    if text in ("", "None", "Unknown"):
        return None
    try:
        return datetime.datetime.strptime(text, TIME_FORMAT).replace(tzinfo=zone)
    except ValueError as error:
        raise SlurmFormatError(f"'{text}' is not a Slurm time (YYYY-MM-DDTHH:MM:SS)") from error


def _header(line: str, needs: Iterable[str], command: str) -> dict[str, int]:
    names = [name.strip().lower() for name in line.rstrip("\n").split("|")]
    columns = {name: index for index, name in enumerate(names) if name}
    missing = [name for name in needs if name not in columns]
    if missing:
        raise SlurmFormatError(f"The {command} output has no {', '.join(missing)} column (its header: {line.strip()}).")
    return columns


def read_sacct(lines: Iterable[str], zone: ZoneInfo) -> Iterator[SacctJob | Skipped]:
    """The jobs of `sacct --parsable2` output, one by one; steps and jobs that did not finish
    are Skipped with the reason, a malformed line raises SlurmFormatError naming it."""
    columns: dict[str, int] | None = None
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        if columns is None:
            columns = _header(line, SACCT_NEEDS, "sacct")
            continue
        values = line.rstrip("\n").split("|")
        if len(values) < len(columns):
            raise SlurmFormatError(f"line {number}: {len(values)} fields where the header names {len(columns)}")
        row = {name: values[index].strip() for name, index in columns.items() if index < len(values)}
        get = lambda name, row=row: row.get(name, "")  # noqa: E731 - a short reader of this line's fields

        job_id = get("jobid")
        if "." in job_id:
            # Steps (1234.batch, 1234.0) run inside their job's allocation: the job is charged.
            yield Skipped(number, "job step")
            continue
        try:
            start, end = _time(get("start"), zone), _time(get("end"), zone)
        except SlurmFormatError as error:
            raise SlurmFormatError(f"line {number}: {error}") from None
        if start is None:
            yield Skipped(number, "never started")
            continue
        if end is None:
            yield Skipped(number, "still running")
            continue
        if end < start:
            raise SlurmFormatError(f"line {number}: job {job_id} ends before it starts")
        yield SacctJob(
            line=number,
            job_id=job_id,
            account=get("account"),
            partition=get("partition"),
            cluster=get("cluster"),
            start=start,
            end=end,
            tres=parse_tres(get("alloctres")),
        )


def hours_of(start: datetime.datetime, end: datetime.datetime) -> Iterator[tuple[datetime.datetime, Decimal]]:
    """The hours (UTC, at the hour) that [start, end) overlaps, with the fraction of each used."""
    start, end = start.astimezone(datetime.UTC), end.astimezone(datetime.UTC)
    hour = start.replace(minute=0, second=0, microsecond=0)
    while hour < end:
        overlap = min(end, hour + HOUR) - max(start, hour)
        yield hour, Decimal(int(overlap.total_seconds())) / 3600
        hour += HOUR


def read_sreport(lines: Iterable[str], zone: ZoneInfo) -> SreportReport:
    """`sreport -P cluster AccountUtilizationByUser` output: its period and unit from the
    banner (when it was printed) and its rows."""
    report = SreportReport()
    columns: dict[str, int] | None = None
    for number, line in enumerate(lines, start=1):
        text = line.strip()
        if not text or text.startswith("---"):
            continue
        if columns is None:
            if match := BANNER.search(text):
                first, last = _time(match[1], zone), _time(match[2], zone)
                if first is None or last is None:
                    raise SlurmFormatError(f"line {number}: the banner's period cannot be read")
                report.start, report.end = first, last + datetime.timedelta(seconds=1)
                continue
            if match := UNIT.search(text):
                unit = match[1].lower()
                if unit not in UNIT_SECONDS:
                    raise SlurmFormatError("Percentages are not usage: run sreport with -t Minutes or -t Hours.")
                report.unit_seconds = UNIT_SECONDS[unit]
                continue
            if "|" not in text:
                continue
            columns = _header(text, SREPORT_NEEDS, "sreport")
            continue
        values = text.split("|")
        row = {name: values[index].strip() if index < len(values) else "" for name, index in columns.items()}
        try:
            row["used"] = Decimal(row["used"])
        except InvalidOperation:
            raise SlurmFormatError(f"line {number}: '{row['used']}' is not an amount used") from None
        row["line"] = number
        report.rows.append(row)
    if columns is None:
        raise SlurmFormatError("No sreport header (Cluster|Account|Login|…|Used) was found.")
    return report
