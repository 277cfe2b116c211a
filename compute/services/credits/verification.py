"""The ledger's invariants, checked from the entries themselves (`verify_ledger`)."""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Sum

from compute.choices import AccountKind, TransactionKind
from compute.models import CreditAccount, CreditPool, LedgerEntry, LedgerTransaction
from compute.models.ledger import exact


@dataclass
class LedgerReport:
    transactions: int
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems


def verify_ledger() -> LedgerReport:
    """Check the ledger's invariants from the entries themselves: every transaction sums to
    zero (overall and per pool), every cached balance equals its entries' sum, every pool's
    total equals its funding, and no pool has allocated more than it holds."""
    problems: list[str] = []
    per_pool = LedgerEntry.objects.values("transaction", "pool").annotate(total=Sum("amount")).order_by("transaction")
    problems += [
        f"Transaction #{row['transaction']} does not sum to zero for pool {row['pool']}: {exact(row['total'])}"
        for row in per_pool.iterator(chunk_size=5000)
        if exact(row["total"]) != 0
    ]
    empty = LedgerTransaction.objects.filter(entries__isnull=True).values_list("pk", flat=True)
    problems += [f"Transaction #{pk} has no entries." for pk in empty]
    sums = dict(LedgerEntry.objects.values("account").annotate(total=Sum("amount")).values_list("account", "total"))
    for account in CreditAccount.objects.order_by("pk"):
        expected = exact(sums.get(account.pk))
        if account.balance != expected:
            problems.append(f"{account} (#{account.pk}) caches {account.balance} but its entries sum to {expected}.")
        if account.kind == AccountKind.POOL and expected < 0:
            problems.append(f"{account} is over-committed by {-expected}.")
    funded = dict(
        LedgerEntry.objects.filter(transaction__kind=TransactionKind.FUNDING, account__kind=AccountKind.POOL)
        .values("pool")
        .annotate(total=Sum("amount"))
        .values_list("pool", "total")
    )
    for pool in CreditPool.objects.order_by("pk"):
        funding = exact(funded.get(pool.pk))
        if pool.total != funding:
            problems.append(f"{pool.name} says its total is {pool.total} but it was funded {funding}.")
    return LedgerReport(transactions=LedgerTransaction.objects.count(), problems=problems)
