"""Usage posted in batches, set-based, one transaction per batch (DESIGN.md 2.3).

`usage.post_usage_batch` is where the import, the collectors' attribution and `post_pending_usage`
hand usage to the ledger. It charges each line what `usage.post_usage` would charge it: the same
idempotency key (source, resource, charter, hour; the first line of a key wins, a key already
posted charges nothing), the rate in effect at its hour, and the same draws on the account's
lots (the pool that ends first, first; usage is never refused, an overdraft goes to the latest
pool), so balances and pools end where posting the lines one by one leaves them. What differs
is the cost: each account is charged one debit per day of the batch (its usage records name
it, and a refund gives back some of its hours), balances are moved once per account, alerts
are checked once per account, and the batch is one audit event whose Merkle root commits to
every record and every debit (compute.services.credits.debits). On PostgreSQL the batch is
COPYed into a staging table and charged in SQL (batch_sql); SQLite keeps a correct, slower path
in Python here (post_in_python).
"""

from __future__ import annotations

import base64
import bisect
import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db.models import F, Max
from django.utils import timezone

from compute.choices import AccountKind, TransactionKind
from compute.models import (
    CreditAccount,
    CreditAlert,
    LedgerEntry,
    LedgerTransaction,
    Resource,
    ResourceRate,
    UsageBatch,
    UsageRecord,
)
from compute.models.ledger import ZERO
from compute.services.credits import alerts, leaves, pools, posting
from governance.audit import record_event

UNIT_HOURS = Decimal("0.0001")
MAX_UNIT_HOURS = Decimal("9999999999.9999")  # the column's fourteen digits


@dataclass(frozen=True)
class UsageLine:
    """Unit-hours of a resource used by a charter in the hour starting at `hour`."""

    source: str
    resource_id: int
    charter_id: int
    hour: datetime.datetime
    unit_hours: Decimal


def usage_line(*, source: str, resource_id: int, charter_id: int, hour, unit_hours) -> UsageLine:
    """A checked line: an aware hour (minutes dropped), non-negative unit-hours to four places,
    a source name that fits the key. Raises ValidationError saying what is wrong."""
    if not isinstance(hour, datetime.datetime) or timezone.is_naive(hour):
        raise ValidationError({"hour": "Give the hour as a timezone-aware datetime."})
    try:
        amount = Decimal(unit_hours).quantize(UNIT_HOURS, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError) as error:
        raise ValidationError({"unit_hours": f"'{unit_hours}' is not a number."}) from error
    if not amount.is_finite() or amount < 0:
        raise ValidationError({"unit_hours": "Usage cannot be negative."})
    if amount > MAX_UNIT_HOURS:
        raise ValidationError({"unit_hours": f"{unit_hours} unit-hours in one hour is not believable."})
    if not source or len(source) > 64:
        raise ValidationError({"source": "Name the source in 1 to 64 characters."})
    hour = hour.astimezone(datetime.UTC).replace(minute=0, second=0, microsecond=0)
    return UsageLine(source, int(resource_id), int(charter_id), hour, amount)


@dataclass
class BatchResult:
    """What a batch did (or, in a dry run, would do)."""

    lines: int = 0
    posted: int = 0
    debits: int = 0  # the records that charged credits
    transactions: int = 0  # the debits that charged them: one per account and day
    credits: Decimal = ZERO
    by_charter: dict[int, Decimal] = field(default_factory=dict)
    alerts: list[CreditAlert] = field(default_factory=list)
    batch: UsageBatch | None = None

    @property
    def already_posted(self) -> int:
        """Lines whose key was posted before, or earlier in the same batch."""
        return self.lines - self.posted


def open_accounts(charter_ids: Iterable[int], actor=None) -> dict[int, CreditAccount]:
    """{charter id: its account}, opening (and auditing) those that have none, then locking
    them and the usage account in primary-key order (posting's lock order, step 4)."""
    from charters.models import Charter

    wanted = set(charter_ids)
    have = dict(CreditAccount.objects.filter(charter_id__in=wanted).values_list("charter_id", "pk"))
    missing = wanted - set(have)
    known = {c.pk: c for c in Charter.objects.filter(pk__in=missing)}
    if unknown := missing - set(known):
        raise ValidationError({"charter": f"No charter with id {', '.join(map(str, sorted(unknown)))}."})
    for charter in known.values():
        have[charter.pk] = pools.open_account(charter, actor).pk
    usage = posting.system_account(AccountKind.USAGE)
    locked = posting.lock_accounts([*(CreditAccount(pk=pk) for pk in have.values()), usage])
    return {charter_id: locked[pk] for charter_id, pk in have.items()} | {0: locked[usage.pk]}


def check_resources(resource_ids: Iterable[int]) -> None:
    wanted = set(resource_ids)
    if unknown := wanted - set(Resource.objects.filter(pk__in=wanted).values_list("pk", flat=True)):
        raise ValidationError({"resource": f"No resource with id {', '.join(map(str, sorted(unknown)))}."})


def record_batch(result: BatchResult, *, source: str, actor, root: bytes, leaves: int, first_record: int) -> UsageBatch:
    """The batch's row and its one audit event, committing to every record and debit through
    `root` (over leaves of that version: compute.services.credits.leaves). Its records are the
    `result.posted` ids from `first_record` on."""
    batch = UsageBatch.objects.create(
        leaves=leaves,
        first_record=first_record,
        source=source[:64],
        actor=actor if actor is not None and actor.is_authenticated else None,
        lines=result.lines,
        posted=result.posted,
        debits=result.debits,
        credits=result.credits,
        root=root,
    )
    record_event(
        actor,
        "ledger.usage_batch",
        batch,
        after={
            "source": batch.source,
            "lines": result.lines,
            "records": result.posted,
            "debits": result.debits,
            "credits": str(result.credits),
            "charters": {str(k): str(v) for k, v in sorted(result.by_charter.items())},
            "root": base64.b64encode(root).decode(),
        },
    )
    return batch


def raise_alerts(accounts: Iterable[CreditAccount]) -> list[CreditAlert]:
    """Alerts once per account per batch, after its debits (as post_usage does after each)."""
    raised: list[CreditAlert] = []
    for account in accounts:
        account.refresh_from_db(fields=["balance"])
        raised += alerts.check_alerts(account)
    return raised


def day_memo(records: int, day: datetime.date, source: str) -> str:
    """A batch's debit's memo, word for word batch_sql's: the account's hours of one day."""
    hours = "hour" if records == 1 else "hours"
    return f"{records} {hours} of usage on {day.day} {day:%b %Y} ({source})"[:300]


# --- SQLite: the same charges, computed in Python -------------------------------------------


def _rates(resource_ids: set[int]) -> dict[int, tuple[list[datetime.datetime], list[ResourceRate]]]:
    by_resource: dict[int, tuple[list, list]] = defaultdict(lambda: ([], []))
    for rate in ResourceRate.objects.filter(resource_id__in=resource_ids).order_by("resource_id", "effective_from"):
        starts, rates = by_resource[rate.resource_id]
        starts.append(rate.effective_from)
        rates.append(rate)
    return by_resource


def rate_at(starts: list[datetime.datetime], rates: list[ResourceRate], hour) -> ResourceRate | None:
    """ResourceRate.objects.in_effect_at over rates already read, sorted by effective date."""
    if not rates:
        return None
    return rates[max(bisect.bisect_right(starts, hour) - 1, 0)]


def split_draw(lots: list[list], amount: Decimal) -> list[tuple[int | None, Decimal]]:
    """posting.draw over lots held in memory ([pool, balance] pairs, oldest first), moving them."""
    parts: list[tuple[int | None, Decimal]] = []
    remaining = amount
    for lot in lots:
        if remaining <= 0:
            break
        if lot[1] > 0:
            take = min(lot[1], remaining)
            parts.append((lot[0], take))
            lot[1] -= take
            remaining -= take
    if remaining > 0:
        parts.append((lots[-1][0] if lots else None, remaining))
        if lots:
            lots[-1][1] -= remaining
    return parts


def _fresh_lines(lines: list[UsageLine]) -> list[UsageLine]:
    """The first line of each key not posted before, in the batch's order."""
    firsts: dict[tuple, UsageLine] = {}
    for line in lines:
        firsts.setdefault((line.source, line.resource_id, line.charter_id, line.hour), line)
    if not firsts:
        return []
    hours = [key[3] for key in firsts]
    posted = set(
        UsageRecord.objects.filter(
            source__in={k[0] for k in firsts},
            resource_id__in={k[1] for k in firsts},
            charter_id__in={k[2] for k in firsts},
            hour__range=(min(hours), max(hours)),
        ).values_list("source", "resource_id", "charter_id", "hour")
    )
    return [line for key, line in firsts.items() if key not in posted]


def post_in_python(lines: list[UsageLine], *, source: str, actor) -> BatchResult:
    """The batch on SQLite: the same charges as batch_sql, computed in Python and written with
    bulk inserts. The caller holds the ledger lock in its transaction."""
    result = BatchResult(lines=len(lines))
    check_resources({line.resource_id for line in lines})
    fresh = _fresh_lines(lines)
    if not fresh:
        return result
    accounts = open_accounts({line.charter_id for line in fresh}, actor)
    usage_account = accounts[0]
    rates = _rates({line.resource_id for line in fresh})
    now = timezone.now()
    actor = actor if actor is not None and actor.is_authenticated else None
    # Each record priced at its hour's rate; one debit per account and day (batch_sql's plan).
    priced = []  # (line, rate, rate_value, credits, day)
    day_debits: dict[tuple[int, datetime.date], list] = {}  # (account, day): [credits, records, first hour]
    for line in fresh:
        rate = rate_at(*rates[line.resource_id], line.hour)
        rate_value = rate.rate if rate else ZERO
        amount = posting.credits(line.unit_hours * rate_value)
        day = timezone.localdate(line.hour)
        priced.append((line, rate, rate_value, amount, day))
        if amount > 0:
            debit = day_debits.setdefault((accounts[line.charter_id].pk, day), [ZERO, 0, line.hour])
            debit[0] += amount
            debit[1] += 1
            debit[2] = min(debit[2], line.hour)
    keys = sorted(day_debits)
    result.posted = len(priced)
    result.debits = sum(1 for *_, amount, _ in priced if amount > 0)
    for line, _, _, amount, _ in priced:
        result.by_charter[line.charter_id] = result.by_charter.get(line.charter_id, ZERO) + amount
    result.credits = sum(result.by_charter.values(), ZERO)
    txns = LedgerTransaction.objects.bulk_create(
        [
            LedgerTransaction(
                kind=TransactionKind.USAGE,
                occurred_at=day_debits[key][2],
                created_at=now,
                actor=actor,
                memo=day_memo(day_debits[key][1], key[1], source),
            )
            for key in keys
        ]
    )
    txn_of = dict(zip(keys, txns, strict=True))
    result.transactions = len(txns)
    # Each account's debits draw on its lots in the order of their days.
    lots: dict[int, list[list]] = {}
    entries: list[LedgerEntry] = []
    deltas: dict[int, Decimal] = defaultdict(lambda: ZERO)
    days: dict[tuple[int, datetime.date, str], tuple[Decimal, int]] = {}
    debit_entries: dict[int, list] = {}
    for key in keys:
        account_id, day = key
        if account_id not in lots:
            lots[account_id] = [
                [lot["pool"], lot["balance"]]
                for lot in posting.lot_balances(CreditAccount(pk=account_id))
                if lot["pool"] is not None and not lot["expired"]
            ]
        parts = split_draw(lots[account_id], day_debits[key][0])
        legs = [(account_id, pool, -part) for pool, part in parts] + [(usage_account.pk, p, x) for p, x in parts]
        txn = txn_of[key]
        debit_entries[txn.pk] = legs
        for leg_account, pool, part in legs:
            entries.append(LedgerEntry(transaction=txn, account_id=leg_account, pool_id=pool, amount=part))
            deltas[leg_account] += part
            total, count = days.get((leg_account, day, TransactionKind.USAGE), (ZERO, 0))
            days[(leg_account, day, TransactionKind.USAGE)] = (total + part, count + 1)
    records = [
        UsageRecord(
            source=line.source,
            resource_id=line.resource_id,
            charter_id=line.charter_id,
            hour=line.hour,
            unit_hours=line.unit_hours,
            rate=rate,
            rate_value=rate_value,
            credits=amount,
            transaction=txn_of[(accounts[line.charter_id].pk, day)] if amount > 0 else None,
            posted_at=now,
        )
        for line, rate, rate_value, amount, day in priced
    ]
    # The records' ids are given here (the ledger lock is held: no one else writes records), so
    # the root can commit to them in id order before they are written.
    first_id = (UsageRecord.objects.aggregate(last=Max("pk"))["last"] or 0) + 1
    for n, record in enumerate(records):
        record.pk = first_id + n
    ordered = [
        (r.pk, r.transaction.pk if r.transaction else None, r.source, r.resource_id, r.charter_id, r.hour)
        + (r.unit_hours, r.rate_value, r.credits)
        for r in records
    ]
    root, _ = leaves.stream_root(leaves.python_entries_v3(ordered, debit_entries))
    batch = record_batch(result, source=source, actor=actor, root=root, leaves=3, first_record=first_id)
    LedgerEntry.objects.bulk_create(entries, batch_size=5000)
    for record in records:
        record.batch = batch
    UsageRecord.objects.bulk_create(records, batch_size=5000)
    posting.add_to_days(days)
    for account_id, delta in deltas.items():
        CreditAccount.objects.filter(pk=account_id).update(balance=F("balance") + delta)
    result.batch = batch
    charged = {account_id for account_id, _ in keys}
    result.alerts = raise_alerts(a for a in accounts.values() if a.pk in charged)
    return result
