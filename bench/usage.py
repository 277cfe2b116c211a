"""An accounting import at infrastructure scale: `manage.py import_usage` of a CSV of hourly
usage (50 charters x 2 resources x as many hours as the row count needs), against a raw COPY of
the same file into a table with the same key (the median of three); the idempotent re-run
against the first run; the import's peak memory; `verify_ledger` afterwards.

Run with `make bench B=usage` (or `python -m bench usage`). BENCH_USAGE_ROWS sets the rows
(default 1,000,000 on PostgreSQL, 20,000 on SQLite, whose baseline is executemany).
"""

from __future__ import annotations

import datetime
import os
import resource
import statistics
import subprocess
import sys
import time
from decimal import Decimal
from pathlib import Path

from bench.common import row

D = Decimal
CHARTERS = 50
BASELINE_RUNS = 3


def _world(hours: int):
    from django.test import override_settings
    from django.utils import timezone

    from compute.services.credits import requests
    from tests.base import make_body
    from tests.compute.credits import make_charter, make_world

    with override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"]):
        body = make_body()
        world = make_world(body)
    charters = [world["charter"]] + [
        make_charter(body, f"Bench charter {n}", lead=body.orgs.council) for n in range(CHARTERS - 1)
    ]
    for charter in charters:
        request = requests.create_request(
            body.admin, charter=charter, resource=world["gpu"], pool=world["pool"], amount=D("1000"),
            justification="benchmark", submit=True,
        )  # fmt: skip
        requests.sign_request(body.public_chair, request)
        requests.sign_request(body.private_chair, request)
    start = timezone.now().replace(minute=0, second=0, microsecond=0) - datetime.timedelta(hours=hours + 1)
    return world, charters, start


def _write_csv(path: Path, world, charters, start, hours: int) -> int:
    names = [world["gpu"].name, world["cpu"].name]
    count = 0
    with path.open("w") as out:
        out.write("hour,resource,charter,unit_hours\n")
        for h in range(hours):
            stamp = (start + datetime.timedelta(hours=h)).strftime("%Y-%m-%dT%H:00:00Z")
            for charter in charters:
                for n, name in enumerate(names):
                    out.write(f"{stamp},{name},{charter.pk},{(h + charter.pk + n) % 8 + 0.25}\n")
                    count += 1
    return count


def _raw_copy(path: Path) -> float:
    """The baseline: the same file into a table with the same key, by the database's own bulk write."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("DROP TABLE IF EXISTS bench_usage_copy")
        cursor.execute(
            "CREATE TABLE bench_usage_copy (hour timestamptz, resource varchar(120), charter bigint, "
            "unit_hours numeric(14, 4), UNIQUE (resource, charter, hour))"
        )
    started = time.perf_counter()
    if connection.vendor == "postgresql":
        connection.ensure_connection()
        with connection.connection.cursor() as raw:
            with raw.copy("COPY bench_usage_copy FROM STDIN (FORMAT csv, HEADER)") as copy, path.open("rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            connection.connection.commit()
    else:
        import csv

        with path.open() as f, connection.cursor() as cursor:
            reader = csv.reader(f)
            next(reader)
            cursor.executemany("INSERT INTO bench_usage_copy VALUES (%s, %s, %s, %s)", list(reader))
    return time.perf_counter() - started


def _settle() -> None:
    """Let the database finish what the last step left it doing (autovacuum of a million new
    rows, dirty pages for the next checkpoint) before the next step is timed, so that neither
    the baseline nor the import pays for the other's writes."""
    from django.db import connection

    if connection.vendor != "postgresql":
        return
    connection.ensure_connection()
    with connection.cursor() as cursor:
        cursor.execute("VACUUM ANALYZE")
        cursor.execute("CHECKPOINT")


def _import(path: Path, *extra: str) -> tuple[float, str]:
    """The import as an operator runs it: its own process (so its peak memory is its own)."""
    from django.db import connection

    env = dict(os.environ)
    if connection.vendor == "postgresql":
        s = connection.settings_dict
        env["DATABASE_URL"] = f"postgres://{s['USER']}@{s['HOST']}:{s['PORT']}/{s['NAME']}"
    else:
        env["DATABASE_URL"] = f"sqlite:///{connection.settings_dict['NAME']}"
    started = time.perf_counter()
    done = subprocess.run(  # noqa: S603 - our own manage.py
        [sys.executable, "manage.py", "import_usage", str(path), "--source", "bench", "--no-progress", *extra],
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - started
    if done.returncode:
        raise RuntimeError(done.stderr[-2000:])
    return seconds, done.stdout


def run() -> list[dict]:
    from django.conf import settings
    from django.db import connection

    from compute.models import UsageRecord
    from compute.services.credits import verification

    vendor = connection.vendor
    rows = int(os.environ.get("BENCH_USAGE_ROWS", 1_000_000 if vendor == "postgresql" else 20_000))
    hours = max(1, rows // (CHARTERS * 2))
    world, charters, start = _world(hours)
    path = Path(settings.VAR_DIR) / "bench-usage.csv"
    written = _write_csv(path, world, charters, start, hours)
    connection.close()  # the import's process must see the world committed
    # The baseline moves by a third from one COPY to the next on a small machine (2.4 to 3.7 s
    # for a million rows): its median of three, each after the database has settled.
    copies = []
    for _ in range(BASELINE_RUNS):
        _settle()
        copies.append(_raw_copy(path))
    baseline = statistics.median(copies)
    _settle()
    first, output = _import(path)
    _settle()
    rerun, again = _import(path)
    recheck, reread = _import(path, "--recheck")
    peak_mib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    posted = UsageRecord.objects.count()
    report = verification.verify_ledger()
    path.unlink()
    summary = next((line for line in output.splitlines() if line.startswith("Charged")), "")
    return [
        row(
            "usage",
            f"raw {'COPY' if vendor == 'postgresql' else 'executemany'} of {written:,} rows",
            baseline,
            unit="s",
            ratio=1.0,
            note=f"baseline: median of {len(copies)} ({', '.join(f'{c:.2f}' for c in copies)} s)",
        ),
        row(
            "usage",
            f"import_usage of {written:,} rows",
            first,
            unit="s",
            ratio=baseline / first,
            note=f"COPY/import = fraction of COPY's speed; {written / first:,.0f} rows/s; {summary}"[:120],
        ),
        row(
            "usage",
            "idempotent re-run",
            rerun,
            unit="s",
            ratio=rerun / first,
            note=("charged nothing" if "Posted 0 row(s)" in again else "CHARGED AGAIN")
            + " (re-run/first): the same file, known by its SHA-256",
        ),
        row(
            "usage",
            "re-run read again (--recheck)",
            recheck,
            unit="s",
            ratio=recheck / first,
            note=("charged nothing" if "Posted 0 row(s)" in reread else "CHARGED AGAIN")
            + " (re-run/first): every row read and its key found posted",
        ),
        row("usage", "import peak RSS", peak_mib, unit="MiB", note="max over the import processes"),
        row(
            "usage",
            "verify_ledger after",
            len(report.problems),
            unit="problems",
            note=f"{posted:,} usage records, {report.transactions:,} transactions",
        ),
    ]
