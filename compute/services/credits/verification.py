"""The ledger's invariants, checked from the entries themselves (`verify_ledger`)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from django.db.models import Count, F, Q, Sum
from django.db.models.functions import TruncDate

from compute.choices import AccountKind, TransactionKind
from compute.models import AccountDay, CreditAccount, CreditPool, LedgerEntry, LedgerTransaction
from compute.models.ledger import ZERO, exact


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
    total equals its funding, no pool has allocated more than it holds, and the accounts'
    daily summaries equal their entries; every usage record names a resource, charter, rate,
    debit and batch that exist (and lies in its batch's run of ids), and every debit charged
    exactly what its records say."""
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
    problems += _day_problems()
    problems += _usage_problems()
    return LedgerReport(transactions=LedgerTransaction.objects.count(), problems=problems)


def _day_problems() -> list[str]:
    """Each account's daily summaries equal its entries summed per day and kind."""
    rows = (
        LedgerEntry.objects.annotate(day=TruncDate("transaction__occurred_at"))
        .values("account", "day", "transaction__kind", "transaction__reverses__kind")
        .annotate(total=Sum("amount"), count=Count("pk"))
        .order_by()
    )
    expected: dict[tuple, list] = defaultdict(lambda: [ZERO, 0])
    for row in rows.iterator(chunk_size=5000):
        key = (row["account"], row["day"], row["transaction__reverses__kind"] or row["transaction__kind"])
        expected[key][0] += exact(row["total"])
        expected[key][1] += row["count"]
    kept = {
        (a, d, k): [exact(amount), n]
        for a, d, k, amount, n in AccountDay.objects.values_list("account", "day", "kind", "amount", "entries")
    }
    return [
        f"Account #{key[0]}'s summary of {key[1]} ({key[2]}) says {kept.get(key)}; its entries say {expected.get(key)}."
        for key in sorted(set(expected) | set(kept), key=str)
        if kept.get(key, [ZERO, 0]) != expected.get(key, [ZERO, 0])
    ]


def _usage_problems() -> list[str]:
    """The usage records' keys point at rows that exist (they are checked per batch by the
    posting services, not per row by the database), and each usage debit's entries on its
    charter's account sum to minus its records' credits."""
    from charters.models import Charter
    from compute.models import Resource, ResourceRate, UsageBatch, UsageRecord

    problems = []
    for field, model in (
        ("resource", Resource),
        ("charter", Charter),
        ("rate", ResourceRate),
        ("transaction", LedgerTransaction),
        ("batch", UsageBatch),
    ):
        orphans = (
            UsageRecord.objects.filter(**{f"{field}_id__isnull": False})
            .exclude(**{f"{field}_id__in": model.objects.values("pk")})
            .values_list("pk", flat=True)[:10]
        )
        problems += [f"Usage record #{pk} names a {field} that does not exist." for pk in orphans]
    # A batch's records are found by the run of ids it names: one outside it would escape the
    # batch's replay.
    astray = (
        UsageRecord.objects.filter(batch__first_record__isnull=False)
        .filter(Q(pk__lt=F("batch__first_record")) | Q(pk__gte=F("batch__first_record") + F("batch__posted")))
        .values_list("pk", "batch_id")[:10]
    )
    problems += [f"Usage record #{pk} lies outside the ids its batch #{batch} names." for pk, batch in astray]
    charged = dict(
        UsageRecord.objects.filter(transaction__isnull=False)
        .values("transaction")
        .annotate(total=Sum("credits"))
        .order_by()
        .values_list("transaction", "total")
    )
    debited = dict(
        LedgerEntry.objects.filter(transaction__kind=TransactionKind.USAGE, account__kind=AccountKind.CHARTER)
        .values("transaction")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("transaction", "total")
    )
    for txn in sorted(set(charged) | set(debited)):
        if exact(charged.get(txn)) != -exact(debited.get(txn)):
            problems.append(
                f"Usage debit #{txn} charged {-exact(debited.get(txn))} but its records say {exact(charged.get(txn))}."
            )
    return problems
