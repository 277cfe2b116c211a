"""A usage table (CSV of hour, resource, charter, unit_hours) imported on PostgreSQL without
Python touching its rows: the file is COPYed as text into a session table; one statement then
checks and converts every row (the few distinct resource and charter names are resolved as
accounting.table_lines resolves them), sets aside the keys already posted and prices the rest
into a partition per batch (PRICED); each partition is posted as it lies (batch_sql.Priced),
one transaction and one audit event a batch. Nothing is posted when a row is bad, unless told
to skip bad rows; a dry run rolls everything back.
"""

from __future__ import annotations

import csv
import re
import time
from typing import TextIO

import psycopg
from django.core.exceptions import ValidationError
from django.db import DatabaseError, DataError, connection, transaction
from django.utils import timezone

from compute.models import Resource
from compute.services.credits import accounting, batch_sql, posting, usage

COLUMNS = ("hour", "resource", "charter", "unit_hours")
HOUR_RE = r"^\s*\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?\s*(Z|[+-]\d{2}(:?\d{2})?)?\s*$"
NUMBER_RE = r"^\s*(\d+(\.\d*)?|\.\d+)\s*$"

# One pass over the rows: each row's problem, and the good rows converted (a conversion is only
# made where the checks found nothing, so a bad row never raises). The fence (OFFSET 0) keeps
# the patterns evaluated once a row. A time without a zone is UTC: _price reads the table in a
# session whose time zone is UTC, and truncates to the hour there. The unit-hours are checked
# as text, or, when COPY read them as numbers itself (_load's first try; a number it could not
# read sent the table the text way), only for what a number may still be: negative or NaN.
CHECK = """
SELECT line, resource_id, charter_id,
       CASE WHEN problem IS NULL THEN date_trunc('hour', h::timestamptz) END AS hour,
       CASE WHEN problem IS NULL THEN {number} END AS unit_hours,
       problem
FROM (
    SELECT r.line, rk.id AS resource_id, ck.id AS charter_id, trim(r.hour) AS h, r.unit_hours AS u,
           CASE
           WHEN rk.id IS NULL THEN 'unknown resource ''' || left(COALESCE(r.resource, ''), 40) || ''''
           WHEN ck.id IS NULL THEN 'unknown charter ''' || left(COALESCE(r.charter, ''), 40) || ''''
           WHEN {hour_shape}COALESCE(r.hour, '') !~ '{hour_re}'
               THEN '''' || left(COALESCE(r.hour, ''), 40) || ''' is not an ISO 8601 time'
           {number_checks}
           END AS problem
    FROM usage_raw r
    LEFT JOIN usage_raw_resource rk ON rk.key = r.resource
    LEFT JOIN usage_raw_charter ck ON ck.key = r.charter
    OFFSET 0
) c
"""

TEXT_NUMBER_CHECKS = f"""
           WHEN COALESCE(r.unit_hours, '') ~ '^\\s*-' THEN 'Usage cannot be negative.'
           WHEN COALESCE(r.unit_hours, '') !~ '{NUMBER_RE}'
               THEN '''' || left(COALESCE(r.unit_hours, ''), 40) || ''' is not a number.'
           WHEN trim(r.unit_hours)::numeric > 9999999999.9999 THEN 'unit-hours in one hour past belief'"""

TYPED_NUMBER_CHECKS = """
           WHEN r.unit_hours < 0 THEN 'Usage cannot be negative.'
           WHEN r.unit_hours IS NULL OR r.unit_hours = 'NaN'
               THEN '''' || COALESCE(r.unit_hours::text, '') || ''' is not a number.'"""


# The shapes exports write their times in: a time of one of them skips HOUR_RE, which costs
# PostgreSQL ten times as much as LIKE (1.2 s of a million rows' 2.5 s check). Its characters are
# left to the cast to judge: one it cannot read fails the statement, and _price then checks
# every time by the pattern (the strict way) to say which rows are bad.
HOUR_SHAPES = [
    f"____-__-__{t}__:__{s}{z}" for t in ("T", " ") for s in (":__", "") for z in ("Z", "+__:__", "-__:__", "")
]


def check_sql(typed: bool, *, strict: bool = False) -> str:
    """CHECK for the table as _load COPYed it: its unit-hours as numbers, or as text; `strict`
    checks every time against HOUR_RE."""
    shape = "" if strict else f"NOT r.hour LIKE ANY (ARRAY[{', '.join(repr(s) for s in HOUR_SHAPES)}]) AND "
    if typed:
        return CHECK.format(hour_re=HOUR_RE, hour_shape=shape, number="u", number_checks=TYPED_NUMBER_CHECKS)
    return CHECK.format(
        hour_re=HOUR_RE,
        hour_shape=shape,
        number="round(trim(u)::numeric, 4)::numeric(14, 4)",
        number_checks=TEXT_NUMBER_CHECKS,
    )


DROP = "DROP TABLE IF EXISTS usage_raw, usage_raw_resource, usage_raw_charter, usage_fresh"


def _header(handle: TextIO) -> list[str]:
    names = [name.strip().lower() for name in next(csv.reader([handle.readline()]), [])]
    if missing := [name for name in COLUMNS if name not in names]:
        raise ValidationError(f"The table has no {', '.join(missing)} column (its header: {', '.join(names)}).")
    return names


def _keys(cursor, keys: set, table: str, resolve) -> None:
    cursor.execute(f"CREATE TEMP TABLE {table} (key text, id bigint)")
    cursor.executemany(f"INSERT INTO {table} VALUES (%s, %s)", [(key, resolve(key or "")) for key in keys])  # noqa: S608
    # Known to be small, the names are hashed against the rows, not the rows against them.
    cursor.execute(f"ANALYZE {table}")


def _charter_id(key: str) -> int | None:
    from charters.models import Charter
    from governance import values

    wanted = values.optional_id(key.strip())
    found = Charter.objects.filter(pk=wanted) if wanted is not None else None
    return (found or Charter.objects.filter(title=key.strip())).values_list("pk", flat=True).first()


def import_csv(
    handle: TextIO,
    *,
    source: str,
    actor=None,
    dry_run: bool = False,
    skip_bad_rows: bool = False,
    batch_size: int | None = None,
    progress: accounting.Progress | None = None,
) -> accounting.ImportSummary:
    """Import a CSV usage table on PostgreSQL; the same rules and summary as accounting.import_usage."""
    if connection.vendor != "postgresql":
        raise ValidationError("The COPY import needs PostgreSQL; use accounting.import_usage.")
    batch_size = accounting.TABLE_BATCH if batch_size is None else batch_size
    if batch_size < 1:
        raise ValidationError({"batch_size": "A batch holds at least one line."})
    summary = accounting.ImportSummary(dry_run=dry_run)
    started = time.perf_counter()
    names = _header(handle)
    resources = {r.name.casefold(): r.pk for r in Resource.objects.all()}
    try:
        with transaction.atomic():
            with connection.cursor() as cursor:
                # A million rows sorted and hashed in memory, not in files; no JIT (its compile
                # cost a tenth of the check, for plans this simple).
                cursor.execute("SET LOCAL jit = off")
                cursor.execute("SET LOCAL work_mem = '256MB'")
            typed, summary.rows = _load(handle, names, resources)
            posting.lock_ledger()
            summary.errors, total = _price(typed, rows=summary.rows, source=source, batch_size=batch_size)
            if not summary.errors or skip_bad_rows:
                _post(
                    summary,
                    resolved=summary.rows - len(summary.errors),
                    total=total,
                    source=source,
                    actor=actor,
                    batch_size=batch_size,
                    progress=progress,
                    started=started,
                )
            if dry_run:
                raise accounting.RollBack
    except accounting.RollBack:
        summary.batches = summary.alerts = 0
    except (DatabaseError, psycopg.Error) as error:  # COPY's own cursor raises psycopg's errors
        raise ValidationError(f"The table could not be read: {_said(error)}") from error
    finally:
        with connection.cursor() as cursor:
            cursor.execute(DROP)
    summary.seconds = time.perf_counter() - started
    return summary


def _said(error: Exception) -> str:
    """The database's reason, with the row COPY stopped at (its lines are the table's rows)."""
    reason = str(error).splitlines()[0]
    cause = error.__cause__ if isinstance(error.__cause__, psycopg.Error) else error
    context = getattr(getattr(cause, "diag", None), "context", None) or ""
    if found := re.search(r"COPY usage_raw, line (\d+)", context):
        return f"row {found.group(1)}: {reason}"
    return reason


def _load(handle: TextIO, names: list[str], resources: dict[str, int]) -> tuple[bool, int]:
    """COPY the table into `usage_raw`: first with COPY reading the unit-hours as numbers (the
    fast way), and if any of them is not one, again with every column as text, for _price to say
    which rows are bad. Whether the numbers were read typed, and the rows read."""
    start = handle.tell()
    try:
        with transaction.atomic():
            rows = _copy_raw(handle, names, typed=True)
        typed = True
    except (DataError, psycopg.DataError):  # COPY's own cursor raises psycopg's errors
        handle.seek(start)
        rows = _copy_raw(handle, names, typed=False)
        typed = False
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE usage_raw")
        # The names, in one pass over the rows (a few charters times a few resources).
        cursor.execute("SELECT resource, charter FROM usage_raw GROUP BY 1, 2")
        pairs = cursor.fetchall()
        _keys(
            cursor,
            {resource for resource, _ in pairs},
            "usage_raw_resource",
            lambda key: resources.get(key.strip().casefold()),
        )
        _keys(cursor, {charter for _, charter in pairs}, "usage_raw_charter", _charter_id)
    return typed, rows


def _copy_raw(handle: TextIO, names: list[str], *, typed: bool) -> int:
    """COPY the table into `usage_raw`; the rows it read."""
    columns = [name if name in COLUMNS else f"ignored_{n}" for n, name in enumerate(names)]
    kinds = {c: "numeric(14, 4)" if typed and c == "unit_hours" else "text" for c in columns}
    with connection.cursor() as cursor:
        cursor.execute(DROP)
        cursor.execute(f"CREATE TEMP TABLE usage_raw (line bigserial, {', '.join(f'{c} {kinds[c]}' for c in columns)})")
    with connection.connection.cursor() as raw:
        with raw.copy(f"COPY usage_raw ({', '.join(columns)}) FROM STDIN (FORMAT csv)") as copy:  # noqa: S608 - names from COLUMNS
            while chunk := handle.read(1 << 20):
                copy.write(chunk)
        return raw.rowcount


# Under the ledger lock, held from here to the import's end, in one statement over the table:
# each row checked (CHECK, kept in memory for both uses), the problems returned, and the first
# good row of each key, less the keys the ledger already holds, priced into a partition per batch
# (a re-run then posts nothing and opens no batch, and the batches need not plan again:
# batch_sql.Priced). Numbered in the key's order, which the batches' records are written in
# (any order charges the same: see batch_sql).
PRICED = "".join(
    [
        """
WITH checked AS MATERIALIZED ({check}), """,
        batch_sql.RATES.replace("{resources}", "SELECT id FROM usage_raw_resource WHERE id IS NOT NULL"),
        """, fresh AS (
INSERT INTO usage_fresh
SELECT f.seq, f.source, f.resource_id, f.charter_id, f.hour, f.unit_hours, """,
        batch_sql.PRICE.replace("{f}", "f"),
        """
FROM (
    SELECT row_number() OVER () AS seq, %(source)s::varchar(64) AS source, r.resource_id, r.charter_id, r.hour,
           r.unit_hours
    FROM (
        SELECT DISTINCT ON (charter_id, hour, resource_id) line, resource_id, charter_id, hour, unit_hours
        FROM checked WHERE problem IS NULL
        ORDER BY charter_id, hour, resource_id, line
    ) r
    WHERE NOT EXISTS (
        SELECT 1 FROM {record} u
        WHERE u.charter_id = r.charter_id AND u.hour = r.hour AND u.resource_id = r.resource_id
          AND u.source = %(source)s)
) f
""",
        batch_sql.PRICING.replace("{f}", "f"),
        """
)
SELECT line, problem FROM checked WHERE problem IS NOT NULL ORDER BY line
""",
    ]
)

PRICED_TABLE = """
CREATE TEMP TABLE usage_fresh (
    seq bigint, source varchar(64), resource_id bigint, charter_id bigint, hour timestamptz,
    unit_hours numeric(14, 4), account_id bigint, day date, rate_id bigint, rate_value numeric(12, 4),
    credits numeric(18, 4)
) PARTITION BY RANGE (seq)
"""


def _price(typed: bool, *, rows: int, source: str, batch_size: int) -> tuple[list[str], int]:
    """The table checked and its fresh rows priced into `usage_fresh` (PRICED): the rows'
    problems, and how many rows are to be posted. The caller holds the ledger lock. Nothing is
    written outside the session's tables: each batch opens the accounts it charges."""
    with connection.cursor() as cursor:
        cursor.execute(PRICED_TABLE)
        for n, first in enumerate(range(0, rows, batch_size)):
            cursor.execute(
                f"CREATE TEMP TABLE usage_fresh_{n} PARTITION OF usage_fresh "
                f"FOR VALUES FROM ({first + 1}) TO ({first + batch_size + 1})"
            )
        # A time without a zone is UTC (CHECK). The sort of the whole table (its rows in the
        # key's order) runs faster in PostgreSQL's merge of sorted runs than in one quicksort of
        # it all in memory: 0.6 s against 1.0 s for a million rows (a quicksort of that size
        # misses the processor's caches).
        cursor.execute("SET LOCAL TIME ZONE 'UTC'")
        cursor.execute("SET LOCAL work_mem = '64MB'")
        params = {"source": source, "zone": timezone.get_current_timezone_name()}
        try:
            with transaction.atomic():
                cursor.execute(PRICED.format(check=check_sql(typed), **batch_sql.T), params)
        except (DataError, psycopg.DataError):
            cursor.execute(PRICED.format(check=check_sql(typed, strict=True), **batch_sql.T), params)
        errors = [f"row {line}: {problem}" for line, problem in cursor.fetchall()]
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute("SELECT COUNT(*) FROM usage_fresh")
        return errors, cursor.fetchone()[0]


def _post(summary, *, resolved, total, source, actor, batch_size, progress, started) -> None:
    """The priced rows posted a batch (a partition) at a time."""
    with connection.cursor() as cursor:
        # The records' ids, a seq each: reserved at once (the ledger lock keeps other postings out).
        offset = batch_sql.reserve_ids(cursor, total) - 1 if total else 0
    summary.already_posted = summary.lines = resolved - total
    for n, first in enumerate(range(0, total, batch_size)):
        lines = min(batch_size, total - first)
        staged = batch_sql.Priced(f"usage_fresh_{n}", first, lines, offset)
        summary.add(usage.post_usage_batch(staged, source=source, actor=actor))
        summary.lines = resolved - total + first + lines
        if progress:
            progress(summary.lines, resolved, time.perf_counter() - started)
