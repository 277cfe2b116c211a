"""The leaves a usage batch's root commits to: their texts, written the same way in SQL
(PostgreSQL computes the leaves of a million records itself) and in Python (SQLite, proofs),
and the RFC 9162 root over them. Which leaves a batch has is its `UsageBatch.leaves`:

1. (batches before debits per day) one leaf per usage record: its idempotency key, unit-hours,
   rate, credits, debit transaction and that transaction's entries;
2. one leaf per usage record (`usage|` its debit, key, unit-hours, rate, credits), in the
   records' id order, then one leaf per debit (`debit|` its id and entries), in id order: a
   debit charges its account's records of one day. (The batch assigns the records' ids itself,
   so it knows their order before writing them; sorting by id costs a third of sorting by key.)
3. one leaf per debit (`debit|` its id, its entries and the SHA-256, in hex, of its records'
   texts of version 2 joined by newlines in id order), in id order, then one leaf per charter
   and UTC day of the records that charged nothing (`uncharged|` the charter, the day and the
   same digest of those records), in that order. A charge is proven by its debit's records and
   the path of their one leaf: a million hours of usage make some twenty thousand leaves, not a
   million, and PostgreSQL hashes each debit's records in one call (version 2's two hashes a
   record, sent to Python and built into a tree there, were a third of an import's time).

Proofs and replay: compute.services.credits.debits.
"""

from __future__ import annotations

import datetime
import hashlib
from collections import defaultdict
from collections.abc import Iterable, Iterator
from decimal import Decimal

from django.db import connection

from compute.models.ledger import exact
from governance.transparency import merkle

# The leaves of a batch's debits, from tables holding its records and their entries. The records'
# order is the idempotency key's, bytewise (COLLATE "C"), as Python sorts strings.
LEAF_SQL = """
SELECT sha256(convert_to(concat_ws('|',
    COALESCE(r.transaction_id::text, ''), r.source, r.resource_id::text, r.charter_id::text,
    to_char(r.hour AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
    r.unit_hours::numeric(14, 4)::text, r.rate_value::numeric(12, 4)::text, r.credits::numeric(18, 4)::text,
    COALESCE(e.entries, '')), 'UTF8'))
FROM {records} r
LEFT JOIN (
    SELECT transaction_id, string_agg(
        account_id::text || ':' || COALESCE(pool_id::text, '') || ':' || amount::numeric(18, 4)::text, ','
        ORDER BY account_id, COALESCE(pool_id, 0), amount) AS entries
    FROM {entries} x GROUP BY transaction_id
) e ON e.transaction_id = r.transaction_id
{where}
ORDER BY r.source COLLATE "C", r.resource_id, r.charter_id, r.hour
"""


# Version 2: the records' leaves, then the debits' (see the module docstring).
# A record's leaf text, over the columns of a row (`{r}` the table's alias and a dot, or nothing).
RECORD_LEAF_TEXT = """concat_ws('|', 'usage',
    COALESCE({r}transaction_id::text, ''), {r}source, {r}resource_id::text, {r}charter_id::text,
    extract(epoch FROM {r}hour)::bigint::text, {r}unit_hours::numeric(14, 4)::text,
    {r}rate_value::numeric(12, 4)::text, {r}credits::numeric(18, 4)::text)"""

# Its RFC 9162 leaf hash: SHA-256(0x00 || SHA-256(text)).
RECORD_LEAF_HASH = "sha256('\\x00'::bytea || sha256(convert_to(" + RECORD_LEAF_TEXT + ", 'UTF8')))"

RECORD_LEAF_SQL = (
    """
SELECT {leaf}sha256(convert_to("""
    + RECORD_LEAF_TEXT.replace("{r}", "r.")
    + """, 'UTF8')){end}
FROM {records} r
ORDER BY r.id
"""
)

DEBIT_LEAF_SQL = """
SELECT {leaf}sha256(convert_to('debit|' || transaction_id::text || '|' || string_agg(
    account_id::text || ':' || COALESCE(pool_id::text, '') || ':' || amount::numeric(18, 4)::text, ','
    ORDER BY account_id, COALESCE(pool_id, 0), amount), 'UTF8')){end}
FROM {entries} x GROUP BY transaction_id ORDER BY transaction_id
"""


# Version 3, over `{records}` (id, transaction_id and the record's fields) and `{entries}` (the
# debits' ledger entries): each group's leaf entry, SHA-256 of its text, in the leaves' order.
# (Ruff's S608 does not apply: the record text is ours, the tables are filled in by our callers.)
GROUPED_LEAF_SQL = "".join(
    [
        """
WITH grouped AS (
    SELECT r.transaction_id,
           CASE WHEN r.transaction_id IS NULL THEN r.charter_id END AS charter_id,
           CASE WHEN r.transaction_id IS NULL THEN (r.hour AT TIME ZONE 'UTC')::date END AS utc_day,
           encode(sha256(convert_to(string_agg(""",
        RECORD_LEAF_TEXT.replace("{r}", "r."),
        """, E'\\n' ORDER BY r.id), 'UTF8')), 'hex') AS digest
    FROM {records} r GROUP BY 1, 2, 3
)
SELECT sha256(convert_to(CASE
    WHEN g.transaction_id IS NULL
        THEN 'uncharged|' || g.charter_id::text || '|' || to_char(g.utc_day, 'YYYY-MM-DD') || '|' || g.digest
    ELSE 'debit|' || g.transaction_id::text || '|' || COALESCE(e.entries, '') || '|' || g.digest
    END, 'UTF8'))
FROM grouped g
LEFT JOIN (
    SELECT transaction_id, string_agg(
        account_id::text || ':' || COALESCE(pool_id::text, '') || ':' || amount::numeric(18, 4)::text, ','
        ORDER BY account_id, COALESCE(pool_id, 0), amount) AS entries
    FROM {entries} x GROUP BY transaction_id
) e ON e.transaction_id = g.transaction_id
ORDER BY g.transaction_id IS NULL, g.transaction_id, g.charter_id, g.utc_day
""",
    ]
)


def _record_fields(transaction_id, source, resource_id, charter_id, hour: str, unit_hours, rate_value, credits):
    """A record's fields as both leaf versions write them, the hour already written."""
    return [
        "" if transaction_id is None else str(transaction_id),
        source,
        str(resource_id),
        str(charter_id),
        hour,
        *(str(exact(amount)) for amount in (unit_hours, rate_value, credits)),
    ]


def _entries_text(entries: Iterable[tuple[int, int | None, Decimal]]) -> str:
    ordered = sorted(((a, p, exact(amount)) for a, p, amount in entries), key=lambda e: (e[0], e[1] or 0, e[2]))
    return ",".join(f"{a}:{'' if p is None else p}:{amount}" for a, p, amount in ordered)


def leaf_text(
    *,
    transaction_id: int | None,
    source: str,
    resource_id: int,
    charter_id: int,
    hour: datetime.datetime,
    unit_hours: Decimal,
    rate_value: Decimal,
    credits: Decimal,
    entries: Iterable[tuple[int, int | None, Decimal]],
) -> str:
    """The text one leaf commits to in a batch of version 1 (the same as LEAF_SQL writes)."""
    stamp = hour.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    fields = _record_fields(transaction_id, source, resource_id, charter_id, stamp, unit_hours, rate_value, credits)
    return "|".join([*fields, _entries_text(entries)])


def record_leaf_text(
    *,
    transaction_id: int | None,
    source: str,
    resource_id: int,
    charter_id: int,
    hour: datetime.datetime,
    unit_hours: Decimal,
    rate_value: Decimal,
    credits: Decimal,
) -> str:
    """A record's leaf in a batch of version 2 (the same as RECORD_LEAF_SQL writes: the hour in
    seconds since 1970 UTC, the amounts with the four places their columns keep)."""
    stamp = str(int(hour.timestamp()))
    fields = _record_fields(transaction_id, source, resource_id, charter_id, stamp, unit_hours, rate_value, credits)
    return "|".join(["usage", *fields])


def debit_leaf_text(transaction_id: int, entries: Iterable[tuple[int, int | None, Decimal]]) -> str:
    """A debit's leaf in a batch of version 2 (the same as DEBIT_LEAF_SQL writes)."""
    return f"debit|{transaction_id}|{_entries_text(entries)}"


def records_digest(texts: Iterable[str]) -> str:
    """The hex SHA-256 of records' texts (version 2's) joined by newlines, in id order."""
    return hashlib.sha256("\n".join(texts).encode()).hexdigest()


def grouped_leaf_text(
    transaction_id: int | None,
    entries: Iterable[tuple[int, int | None, Decimal]],
    texts: Iterable[str],
    *,
    charter_id: int | None = None,
    day: datetime.date | None = None,
) -> str:
    """A leaf of version 3 (the same as GROUPED_LEAF_SQL writes): a debit and its records, or
    (no debit) the records of one charter and UTC day that charged nothing."""
    digest = records_digest(texts)
    if transaction_id is None:
        if day is None:
            raise ValueError("Records that charged nothing are grouped by their UTC day.")
        return f"uncharged|{charter_id}|{day.isoformat()}|{digest}"
    return f"debit|{transaction_id}|{_entries_text(entries)}|{digest}"


def _group_of(transaction_id: int | None, charter_id: int, hour: datetime.datetime) -> tuple:
    """Where a record's text goes in version 3, in the leaves' order."""
    if transaction_id is not None:
        return (0, transaction_id, 0, datetime.date.min)
    return (1, 0, charter_id, hour.astimezone(datetime.UTC).date())


def python_entries_v3(records: list[tuple], entries: dict[int, list]) -> Iterator[bytes]:
    """The leaf entries (version 3) of records (id, transaction, source, resource, charter, hour,
    unit_hours, rate_value, credits) and their debits' entries {transaction: [(account, pool,
    amount)]}."""
    for key, texts in grouped_texts(records).items():
        txn = key[1] if key[0] == 0 else None
        own = entries.get(txn, []) if txn is not None else []
        yield leaf_entry(grouped_leaf_text(txn, own, texts, charter_id=key[2], day=key[3]))


# A record's fields as the leaf texts take them (their names are the model's).
RECORD_FIELDS = ("transaction_id", "source", "resource_id", "charter_id", "hour", "unit_hours", "rate_value", "credits")


def named(row: tuple) -> dict:
    """A row of RECORD_FIELDS as the keyword arguments of record_leaf_text and leaf_text."""
    return dict(zip(RECORD_FIELDS, row, strict=True))


def grouped_texts(records: list[tuple]) -> dict[tuple, list[str]]:
    """Records (id, then RECORD_FIELDS) as version 3 groups their texts, in the leaves' order."""
    groups: dict[tuple, list[str]] = defaultdict(list)
    for _, *fields in sorted(records):
        row = named(tuple(fields))
        groups[_group_of(row["transaction_id"], row["charter_id"], row["hour"])].append(record_leaf_text(**row))
    return dict(sorted(groups.items()))


def sql_entries_v3(records: str, entries: str, params: dict | None = None) -> Iterator[bytes]:
    """The leaf entries (version 3) PostgreSQL computes over `records` and the debits' `entries`
    (tables or subqueries; `params` bound in each)."""
    yield from _sql_leaves(GROUPED_LEAF_SQL.format(records=records, entries=entries), params)


def leaf_entry(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def stream_root(entries: Iterable[bytes], *, hashed: bool = False) -> tuple[bytes, int]:
    """The RFC 9162 root of the leaves over `entries` (or of the leaf hashes themselves, when
    `hashed`), and their number, in O(log n) memory: only the right frontier of perfect
    subtrees is kept."""
    frontier: list[tuple[int, bytes]] = []  # (size, hash), sizes decreasing
    size = 0
    for entry in entries:
        node, count = (entry if hashed else merkle.leaf_hash(entry)), 1
        while frontier and frontier[-1][0] == count:
            left_count, left = frontier.pop()
            node, count = merkle.node_hash(left, node), left_count + count
        frontier.append((count, node))
        size += 1
    if not frontier:
        return merkle.empty_root(), 0
    root = frontier[-1][1]
    for _, left in reversed(frontier[:-1]):
        root = merkle.node_hash(left, root)
    return root, size


def sql_entries(records: str, entries: str, where: str = "", params: list | dict | None = None) -> Iterator[bytes]:
    """The leaf entries PostgreSQL computes over `records` and `entries` (tables or subqueries)."""
    with connection.cursor() as cursor:
        cursor.execute(LEAF_SQL.format(records=records, entries=entries, where=where), params or [])
        while chunk := cursor.fetchmany(20000):
            for (digest,) in chunk:
                yield bytes(digest)


def sql_entries_v2(
    records: str, entries: str, params: dict | None = None, *, leaf_hashes: bool = False
) -> Iterator[bytes]:
    """The leaf entries (version 2) PostgreSQL computes over `records` and the debits' `entries`
    (tables or subqueries; `params` bound in each), or with `leaf_hashes` their RFC 9162 leaf
    hashes, SHA-256(0x00 || entry), computed there too."""
    yield from _sql_leaves(RECORD_LEAF_SQL.format(records=records, **_leaf(leaf_hashes)), params)
    yield from sql_debit_leaves(entries, params, leaf_hashes=leaf_hashes)


def sql_debit_leaves(entries: str, params: dict | None = None, *, leaf_hashes: bool = False) -> Iterator[bytes]:
    """The debits' leaf entries (or leaf hashes), in id order, over their `entries`."""
    yield from _sql_leaves(DEBIT_LEAF_SQL.format(entries=entries, **_leaf(leaf_hashes)), params)


def _leaf(hashes: bool) -> dict[str, str]:
    return {"leaf": "sha256('\\x00'::bytea || ", "end": ")"} if hashes else {"leaf": "", "end": ""}


def _sql_leaves(sql: str, params: dict | None) -> Iterator[bytes]:
    with connection.cursor() as cursor:
        cursor.execute(sql, params or {})
        while chunk := cursor.fetchmany(20000):
            for (digest,) in chunk:
                yield bytes(digest)


def python_entries_v2(records: list[tuple], entries: dict[int, list]) -> Iterator[bytes]:
    """The leaf entries (version 2) of records (transaction, source, resource, charter, hour,
    unit_hours, rate_value, credits) in the order of their ids and their debits' entries {transaction: [(account,
    pool, amount)]}."""
    for row in records:
        yield leaf_entry(record_leaf_text(**named(row)))
    for txn in sorted(entries):
        yield leaf_entry(debit_leaf_text(txn, entries[txn]))
