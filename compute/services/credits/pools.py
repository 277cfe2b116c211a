"""Committees' credit pools: opening, funding, renaming, expiry at the end of the period;
and the charter accounts the pools allocate to."""

from __future__ import annotations

import datetime
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.db.models import Sum
from django.utils import timezone

from compute import permissions
from compute.choices import AccountKind, TransactionKind
from compute.models import CreditAccount, CreditPool, LedgerEntry, LedgerTransaction
from compute.models.ledger import ZERO, exact
from compute.services.credits import posting
from governance.audit import record_event, snapshot
from governance.exceptions import DomainError
from governance.permissions import require

POOL_FIELDS = ["committee", "name", "period_start", "period_end", "total"]


# --- Pools and accounts ----------------------------------------------------------------------


@transaction.atomic
def create_pool(actor, *, committee, name: str, period_start, period_end, total=ZERO) -> CreditPool:
    """Open a committee's budget for a period and fund it with `total` credits."""
    require(
        actor is None or permissions.may_manage_pools(actor, committee),
        "Only administrators and this committee's co-chairs or secretary add pools.",
    )
    pool = CreditPool(
        committee=committee,
        name=name,
        period_start=period_start,
        period_end=period_end,
        total=ZERO,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    total = posting.credits(total)
    if total < 0:
        raise ValidationError({"total": "A pool's total cannot be negative."})
    pool.full_clean()
    posting.lock_ledger()
    pool.save()
    CreditAccount.objects.create(kind=AccountKind.POOL, pool=pool)
    record_event(actor, "credit_pool.created", pool, after=snapshot(pool, POOL_FIELDS) | {"total": total})
    if total > 0:
        _fund(actor, pool, total)
    return pool


def _fund(actor, pool: CreditPool, delta: Decimal) -> LedgerTransaction:
    """Move `delta` credits between the outside world and the pool (negative: take back
    unallocated credits). The caller holds the pool's row lock."""
    funding = posting.system_account(AccountKind.FUNDING)
    locked = posting.lock_accounts([funding, pool.account])
    pool_account = locked[pool.account.pk]
    if delta < 0 and pool_account.balance + delta < 0:
        raise DomainError(
            f"Only {posting.fmt_credits(pool_account.balance)} credits of {pool.name} are unallocated; "
            f"its total cannot drop by {posting.fmt_credits(-delta)}.",
            code="pool_exhausted",
            available=str(pool_account.balance),
        )
    txn = posting.post(
        TransactionKind.FUNDING,
        [posting.Leg(locked[funding.pk], pool, -delta), posting.Leg(pool_account, pool, delta)],
        actor=actor,
        memo=f"{pool.name}: total {'raised' if delta > 0 else 'lowered'} by {posting.fmt_credits(abs(delta))}",
    )
    pool.total += delta
    CreditPool.objects.filter(pk=pool.pk).update(total=pool.total)
    pool.account = pool_account
    return txn


@transaction.atomic
def update_pool(actor, pool: CreditPool, **fields) -> CreditPool:
    """Rename a pool or change its total. The total moves through a funding transaction, and
    can drop only by what is not allocated. The period is fixed once the pool exists."""
    require(
        actor is None or permissions.may_manage_pools(actor, pool.committee),
        "Only administrators and this committee's co-chairs or secretary change pools.",
    )
    posting.lock_ledger()
    pool = CreditPool.objects.select_for_update(of=("self",)).select_related("account").get(pk=pool.pk)
    before = snapshot(pool, POOL_FIELDS)
    for fixed in ("committee", "period_start", "period_end"):
        if fixed in fields and fields[fixed] != getattr(pool, fixed):
            raise ValidationError({fixed: "A pool's committee and period are fixed; open another pool."})
    if "name" in fields:
        pool.name = fields["name"]
        pool.full_clean()
        pool.save(update_fields=["name", "updated_at"])
    if "total" in fields:
        delta = posting.credits(fields["total"]) - pool.total
        if delta != 0:
            _fund(actor, pool, delta)
    record_event(actor, "credit_pool.updated", pool, before=before, after=snapshot(pool, POOL_FIELDS))
    return pool


def open_account(charter, actor=None) -> CreditAccount:
    """The charter's credit account, opened the first time it is asked for (idempotent).

    Called when credits are allocated or used; the charters app may call it on approval.
    """
    account = CreditAccount.objects.filter(charter=charter).first()
    if account is not None:
        return account
    try:
        with transaction.atomic():
            account = CreditAccount.objects.create(kind=AccountKind.CHARTER, charter=charter)
            record_event(actor, "credit_account.opened", account, after={"charter": charter.pk})
            return account
    except IntegrityError:
        # Opened by a concurrent transaction between the lookup and the insert.
        return CreditAccount.objects.get(charter=charter)


# --- Expiry ----------------------------------------------------------------------------------


def expire_pools(*, today: datetime.date | None = None, actor=None) -> int:
    """Return what charter accounts have not spent of every pool whose period has ended.
    Safe to run any number of times (a swept lot holds nothing more); returns the number of
    expiry transactions written."""
    today = today or timezone.localdate()
    written = 0
    for pool in CreditPool.objects.filter(period_end__lt=today).order_by("period_end", "pk"):
        written += expire_pool(pool, today=today, actor=actor)
    return written


@transaction.atomic
def expire_pool(pool: CreditPool, *, today: datetime.date | None = None, actor=None) -> int:
    """Move the unspent credits of an ended pool from each charter account back to the pool."""
    today = today or timezone.localdate()
    posting.lock_ledger()
    pool = CreditPool.objects.select_for_update(of=("self",)).select_related("account").get(pk=pool.pk)
    if pool.period_end >= today:
        raise DomainError(f"The period of {pool.name} ends on {pool.period_end:%Y-%m-%d}.", code="pool_not_ended")
    sums = (
        LedgerEntry.objects.filter(pool=pool, account__kind=AccountKind.CHARTER)
        .values("account")
        .annotate(balance=Sum("amount"))
        .order_by("account")
    )
    holders = [{"account": row["account"], "balance": exact(row["balance"])} for row in sums]
    holders = [holder for holder in holders if holder["balance"] > 0]
    written = 0
    if holders:
        locked = posting.lock_accounts([pool.account, *(CreditAccount(pk=h["account"]) for h in holders)])
        for holder in holders:
            account = locked[holder["account"]]
            posting.post(
                TransactionKind.EXPIRY,
                [
                    posting.Leg(account, pool, -holder["balance"]),
                    posting.Leg(locked[pool.account.pk], pool, holder["balance"]),
                ],
                actor=actor,
                memo=f"Unspent credits of {pool.name} returned at the end of its period",
            )
            written += 1
    if pool.expired_at is None:
        pool.expired_at = timezone.now()
        pool.save(update_fields=["expired_at", "updated_at"])
        record_event(actor, "credit_pool.expired", pool, after={"expiry_transactions": written})
    return written
