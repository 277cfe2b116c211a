"""The PostgreSQL path of a usage batch: COPY into a staging table, charge in SQL.

Every step is one statement over the whole batch, whatever its size:

1. COPY the lines into `usage_stage`, numbered in the batch's order;
2. `usage_plan`: the first line of each key, less the keys posted before, at the rate in effect
   at its hour (rates as ranges of effective dates; a resource's first rate also prices the
   hours before it), and the day whose debit charges it;
3. `usage_debit`: one debit per account and day, with its running total per account and its
   transaction id;
4. `usage_lot`: each account's non-expired lots once, oldest period first, as ranges of credits;
5. `usage_entry`: each debit's cut of each lot (the overlap of two ranges) and the overdraft
   beyond the last lot, on the account's side and the usage account's;
6. the transactions, entries and records inserted from those tables, each account's balance
   and daily summaries moved once.

A table import (table_sql) plans its whole table in one statement and hands each batch over
already planned (Priced), from step 3.

So a million hours of usage write a million records but only a debit and a few entries per
account and day. The ledger lock (posting.lock_ledger) is held by the caller, so no other
posting interleaves.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from django.db import connection
from django.utils import timezone

from compute.models import (
    AccountDay,
    CreditAccount,
    LedgerEntry,
    LedgerTransaction,
    Resource,
    ResourceRate,
    UsageRecord,
)
from compute.models.ledger import ZERO, CreditPool
from compute.services.credits import batches, leaves

T = {
    "account": CreditAccount._meta.db_table,
    "entry": LedgerEntry._meta.db_table,
    "txn": LedgerTransaction._meta.db_table,
    "record": UsageRecord._meta.db_table,
    "rate": ResourceRate._meta.db_table,
    "pool": CreditPool._meta.db_table,
}

STAGE = """
DROP TABLE IF EXISTS usage_stage, usage_plan, usage_debit, usage_lot, usage_entry, usage_resource;
CREATE TEMP TABLE usage_stage (
    seq bigint, source varchar(64), resource_id bigint, charter_id bigint, hour timestamptz,
    unit_hours numeric(14, 4)
) ON COMMIT DROP;
"""

# The rates of the batch's resources as ranges of effective dates (a resource's first rate also
# prices the hours before it), and what prices a line `{f}`: its account, the day (in the portal's
# time zone) whose debit charges it, and the rate in effect at its hour.
RATES = """rates AS (
    SELECT id, resource_id, rate,
           CASE WHEN ROW_NUMBER() OVER w = 1 THEN '-infinity' ELSE effective_from END AS since,
           COALESCE(LEAD(effective_from) OVER w, 'infinity') AS until
    FROM {rate} WHERE resource_id IN ({resources})
    WINDOW w AS (PARTITION BY resource_id ORDER BY effective_from)
)"""
PRICE = """a.id AS account_id, ({f}.hour AT TIME ZONE %(zone)s)::date AS day,
       r.id AS rate_id, COALESCE(r.rate, 0)::numeric(12, 4) AS rate_value,
       ROUND({f}.unit_hours * COALESCE(r.rate, 0), 4)::numeric(18, 4) AS credits"""
# (A table import prices its rows before each batch opens its charters' accounts: a charter
# without one is priced with no account, and batch_sql.Priced fills it in once it is open.)
PRICING = """LEFT JOIN {account} a ON a.charter_id = {f}.charter_id
LEFT JOIN rates r ON r.resource_id = {f}.resource_id AND {f}.hour >= r.since AND {f}.hour < r.until"""

# Each record priced at the rate in effect at its hour, with the day whose debit charges it.
PLAN = "".join(
    [
        """
CREATE TEMP TABLE usage_plan ON COMMIT DROP AS
WITH firsts AS ({firsts}), """,
        RATES.replace("{resources}", "SELECT id FROM usage_resource"),
        """
SELECT {record_id} AS record_id,
       f.seq, f.source, f.resource_id, f.charter_id, f.hour, f.unit_hours, """,
        PRICE.replace("{f}", "f"),
        """
FROM firsts f
""",
        PRICING.replace("{f}", "f"),
        """
{not_posted};
""",
    ]
)

# The first line of each key in the batch, and only keys not posted before.
FIRSTS = """
SELECT DISTINCT ON (source, resource_id, charter_id, hour) *
FROM usage_stage ORDER BY source, resource_id, charter_id, hour, seq
"""
NOT_POSTED = """
WHERE NOT EXISTS (
    SELECT 1 FROM {record} u
    WHERE u.charter_id = {f}.charter_id AND u.hour = {f}.hour AND u.resource_id = {f}.resource_id
      AND u.source = {f}.source)
"""

# One debit per account and day: what the day's records charged, with the running total of the
# account's debits in the order of their days (which lots a debit draws on; the lots left once
# the batch is posted are the same in any order, as every draw takes the lot that ends first).
DEBITS = """
CREATE TEMP TABLE usage_debit ON COMMIT DROP AS
SELECT d.*, SUM(d.credits) OVER (PARTITION BY d.account_id ORDER BY d.day) AS cum_end,
       nextval(pg_get_serial_sequence('{txn}', 'id')) AS transaction_id
FROM (
    SELECT account_id, day, MIN(hour) AS occurred_at, SUM(credits) AS credits, COUNT(*) AS records
    FROM {plan} WHERE credits > 0 GROUP BY account_id, day
) d ORDER BY d.account_id, d.day;
CREATE INDEX ON usage_debit (account_id, day);
ANALYZE usage_debit;
"""

LOTS = """
CREATE TEMP TABLE usage_lot ON COMMIT DROP AS
WITH held AS (
    SELECT e.account_id, e.pool_id, p.period_end, SUM(e.amount) AS balance
    FROM {entry} e JOIN {pool} p ON p.id = e.pool_id
    WHERE p.expired_at IS NULL AND e.account_id IN (SELECT account_id FROM usage_debit)
    GROUP BY e.account_id, e.pool_id, p.period_end
)
SELECT account_id, pool_id, balance,
       SUM(GREATEST(balance, 0)) OVER (PARTITION BY account_id ORDER BY period_end, pool_id) AS lot_end,
       ROW_NUMBER() OVER (PARTITION BY account_id ORDER BY period_end DESC, pool_id DESC) = 1 AS is_last
FROM held;
"""

# A debit covers the credits (cum_end - credits, cum_end] of its account's batch; a lot the
# credits (lot_end - balance, lot_end]. What lies beyond the account's lots is the overdraft.
ENTRIES = """
CREATE TEMP TABLE usage_entry ON COMMIT DROP AS
WITH cut AS (
    SELECT d.transaction_id, d.account_id, l.pool_id,
           LEAST(d.cum_end, l.lot_end) - GREATEST(d.cum_end - d.credits, l.lot_end - l.balance) AS amount
    FROM usage_debit d JOIN usage_lot l ON l.account_id = d.account_id AND l.balance > 0
    UNION ALL
    SELECT d.transaction_id, d.account_id, last.pool_id,
           d.cum_end - GREATEST(d.cum_end - d.credits, COALESCE(held.total, 0)) AS amount
    FROM usage_debit d
    LEFT JOIN (SELECT account_id, MAX(lot_end) AS total FROM usage_lot GROUP BY account_id) held
        ON held.account_id = d.account_id
    LEFT JOIN usage_lot last ON last.account_id = d.account_id AND last.is_last
    WHERE d.cum_end > COALESCE(held.total, 0)
)
SELECT transaction_id, account_id, pool_id, -amount AS amount FROM cut WHERE amount > 0
UNION ALL
SELECT transaction_id, %s, pool_id, amount FROM cut WHERE amount > 0;
"""

TRANSACTIONS = f"""
INSERT INTO {T["txn"]} (id, kind, occurred_at, created_at, actor_id, memo, reverses_id)
SELECT d.transaction_id, 'usage', d.occurred_at, %(now)s, %(actor)s,
       LEFT(d.records || CASE WHEN d.records = 1 THEN ' hour' ELSE ' hours' END || ' of usage on '
            || to_char(d.day, 'FMDD Mon YYYY') || ' (' || %(source)s || ')', 300),
       NULL
FROM usage_debit d ORDER BY d.transaction_id
"""  # noqa: S608 - table names come from the models; values are bound

ENTRY_ROWS = f"""
INSERT INTO {T["entry"]} (transaction_id, account_id, pool_id, amount)
SELECT transaction_id, account_id, pool_id, amount FROM usage_entry ORDER BY transaction_id
"""  # noqa: S608 - table names come from the models; values are bound

BALANCES = f"""
UPDATE {T["account"]} a SET balance = a.balance + m.delta
FROM (SELECT account_id, SUM(amount) AS delta FROM usage_entry GROUP BY account_id) m
WHERE a.id = m.account_id
"""  # noqa: S608 - table names come from the models; values are bound

DAYS = f"""
INSERT INTO {AccountDay._meta.db_table} AS s (account_id, day, kind, amount, entries)
SELECT e.account_id, d.day, 'usage', SUM(e.amount), COUNT(*)
FROM usage_entry e JOIN usage_debit d ON d.transaction_id = e.transaction_id
GROUP BY 1, 2
ON CONFLICT (account_id, day, kind)
    DO UPDATE SET amount = s.amount + excluded.amount, entries = s.entries + excluded.entries
"""  # noqa: S608 - the model's table; values are bound

# The records as they will be written: each with the debit of its account and day.
PLANNED_RECORDS = """(
    SELECT {record_id} AS id, p.source, p.resource_id, p.charter_id, p.hour, p.unit_hours, p.rate_id,
           p.rate_value, p.credits, d.transaction_id
    FROM {plan} p LEFT JOIN usage_debit d ON p.credits > 0 AND d.account_id = p.account_id AND d.day = p.day
)"""

# No ON CONFLICT: the plan set aside every key already posted, under the ledger lock, so a
# conflict here can only be a posting that ignored the lock, and it fails the batch. In id order,
# which is the key's (the three indexes are written in order, not all over).
RECORDS = f"""
INSERT INTO {T["record"]} (id, source, resource_id, charter_id, hour, unit_hours, rate_id, rate_value, credits,
                           transaction_id, posted_at, batch_id)
SELECT r.id, r.source, r.resource_id, r.charter_id, r.hour, r.unit_hours, r.rate_id, r.rate_value, r.credits,
       r.transaction_id, %(now)s, %(batch)s
FROM {{planned}} r
ORDER BY r.id
"""  # noqa: S608 - table names come from the models; values are bound


# The records' ids in the key's order.
NUMBERED = "%(first_id)s - 1 + ROW_NUMBER() OVER (ORDER BY f.charter_id, f.hour, f.resource_id, f.source)"


@dataclass(frozen=True)
class Priced:
    """A batch already planned in the database (table_sql's imports): `table` holds `lines` rows
    with the plan's columns but the record id (seq, source, resource_id, charter_id, hour,
    unit_hours, account_id, day, rate_id, rate_value, credits), priced under the ledger lock the
    caller still holds. They are the first of their keys, none posted before, their resources
    known, and the records' ids reserved: a record's id is its seq plus `offset` (seq runs in
    the key's order). A charter that had no account yet is priced without one: the batch opens
    it and fills it in."""

    table: str
    after: int  # the seq before its first row
    lines: int
    offset: int

    def record_id(self) -> str:
        return f"p.seq + {int(self.offset)}"

    @property
    def first_record(self) -> int:
        return self.after + 1 + self.offset


def _copy(lines: Iterable[batches.UsageLine]) -> int:
    count = 0
    connection.ensure_connection()
    with (
        connection.connection.cursor() as raw,
        raw.copy("COPY usage_stage (seq, source, resource_id, charter_id, hour, unit_hours) FROM STDIN") as copy,
    ):
        for count, line in enumerate(lines, start=1):  # noqa: B007 - the count is the result
            copy.write_row((count, line.source, line.resource_id, line.charter_id, line.hour, line.unit_hours))
    return count


def reserve_ids(cursor, count: int) -> int:
    """The first of `count` usage record ids taken from the records' sequence at once (one call,
    where nextval per row cost a fifth of the plan); the ledger lock the caller holds keeps any
    other posting from drawing ids meanwhile."""
    cursor.execute(
        "SELECT setval(s, nextval(s) + %s - 1) - %s + 1 FROM pg_get_serial_sequence(%s, 'id') AS s",
        [count, count, T["record"]],
    )
    return cursor.fetchone()[0]


def _column(cursor, sql: str) -> list:
    cursor.execute(sql)
    return [row[0] for row in cursor.fetchall()]


def post(lines: Iterable[batches.UsageLine] | Priced, *, source: str, actor) -> batches.BatchResult:
    """Charge the lines in SQL; the caller holds the ledger lock in its transaction."""
    result = batches.BatchResult()
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL jit = off")
        # The plan sorts the whole batch (first line of each key): in memory.
        cursor.execute("SET LOCAL work_mem = '256MB'")
        cursor.execute(STAGE)
        if isinstance(lines, Priced):
            # Planned already (table_sql): the plan is the table, its accounts open and locked
            # below, as posting's lock order wants them.
            result.lines, plan, record_id = lines.lines, lines.table, lines.record_id()
            first_record = lines.first_record
            if not result.lines:
                return result
            summary = _summary(cursor, plan)
            accounts = batches.open_accounts([charter for charter, *_ in summary], actor)
            # Accounts this batch has just opened, for the rows priced before they were.
            cursor.execute(
                f"UPDATE {plan} p SET account_id = a.id FROM {T['account']} a "  # noqa: S608 - our own tables
                "WHERE p.account_id IS NULL AND a.charter_id = p.charter_id"
            )
        else:
            result.lines = _copy(cast(Iterable[batches.UsageLine], lines))
            if not result.lines:
                return result
            plan, record_id = "usage_plan", "p.record_id"
            planned = _plan(cursor, result.lines, actor)
            if planned is None:
                return result
            accounts, first_record = planned
            summary = _summary(cursor, plan)
        cursor.execute(DEBITS.format(**T, plan=plan))
        cursor.execute(LOTS.format(**T))
        cursor.execute(ENTRIES, [accounts[0].pk])
        for charter, records, charged, amount in summary:
            result.posted += records
            result.debits += charged
            result.by_charter[charter] = Decimal(amount)
        result.credits = sum(result.by_charter.values(), ZERO)
        result.transactions = _column(cursor, "SELECT COUNT(*) FROM usage_debit")[0]
        if not result.posted:
            return result
        records = PLANNED_RECORDS.format(plan=plan, record_id=record_id)
        # The root over the records as they will be written (a leaf per debit, hashing its
        # records: leaves.GROUPED_LEAF_SQL), then the batch and its event, then the rows.
        root, _ = leaves.stream_root(leaves.sql_entries_v3(records, "usage_entry"))
        batch = batches.record_batch(result, source=source, actor=actor, root=root, leaves=3, first_record=first_record)
        now = timezone.now()
        cursor.execute(RECORDS.format(planned=records), {"now": now, "batch": batch.pk})
        actor_id = actor.pk if actor is not None and actor.is_authenticated else None
        cursor.execute(TRANSACTIONS, {"now": now, "actor": actor_id, "source": source[:64]})
        cursor.execute(ENTRY_ROWS)
        cursor.execute(BALANCES)
        cursor.execute(DAYS)
        charged = _column(cursor, "SELECT account_id FROM usage_debit GROUP BY account_id")
    result.batch = batch
    by_pk = {account.pk: account for account in accounts.values()}
    result.alerts = batches.raise_alerts(by_pk[pk] for pk in sorted(charged))
    result.credits = result.credits.quantize(Decimal("0.0001")) if result.credits else ZERO
    return result


def _plan(cursor, lines: int, actor) -> tuple[dict[int, CreditAccount], int] | None:
    """`usage_plan` from the lines COPYed into `usage_stage`: the accounts charged and the first
    record's id (None if every key was posted before)."""
    cursor.execute("ANALYZE usage_stage")
    resource_ids = _column(cursor, "SELECT DISTINCT resource_id FROM usage_stage")
    batches.check_resources(resource_ids)
    new = NOT_POSTED.format(**T, f="s")
    fresh_charters = _column(cursor, f"SELECT DISTINCT charter_id FROM usage_stage s {new}")  # noqa: S608
    if not fresh_charters:
        return None
    accounts = batches.open_accounts(fresh_charters, actor)
    cursor.execute("CREATE TEMP TABLE usage_resource (id bigint, name text, unit text) ON COMMIT DROP")
    cursor.executemany(
        "INSERT INTO usage_resource VALUES (%s, %s, %s)",
        [(r.pk, r.name, r.unit) for r in Resource.objects.filter(pk__in=resource_ids)],
    )
    first_id = reserve_ids(cursor, lines)
    plan = PLAN.format(**T, firsts=FIRSTS, record_id=NUMBERED, not_posted=NOT_POSTED.format(**T, f="f"))
    cursor.execute(plan, {"zone": timezone.get_current_timezone_name(), "first_id": first_id})
    return accounts, first_id


def _summary(cursor, plan: str) -> list[tuple]:
    """(charter, records, records that charged, credits) for each charter of the plan."""
    cursor.execute(
        "SELECT charter_id, COUNT(*), COUNT(*) FILTER (WHERE credits > 0), COALESCE(SUM(credits), 0) "  # noqa: S608
        f"FROM {plan} GROUP BY charter_id ORDER BY charter_id"
    )
    return cursor.fetchall()
