"""Posting to the double-entry ledger: the credit amount type, the locks, balanced
transactions and which pools' credits an outflow draws on. Every other credits module writes
the ledger through `post`.

Locks, always in this order, so concurrent services can never deadlock:

1. the credit request, refund or transfer row being decided (select_for_update);
2. the audit chain's lock (every ledger write appends an audit event, and record_event takes
   that lock anyway; taking it first instead of last keeps the order fixed);
3. the pool row; 4. the ledger accounts, in primary-key order.

On PostgreSQL these are real row locks; on SQLite the IMMEDIATE transaction mode takes the
database's write lock at BEGIN, which serializes the same read-check-write sequences.
"""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

from django.core.exceptions import ValidationError
from django.db import connection
from django.db.models import Sum
from django.utils import timezone

from compute.models import AccountDay, CreditAccount, CreditPool, LedgerEntry, LedgerTransaction
from compute.models.ledger import CREDIT_QUANTUM, ZERO, exact
from governance.audit import _CHAIN_LOCK_KEY, record_event
from governance.exceptions import DomainError


def credits(value) -> Decimal:
    """A credit amount as an exact Decimal with the ledger's four places; never a float."""
    if isinstance(value, float):
        raise TypeError("Credits are Decimal, never float.")
    try:
        return Decimal(value).quantize(CREDIT_QUANTUM, rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError) as error:
        raise ValidationError({"amount": f"'{value}' is not a number of credits."}) from error


def fmt_credits(amount: Decimal) -> str:
    """Credits for messages: thousands separated, no trailing zeros."""
    text = f"{amount:,.4f}".rstrip("0").rstrip(".")
    return text or "0"


def lock_ledger() -> None:
    """Step 2 of the lock order (see the module docstring): the audit chain's lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


def lock_accounts(accounts: Iterable[CreditAccount]) -> dict[int, CreditAccount]:
    """Lock the accounts' rows in primary-key order and return fresh copies by id."""
    ids = sorted({account.pk for account in accounts})
    return {a.pk: a for a in CreditAccount.objects.select_for_update().filter(pk__in=ids).order_by("pk")}


def system_account(kind: str) -> CreditAccount:
    """The one funding or usage account, created the first time it is needed."""
    account, _ = CreditAccount.objects.get_or_create(kind=kind)
    return account


class LedgerImbalance(Exception):
    """A transaction whose entries do not sum to zero: a bug, never a user error."""


@dataclass(frozen=True)
class Leg:
    """One intended entry: `amount` credits of `pool` into (positive) or out of `account`."""

    account: CreditAccount
    pool: CreditPool | None
    amount: Decimal


def post(
    kind: str,
    legs: list[Leg],
    *,
    actor=None,
    memo: str = "",
    occurred_at: datetime.datetime | None = None,
    reverses: LedgerTransaction | None = None,
) -> LedgerTransaction:
    """Write one balanced transaction and move the cached balances with it.

    The caller holds the locks of every account in `legs`. Entries must sum to zero overall
    and per pool: credits move between holders, never between budgets.
    """
    legs = [Leg(leg.account, leg.pool, credits(leg.amount)) for leg in legs if credits(leg.amount) != 0]
    if not legs:
        raise LedgerImbalance("A transaction moves something.")
    per_pool: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    for leg in legs:
        per_pool[leg.pool.pk if leg.pool else None] += leg.amount
    if any(total != 0 for total in per_pool.values()):
        raise LedgerImbalance(f"Entries of a {kind} transaction do not sum to zero per pool: {dict(per_pool)}")

    txn = LedgerTransaction.objects.create(
        kind=kind,
        occurred_at=occurred_at or timezone.now(),
        actor=actor if actor is not None and actor.is_authenticated else None,
        memo=memo[:300],
        reverses=reverses,
    )
    LedgerEntry.objects.bulk_create(
        [LedgerEntry(transaction=txn, account=leg.account, pool=leg.pool, amount=leg.amount) for leg in legs]
    )
    deltas: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for leg in legs:
        deltas[leg.account.pk] += leg.amount
    for account_id, delta in deltas.items():
        account = next(leg.account for leg in legs if leg.account.pk == account_id)
        account.balance += delta
        CreditAccount.objects.filter(pk=account_id).update(balance=account.balance)
    day, counted_as = timezone.localdate(txn.occurred_at), reverses.kind if reverses else kind
    days: dict[tuple[int, datetime.date, str], tuple[Decimal, int]] = {}
    for leg in legs:
        amount, count = days.get((leg.account.pk, day, counted_as), (ZERO, 0))
        days[(leg.account.pk, day, counted_as)] = (amount + leg.amount, count + 1)
    add_to_days(days)
    record_event(
        actor,
        f"ledger.{kind}",
        txn,
        after={
            "memo": txn.memo,
            "reverses": reverses.pk if reverses else None,
            "entries": [
                {"account": leg.account.pk, "pool": leg.pool.pk if leg.pool else None, "amount": str(leg.amount)}
                for leg in legs
            ],
        },
    )
    return txn


def add_to_days(totals: dict[tuple[int, datetime.date, str], tuple[Decimal, int]]) -> None:
    """Move the accounts' daily summaries (AccountDay) by {(account, day, kind): (credits, entries)},
    in the caller's transaction, as the entries are written: one upsert per summary row."""
    if not totals:
        return
    table = AccountDay._meta.db_table
    with connection.cursor() as cursor:
        cursor.executemany(
            f"INSERT INTO {table} (account_id, day, kind, amount, entries) VALUES (%s, %s, %s, %s, %s) "  # noqa: S608 - the model's table
            f"ON CONFLICT (account_id, day, kind) DO UPDATE SET amount = {table}.amount + excluded.amount, "
            f"entries = {table}.entries + excluded.entries",
            [(a, d, k, amount, n) for (a, d, k), (amount, n) in totals.items()],
        )


def lot_balances(account: CreditAccount) -> list[dict]:
    """The account's credits per pool: [{"pool", "period_end", "expired", "balance"}], oldest
    period first. One aggregate query, whatever the number of entries."""
    rows = (
        LedgerEntry.objects.filter(account=account)
        .values("pool", "pool__period_end", "pool__expired_at")
        .annotate(balance=Sum("amount"))
        .order_by("pool__period_end", "pool")
    )
    return [
        {
            "pool": row["pool"],
            "period_end": row["pool__period_end"],
            "expired": row["pool__expired_at"] is not None,
            "balance": exact(row["balance"]),
        }
        for row in rows
    ]


def draw(account: CreditAccount, amount: Decimal, *, overdraft: bool) -> list[tuple[int | None, Decimal]]:
    """Which pools' credits an outflow of `amount` uses: the lots that end first, first.

    Without `overdraft` the account must hold enough; with it (usage is never refused) the
    rest is charged to the account's latest pool, or to no pool when it was never funded.
    """
    lots = [lot for lot in lot_balances(account) if lot["pool"] is not None and not lot["expired"]]
    draws: list[tuple[int | None, Decimal]] = []
    remaining = amount
    for lot in lots:
        if remaining <= 0:
            break
        if lot["balance"] > 0:
            take = min(lot["balance"], remaining)
            draws.append((lot["pool"], take))
            remaining -= take
    if remaining > 0:
        if not overdraft:
            available = amount - remaining
            raise DomainError(
                f"{account} holds only {fmt_credits(available)} credits; {fmt_credits(amount)} were asked for.",
                code="insufficient_credits",
                available=str(available),
            )
        last_pool = lots[-1]["pool"] if lots else None
        draws.append((last_pool, remaining))
    return draws


def pools_by_id(ids: Iterable[int | None]) -> dict[int | None, CreditPool | None]:
    wanted = {pk for pk in ids if pk is not None}
    pools: dict[int | None, CreditPool | None] = {p.pk: p for p in CreditPool.objects.filter(pk__in=wanted)}
    pools[None] = None
    return pools
