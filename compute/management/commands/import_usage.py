import csv
import datetime
import json
from pathlib import Path

from django.core.checks import Tags
from django.core.exceptions import ValidationError
from django.core.management.base import BaseCommand, CommandError
from django.db import connection
from django.utils import timezone

from charters.models import Charter
from compute.services.credits import accounting, table_sql
from compute.services.credits.posting import fmt_credits

FORMATS = ("csv", "json", "sacct", "sreport")


def guess_format(file: Path) -> str:
    """By the suffix, else by the first line Slurm writes."""
    if file.suffix.lower() in (".csv", ".json"):
        return file.suffix.lower()[1:]
    with file.open(encoding="utf-8", errors="replace") as handle:
        head = handle.read(4096)
    if "JobID" in head.split("\n", 1)[0]:
        return "sacct"
    if "Utilization" in head or "Cluster|Account|Login" in head:
        return "sreport"
    return "csv"


def when(text: str) -> datetime.datetime:
    moment = datetime.datetime.fromisoformat(text.replace("Z", "+00:00"))
    return moment if moment.tzinfo else moment.replace(tzinfo=datetime.UTC)


class Command(BaseCommand):
    help = (
        "Post usage from an accounting export, in batches (one transaction and one audit event each). "
        "Formats: Slurm `sacct --parsable2` (JobID, Account, Partition, Start, End, AllocTRES), "
        "`sreport -P cluster AccountUtilizationByUser -T gres/gpu`, or CSV with a header / a JSON list of rows "
        "with hour (ISO 8601), resource (name), charter (id or title) and unit_hours. Slurm's accounts, "
        "partitions and clusters are mapped onto charters and resources by the administrators' accounting "
        "mapping. Re-importing charges nothing twice; --dry-run says what would be charged and writes nothing."
    )
    # The checks of the models and the database, which the import relies on; the others (URLs,
    # templates, security settings) import every view of the portal first, half a second of
    # each run, and are `manage.py check`'s to make.
    requires_system_checks = [Tags.models, Tags.database]

    def add_arguments(self, parser):
        parser.add_argument("path", help="The export ('-' is not supported: give a file).")
        parser.add_argument("--source", required=True, help="Name of the accounting system, e.g. slurm-sacct.")
        parser.add_argument("--format", choices=FORMATS, help="Default: by the file's suffix or first line.")
        parser.add_argument("--system", default="slurm", help="Whose accounting mapping to use (default slurm).")
        parser.add_argument("--timezone", default="UTC", help="Time zone of Slurm's times (default UTC).")
        parser.add_argument("--start", type=when, help="sreport: the report's period start, if its banner is gone.")
        parser.add_argument("--end", type=when, help="sreport: the report's period end (exclusive).")
        parser.add_argument(
            "--batch-size",
            type=int,
            help=f"Lines per transaction (default {accounting.DEFAULT_BATCH:,}; "
            f"{accounting.TABLE_BATCH:,} for a CSV on PostgreSQL).",
        )
        parser.add_argument("--dry-run", action="store_true", help="Report what would be charged; write nothing.")
        parser.add_argument("--skip-bad-rows", action="store_true", help="Post the rows that can be read.")
        parser.add_argument("--no-progress", action="store_true", help="No progress line on stderr.")
        parser.add_argument(
            "--recheck",
            action="store_true",
            help="Read a CSV or JSON file imported in full before anyway (by default the same bytes answer at once).",
        )

    def handle(self, *args, path, source, **options):
        file = Path(path)
        if not file.is_file():
            raise CommandError(f"No file at {path}.")
        kind = options["format"] or guess_format(file)
        digest = accounting.file_digest(file) if kind in accounting.KNOWN_BY_DIGEST else ""
        if digest and not options["recheck"] and not options["dry_run"]:
            done = accounting.imported_before(digest, source=source, format=kind)
            if done is not None:
                self.stdout.write(
                    f"Read 0 row(s): this file (SHA-256 {digest[:16]}…) was imported in full from {source} on "
                    f"{timezone.localtime(done.imported_at):%d %b %Y %H:%M}: {done.rows:,} row(s), {done.posted:,} "
                    "posted then. Posted 0 row(s) now; nothing charged (give --recheck to read it again)."
                )
                return
        common = {
            "source": source,
            "dry_run": options["dry_run"],
            "progress": None if options["no_progress"] else self.progress,
        }
        if options["batch_size"] is not None:
            common["batch_size"] = options["batch_size"]
        try:
            if kind == "csv" and connection.vendor == "postgresql":
                # The database reads the file itself (COPY) and checks the rows in SQL.
                with file.open(encoding="utf-8", newline="") as handle:
                    summary = table_sql.import_csv(handle, skip_bad_rows=options["skip_bad_rows"], **common)
            elif kind in ("csv", "json"):
                summary = accounting.import_usage(
                    self.reader(file, kind), skip_bad_rows=options["skip_bad_rows"], **common
                )
            else:
                period = (options["start"], options["end"]) if options["start"] and options["end"] else None
                with file.open(encoding="utf-8", newline="") as handle:
                    summary = accounting.import_slurm(
                        handle,
                        command=kind,
                        system=options["system"],
                        zone=options["timezone"],
                        period=period,
                        **common,
                    )
        except ValidationError as error:
            raise CommandError("; ".join(error.messages)) from error
        except UnicodeDecodeError as error:
            raise CommandError(f"{path} is not UTF-8 text: {error}") from error
        if common["progress"]:
            self.stderr.write("")
        if digest:
            accounting.record_import(summary, digest=digest, source=source, format=kind)
        self.report(summary)

    def reader(self, file: Path, kind: str):
        def rows():
            if kind == "json":
                try:
                    data = json.loads(file.read_text(encoding="utf-8"))
                except json.JSONDecodeError as error:
                    raise CommandError(f"{file} is not valid JSON: {error}") from error
                if not isinstance(data, list):
                    raise CommandError(f"{file} holds no list of rows.")
                yield from data
                return
            with file.open(encoding="utf-8", newline="") as handle:
                yield from csv.DictReader(handle)

        return rows

    def progress(self, done: int, total: int, seconds: float) -> None:
        rate = done / seconds if seconds > 0 else 0
        left = (total - done) / rate if rate else 0
        share = f" ({done * 100 // total} %)" if total else ""
        self.stderr.write(
            f"\r{done:,}/{total:,} lines{share}  {rate:,.0f} lines/s  "
            f"{datetime.timedelta(seconds=round(left))} left   ",
            ending="",
        )
        self.stderr.flush()

    def report(self, summary: accounting.ImportSummary) -> None:
        for error in summary.errors[:50]:
            self.stderr.write(error)
        if len(summary.errors) > 50:
            self.stderr.write(f"… and {len(summary.errors) - 50} more.")
        charge = "Would charge" if summary.dry_run else "Charged"
        self.stdout.write(
            f"Read {summary.rows:,} row(s): {summary.lines:,} usage line(s). "
            f"Posted {summary.posted:,} row(s); {summary.already_posted:,} were already posted; "
            f"{len(summary.errors)} could not be read."
        )
        self.stdout.write(
            f"{charge} {fmt_credits(summary.credits)} credits for {summary.debits:,} hour(s) of usage "
            f"in {summary.transactions:,} debit(s)"
            f"{'' if summary.dry_run else f', {summary.batches} batch(es), {summary.alerts} alert(s)'}."
        )
        for reason, count in summary.skipped.most_common():
            self.stdout.write(f"  skipped {count:,}: {reason}")
        titles = dict(Charter.objects.filter(pk__in=summary.by_charter).values_list("pk", "title"))
        for charter_id, amount in sorted(summary.by_charter.items(), key=lambda item: -item[1])[:20]:
            self.stdout.write(f"  {titles.get(charter_id, charter_id)} (#{charter_id}): {fmt_credits(amount)} credits")
        rate = summary.lines / summary.seconds if summary.seconds else 0
        self.stdout.write(f"Took {summary.seconds:.1f} s ({rate:,.0f} lines/s).")
        if summary.dry_run:
            self.stdout.write("Dry run: nothing was written.")
        if summary.errors:
            if summary.posted or summary.already_posted:
                raise CommandError(f"{len(summary.errors)} row(s) could not be imported; the others were posted.")
            raise CommandError(
                f"{len(summary.errors)} row(s) could not be imported; nothing was posted "
                "(fix them, or give --skip-bad-rows to post the others)."
            )
