"""Credits: resources and rates, pools, accounts, the double-entry ledger, credit requests with
dual control, usage metering, transfers, expiry, refunds and alerts (DESIGN.md 2.3).

This is the only write path of the credit ledger: views, the API, the admin, Celery tasks and
the ballot subject module (compute.ballots) call these functions. Each one validates, writes
the ledger, appends the audit event and enqueues its notifications in one transaction.

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
import logging
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_HALF_UP, Decimal, InvalidOperation

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.models import Max, Q, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from charters.choices import CharterStatus, DataClassification
from compute.choices import (
    ALERT_THRESHOLDS,
    AWARDED_STATUSES,
    REQUEST_TRANSITIONS,
    AccountKind,
    DecisionReason,
    RefundStatus,
    RequestStatus,
    ResourceStatus,
    TransactionKind,
    TransferStatus,
)
from compute.models import (
    CreditAccount,
    CreditAlert,
    CreditPool,
    CreditRefund,
    CreditRequest,
    CreditSignature,
    CreditTransfer,
    LedgerEntry,
    LedgerTransaction,
    Resource,
    ResourceRate,
    UsageRecord,
)
from compute.models.ledger import CREDIT_QUANTUM, ZERO, exact
from governance.audit import _CHAIN_LOCK_KEY, record_event, snapshot
from governance.choices import Role, Sector
from governance.exceptions import DomainError, IllegalTransition
from governance.models import Membership
from governance.outbox import enqueue
from governance.permissions import can_manage_committee, require
from governance.roles import is_administrator

logger = logging.getLogger(__name__)

RESOURCE_FIELDS = ["name", "kind", "description", "capacity", "jurisdiction", "tee_capable", "status"]
POOL_FIELDS = ["committee", "name", "period_start", "period_end", "total"]
REQUEST_FIELDS = ["charter", "resource", "pool", "amount", "period_start", "period_end", "justification"]
FUNDABLE_CHARTER_STATUSES = (CharterStatus.APPROVED, CharterStatus.ACTIVE)
BURN_WINDOW_DAYS = 14


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


# --- People ----------------------------------------------------------------------------------


def co_chair_seat(user, committee) -> Membership | None:
    """The person's active co-chair seat on the committee, if they hold one."""
    if not (user and user.is_authenticated):
        return None
    return (
        Membership.objects.active()
        .filter(user=user, committee=committee, role=Role.CHAIR)
        .select_related("organization")
        .first()
    )


def is_charter_lead(user, charter) -> bool:
    """People of a charter's lead organization speak for it (consent to transfers…)."""
    return bool(user and user.is_authenticated and user.organization_id == charter.lead_organization_id)


def may_request_for(user, charter) -> bool:
    """Administrators, and people of the charter's lead or a participating organization."""
    if not (user and user.is_authenticated):
        return False
    if is_administrator(user):
        return True
    return bool(user.organization_id) and (
        user.organization_id == charter.lead_organization_id
        or charter.participating_organizations.filter(pk=user.organization_id).exists()
    )


# --- Locks and posting -----------------------------------------------------------------------


def _lock_ledger() -> None:
    """Step 2 of the lock order (see the module docstring): the audit chain's lock."""
    if connection.vendor == "postgresql":
        with connection.cursor() as cursor:
            cursor.execute("SELECT pg_advisory_xact_lock(%s)", [_CHAIN_LOCK_KEY])


def _lock_accounts(accounts: Iterable[CreditAccount]) -> dict[int, CreditAccount]:
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


def _post(
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


def _draw(account: CreditAccount, amount: Decimal, *, overdraft: bool) -> list[tuple[int | None, Decimal]]:
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


def _pools_by_id(ids: Iterable[int | None]) -> dict[int | None, CreditPool | None]:
    wanted = {pk for pk in ids if pk is not None}
    pools: dict[int | None, CreditPool | None] = {p.pk: p for p in CreditPool.objects.filter(pk__in=wanted)}
    pools[None] = None
    return pools


# --- Resources and rates ---------------------------------------------------------------------


@transaction.atomic
def create_resource(actor, *, rate: Decimal | None = None, rate_effective_from=None, **fields) -> Resource:
    """Register a shared resource, with its first credit rate when given; administrators only."""
    require(actor is None or is_administrator(actor), "Only administrators register resources.")
    resource = Resource(**{k: v for k, v in fields.items() if k in RESOURCE_FIELDS})
    resource.full_clean()
    resource.save()
    record_event(actor, "resource.created", resource, after=snapshot(resource, RESOURCE_FIELDS))
    if rate is not None:
        set_rate(actor, resource, rate=rate, effective_from=rate_effective_from)
    return resource


@transaction.atomic
def update_resource(actor, resource: Resource, **fields) -> Resource:
    """Change a resource's description, capacity, status…; its price changes with set_rate."""
    require(is_administrator(actor), "Only administrators change resources.")
    resource = Resource.objects.select_for_update().get(pk=resource.pk)
    before = snapshot(resource, RESOURCE_FIELDS)
    for name, value in fields.items():
        if name in RESOURCE_FIELDS:
            setattr(resource, name, value)
    resource.full_clean()
    resource.save()
    record_event(actor, "resource.updated", resource, before=before, after=snapshot(resource, RESOURCE_FIELDS))
    return resource


def current_rate(resource: Resource, at: datetime.datetime | None = None) -> ResourceRate | None:
    return ResourceRate.objects.in_effect_at(resource, at or timezone.now())


@transaction.atomic
def set_rate(actor, resource: Resource, *, rate, effective_from: datetime.datetime | None = None, note: str = ""):
    """Give a resource a new credit rate from `effective_from` (now by default).

    A new rate may not take effect at or before an hour already charged on the resource: that
    would leave charged usage priced by a rate that no longer says what it cost. Usage
    already charged keeps the rate it was charged at in any case (each record keeps it).
    """
    require(actor is None or is_administrator(actor), "Only administrators set credit rates.")
    effective_from = effective_from or timezone.now()
    if timezone.is_naive(effective_from):
        raise ValidationError({"effective_from": "Give the time with its time zone."})
    _lock_ledger()
    last_charged = UsageRecord.objects.filter(resource=resource).aggregate(last=Max("hour"))["last"]
    if last_charged is not None and effective_from <= last_charged:
        raise ValidationError(
            {
                "effective_from": f"Usage of {resource} is already charged up to {last_charged:%Y-%m-%d %H:00}; "
                "a new rate can take effect only after it."
            }
        )
    new = ResourceRate(
        resource=resource,
        rate=rate,
        effective_from=effective_from,
        note=note,
        created_by=actor if actor is not None and actor.is_authenticated else None,
    )
    new.full_clean()
    new.save()
    record_event(
        actor,
        "resource.rate_set",
        resource,
        after={"rate": new.rate, "effective_from": new.effective_from, "note": note},
    )
    return new


# --- Pools and accounts ----------------------------------------------------------------------


def _may_manage_pools(user, committee) -> bool:
    return user is None or can_manage_committee(user, committee)


@transaction.atomic
def create_pool(actor, *, committee, name: str, period_start, period_end, total=ZERO) -> CreditPool:
    """Open a committee's budget for a period and fund it with `total` credits."""
    require(
        _may_manage_pools(actor, committee),
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
    total = credits(total)
    if total < 0:
        raise ValidationError({"total": "A pool's total cannot be negative."})
    pool.full_clean()
    _lock_ledger()
    pool.save()
    CreditAccount.objects.create(kind=AccountKind.POOL, pool=pool)
    record_event(actor, "credit_pool.created", pool, after=snapshot(pool, POOL_FIELDS) | {"total": total})
    if total > 0:
        _fund(actor, pool, total)
    return pool


def _fund(actor, pool: CreditPool, delta: Decimal) -> LedgerTransaction:
    """Move `delta` credits between the outside world and the pool (negative: take back
    unallocated credits). The caller holds the pool's row lock."""
    funding = system_account(AccountKind.FUNDING)
    locked = _lock_accounts([funding, pool.account])
    pool_account = locked[pool.account.pk]
    if delta < 0 and pool_account.balance + delta < 0:
        raise DomainError(
            f"Only {fmt_credits(pool_account.balance)} credits of {pool.name} are unallocated; "
            f"its total cannot drop by {fmt_credits(-delta)}.",
            code="pool_exhausted",
            available=str(pool_account.balance),
        )
    txn = _post(
        TransactionKind.FUNDING,
        [Leg(locked[funding.pk], pool, -delta), Leg(pool_account, pool, delta)],
        actor=actor,
        memo=f"{pool.name}: total {'raised' if delta > 0 else 'lowered'} by {fmt_credits(abs(delta))}",
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
        _may_manage_pools(actor, pool.committee),
        "Only administrators and this committee's co-chairs or secretary change pools.",
    )
    _lock_ledger()
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
        delta = credits(fields["total"]) - pool.total
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


@dataclass(frozen=True)
class AccountSummary:
    allocated: Decimal
    consumed: Decimal
    expired: Decimal
    balance: Decimal

    @property
    def consumed_share(self) -> Decimal | None:
        """Consumed as a percentage of the allocation (None with no allocation)."""
        if self.allocated <= 0:
            return None
        return (self.consumed * 100 / self.allocated).quantize(Decimal("0.1"))


def charter_allocation_and_use(charter_ids: Iterable[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """{charter id: (allocated, consumed)} for the charters that have an account, in one
    query: the same sums as account_summary, for many charters at once (roadmap evidence)."""
    rows = (
        LedgerEntry.objects.filter(account__charter_id__in=list(charter_ids), account__kind=AccountKind.CHARTER)
        .values("account__charter_id", "transaction__kind", "transaction__reverses__kind")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    sums: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for row in rows:
        kind = row["transaction__reverses__kind"] or row["transaction__kind"]
        sums[row["account__charter_id"]][kind] += exact(row["total"])
    return {
        charter_id: (
            by_kind[TransactionKind.ALLOCATION] + by_kind[TransactionKind.TRANSFER],
            -by_kind[TransactionKind.USAGE],
        )
        for charter_id, by_kind in sums.items()
    }


def account_summary(account: CreditAccount) -> AccountSummary:
    """Allocated, consumed and expired credits of an account, from its entries in one query.

    Allocations and transfers make the allocation; usage debits (less refunds) the
    consumption; expiries what went back to the pools. Their sum is the balance."""
    rows = (
        LedgerEntry.objects.filter(account=account)
        .values("transaction__kind", "transaction__reverses__kind")
        .annotate(total=Sum("amount"))
        .order_by()
    )
    sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        kind = row["transaction__reverses__kind"] or row["transaction__kind"]
        sums[kind] += exact(row["total"])
    return AccountSummary(
        allocated=sums[TransactionKind.ALLOCATION] + sums[TransactionKind.TRANSFER],
        consumed=-sums[TransactionKind.USAGE],
        expired=-sums[TransactionKind.EXPIRY],
        balance=sum(sums.values(), ZERO),
    )


def burn_rate(account: CreditAccount, today: datetime.date | None = None) -> Decimal:
    """Credits consumed per day over the last 14 days (refunded debits left out)."""
    today = today or timezone.localdate()
    start = today - datetime.timedelta(days=BURN_WINDOW_DAYS)
    since = timezone.make_aware(datetime.datetime.combine(start, datetime.time()))
    consumed = -exact(
        LedgerEntry.objects.filter(
            account=account,
            transaction__kind=TransactionKind.USAGE,
            transaction__occurred_at__gte=since,
            transaction__reversed_by__isnull=True,
        ).aggregate(total=Sum("amount"))["total"]
    )
    return (consumed / BURN_WINDOW_DAYS).quantize(CREDIT_QUANTUM)


def forecast_exhaustion(account: CreditAccount, today: datetime.date | None = None) -> datetime.date | None:
    """The day the balance runs out at the last 14 days' burn rate: today when it already
    has, None when nothing is being consumed."""
    today = today or timezone.localdate()
    if account.balance <= 0:
        return today
    rate = burn_rate(account, today)
    if rate <= 0:
        return None
    days = int((account.balance / rate).to_integral_value(rounding=ROUND_CEILING))
    return today + datetime.timedelta(days=min(days, 365 * 100))


def burn_down(account: CreditAccount, *, max_points: int = 400, today: datetime.date | None = None) -> dict:
    """Daily allocation, consumption and balance of an account, with the forecast, for the
    burn-down chart. One aggregate query whatever the number of transactions, and never more
    than `max_points` points per line (older days are thinned out, the last ones kept)."""
    today = today or timezone.localdate()
    rows = (
        LedgerEntry.objects.filter(account=account)
        .annotate(day=TruncDate("transaction__occurred_at"))
        .values("day", "transaction__kind", "transaction__reverses__kind")
        .annotate(total=Sum("amount"))
        .order_by("day")
    )
    by_day: dict[datetime.date, dict[str, Decimal]] = {}
    for row in rows:
        kind = row["transaction__reverses__kind"] or row["transaction__kind"]
        day = by_day.setdefault(row["day"], defaultdict(lambda: ZERO))
        day[kind] += exact(row["total"])
    days, allocated, consumed, balance = [], [], [], []
    run_alloc = run_used = run_balance = ZERO
    for day in sorted(by_day):
        sums = by_day[day]
        run_alloc += sums[TransactionKind.ALLOCATION] + sums[TransactionKind.TRANSFER]
        run_used += -sums[TransactionKind.USAGE]
        run_balance += sum(sums.values(), ZERO)
        days.append(day)
        allocated.append(run_alloc)
        consumed.append(run_used)
        balance.append(run_balance)
    if len(days) > max_points:
        step = -(-len(days) // max_points)
        keep = sorted({*range(len(days) - 1, -1, -step)})
        days, allocated, consumed, balance = (
            [series[i] for i in keep] for series in (days, allocated, consumed, balance)
        )
    exhaustion = forecast_exhaustion(account, today)
    forecast = {"days": [], "balance": []}
    if exhaustion and account.balance > 0:
        forecast = {"days": [today.isoformat(), exhaustion.isoformat()], "balance": [str(account.balance), "0"]}
    return {
        "days": [d.isoformat() for d in days],
        "allocated": [str(v) for v in allocated],
        "consumed": [str(v) for v in consumed],
        "balance": [str(v) for v in balance],
        "forecast": forecast,
        "exhaustion": exhaustion.isoformat() if exhaustion else None,
    }


# --- Credit requests -------------------------------------------------------------------------


def eligibility_problems(*, charter, resource, pool, period_start=None, period_end=None) -> dict[str, str]:
    """Why credits for `charter` on `resource` from `pool` cannot be granted, by field; empty
    when they can. The rules of DESIGN.md 2.3: an approved or active charter, a resource
    inside its allowed jurisdictions, a TEE-capable one for restricted data."""
    problems: dict[str, str] = {}
    if charter.status not in FUNDABLE_CHARTER_STATUSES:
        problems["charter"] = (
            "Credits are granted only to an approved or active charter; "
            f"'{charter}' is {charter.get_status_display().lower()}."
        )
    allowed = [str(j) for j in (charter.allowed_jurisdictions or [])]
    if allowed and resource.jurisdiction.strip().casefold() not in {j.strip().casefold() for j in allowed}:
        problems["resource"] = (
            f"{resource} is in {resource.jurisdiction}, outside the charter's allowed jurisdictions "
            f"({', '.join(allowed)})."
        )
    elif charter.data_classification == DataClassification.RESTRICTED and not resource.tee_capable:
        problems["resource"] = (
            f"The charter works with restricted data, which may run only on a TEE-capable resource; "
            f"{resource} is not TEE-capable."
        )
    elif resource.status == ResourceStatus.RETIRED:
        problems["resource"] = f"{resource} is retired."
    if pool.committee_id != charter.committee_id:
        problems["pool"] = f"{pool.name} is another committee's pool."
    elif pool.expired_at is not None or pool.period_end < timezone.localdate():
        problems["pool"] = f"The period of {pool.name} has ended."
    if period_start and period_end and "pool" not in problems:
        if period_end < period_start:
            problems["period_end"] = "The period cannot end before it starts."
        elif period_start < pool.period_start or period_end > pool.period_end:
            problems["period_start"] = (
                f"The period must lie within the pool's ({pool.period_start:%Y-%m-%d} to {pool.period_end:%Y-%m-%d})."
            )
    return problems


def _check_transition(request: CreditRequest, target: str) -> None:
    legal = REQUEST_TRANSITIONS[request.status]
    if target not in legal:
        raise IllegalTransition("credit request", request.status, target, [str(s) for s in legal])


@transaction.atomic
def create_request(actor, *, submit: bool = False, **fields) -> CreditRequest:
    """Draft a request for credits (and submit it at once with `submit`)."""
    data = {k: v for k, v in fields.items() if k in REQUEST_FIELDS}
    charter, pool = data.get("charter"), data.get("pool")
    if charter is None or pool is None or data.get("resource") is None:
        raise ValidationError("A request names a charter, a resource and a pool.")
    require(
        may_request_for(actor, charter),
        "Only people of the charter's lead or participating organizations request credits for it.",
    )
    data.setdefault("period_start", pool.period_start)
    data.setdefault("period_end", pool.period_end)
    data["period_start"] = data["period_start"] or pool.period_start
    data["period_end"] = data["period_end"] or pool.period_end
    if "amount" in data:
        data["amount"] = credits(data["amount"])
    request = CreditRequest(requested_by=actor, **data)
    request.full_clean()
    problems = eligibility_problems(
        charter=charter,
        resource=request.resource,
        pool=pool,
        period_start=request.period_start,
        period_end=request.period_end,
    )
    if problems:
        raise ValidationError(problems)
    request.save()
    record_event(actor, "credit_request.created", request, after=snapshot(request, REQUEST_FIELDS))
    if submit:
        request = submit_request(actor, request)
    return request


@transaction.atomic
def update_request(actor, request: CreditRequest, **fields) -> CreditRequest:
    """Change a draft; its requester (or an administrator) only."""
    request = CreditRequest.objects.select_for_update().get(pk=request.pk)
    require(
        request.requested_by_id == actor.pk or is_administrator(actor), "Only the requester changes a draft request."
    )
    if request.status != RequestStatus.DRAFT:
        raise DomainError("Only a draft request can be changed; this one is " + request.get_status_display().lower())
    before = snapshot(request, REQUEST_FIELDS)
    for name, value in fields.items():
        if name in REQUEST_FIELDS:
            setattr(request, name, credits(value) if name == "amount" else value)
    request.full_clean()
    problems = eligibility_problems(
        charter=request.charter,
        resource=request.resource,
        pool=request.pool,
        period_start=request.period_start,
        period_end=request.period_end,
    )
    if problems:
        raise ValidationError(problems)
    request.save()
    record_event(actor, "credit_request.updated", request, before=before, after=snapshot(request, REQUEST_FIELDS))
    return request


@transaction.atomic
def submit_request(actor, request: CreditRequest) -> CreditRequest:
    """Put a draft before the committee: co-chairs sign it at or below the dual-control limit;
    above it a ballot decides."""
    request = (
        CreditRequest.objects.select_for_update(of=("self",))
        .select_related("charter", "resource", "pool")
        .get(pk=request.pk)
    )
    require(request.requested_by_id == actor.pk or is_administrator(actor), "Only the requester submits a request.")
    _check_transition(request, RequestStatus.SUBMITTED)
    problems = eligibility_problems(
        charter=request.charter,
        resource=request.resource,
        pool=request.pool,
        period_start=request.period_start,
        period_end=request.period_end,
    )
    if problems:
        raise ValidationError(problems)
    request.status = RequestStatus.SUBMITTED
    request.submitted_at = timezone.now()
    request.save(update_fields=["status", "submitted_at", "updated_at"])
    record_event(
        actor,
        "credit_request.submitted",
        request,
        before={"status": RequestStatus.DRAFT},
        after={"status": request.status, "needs_ballot": request.needs_ballot},
    )
    return request


@transaction.atomic
def withdraw_request(actor, request: CreditRequest) -> CreditRequest:
    """The requester takes the request back; possible until it is decided."""
    request = CreditRequest.objects.select_for_update().get(pk=request.pk)
    require(request.requested_by_id == actor.pk or is_administrator(actor), "Only the requester withdraws a request.")
    _check_transition(request, RequestStatus.WITHDRAWN)
    before = request.status
    request.status = RequestStatus.WITHDRAWN
    request.decided_at = timezone.now()
    request.save(update_fields=["status", "decided_at", "updated_at"])
    record_event(
        actor, "credit_request.withdrawn", request, before={"status": before}, after={"status": request.status}
    )
    return request


def _validated_award(request: CreditRequest, amount, reason_code: str) -> Decimal:
    amount = request.amount if amount in (None, "") else credits(amount)
    if amount <= 0:
        raise ValidationError({"amount": "Award a positive number of credits, or reject the request."})
    if amount > request.amount:
        asked = fmt_credits(request.amount)
        raise ValidationError({"amount": f"The request asks for {asked} credits; award at most that."})
    if amount < request.amount and not reason_code:
        raise ValidationError({"reason_code": "Say why less than was requested is awarded."})
    if reason_code and reason_code not in DecisionReason.values:
        raise ValidationError({"reason_code": f"Unknown reason '{reason_code}'."})
    return amount


@transaction.atomic
def sign_request(actor, request: CreditRequest, *, amount=None, reason_code: str = "", note: str = "") -> CreditRequest:
    """A co-chair signs a submitted request at or below the dual-control limit.

    When the co-chairs of every sector have signed, the request is approved and its award
    allocated from the pool in this same transaction; one signature, or two from one sector,
    do nothing more. The award is the smallest amount any signer agreed to. If the pool
    cannot fund it, nothing is written (the signature neither) and the answer is 409 with the
    pool's available amount.
    """
    # The amount is fixed once submitted, so the limit is checked before any lock is taken.
    if request.amount > settings.DUAL_CONTROL_LIMIT:
        raise DomainError(
            f"This request is above the dual-control limit of {fmt_credits(settings.DUAL_CONTROL_LIMIT)} credits: "
            "only a passed ballot approves it.",
            code="needs_ballot",
        )
    request = (
        CreditRequest.objects.select_for_update(of=("self",))
        .select_related("charter__committee", "pool", "resource")
        .get(pk=request.pk)
    )
    seat = co_chair_seat(actor, request.charter.committee)
    require(seat is not None, "Only the committee's co-chairs sign credit requests.")
    if request.needs_ballot:
        raise DomainError(
            "Above the dual-control limit only a passed ballot approves this request.", code="needs_ballot"
        )
    if request.status != RequestStatus.SUBMITTED:
        raise DomainError(
            f"Only a submitted request can be signed; this one is {request.get_status_display().lower()}.",
            code="not_submitted",
        )
    award = _validated_award(request, amount, reason_code)
    _lock_ledger()
    if request.signatures.filter(signer=actor).exists():
        raise DomainError("You have already signed this request.", code="already_signed")
    signature = CreditSignature.objects.create(
        request=request, signer=actor, sector=seat.organization.sector, amount=award, reason_code=reason_code, note=note
    )
    record_event(
        actor,
        "credit_request.signed",
        request,
        after={"sector": signature.sector, "amount": award, "reason_code": reason_code, "note": note},
    )
    signatures = list(request.signatures.all())
    if set(Sector.values) <= {s.sector for s in signatures}:
        binding = min(signatures, key=lambda s: (s.amount, -s.pk))
        _approve(actor, request, amount=binding.amount, reason_code=binding.reason_code, note=binding.note)
    return request


@transaction.atomic
def reject_request(actor, request: CreditRequest, *, reason_code: str, note: str = "", ballot_id=None) -> CreditRequest:
    """A co-chair turns down a submitted request at or below the limit (one is enough to
    refuse: dual control guards spending). Above the limit only a ballot decides."""
    request = (
        CreditRequest.objects.select_for_update(of=("self",)).select_related("charter__committee").get(pk=request.pk)
    )
    if ballot_id is None:
        require(
            co_chair_seat(actor, request.charter.committee) is not None,
            "Only the committee's co-chairs reject credit requests.",
        )
        if request.needs_ballot:
            raise DomainError("Above the dual-control limit only a ballot decides this request.", code="needs_ballot")
    if reason_code not in DecisionReason.values:
        raise ValidationError({"reason_code": "Say why the request is rejected."})
    _check_transition(request, RequestStatus.REJECTED)
    request.status = RequestStatus.REJECTED
    request.reason_code = reason_code
    request.decision_note = note
    request.decided_at = timezone.now()
    request.decided_by = actor if actor is not None and actor.is_authenticated else None
    request.ballot_id = ballot_id
    request.save()
    record_event(
        actor,
        "credit_request.rejected",
        request,
        before={"status": RequestStatus.SUBMITTED},
        after={"status": request.status, "reason_code": reason_code, "note": note, "ballot": ballot_id},
    )
    return request


def _approve(actor, request: CreditRequest, *, amount: Decimal, reason_code="", note="", ballot_id=None) -> None:
    """Approve a locked, submitted request and allocate `amount` from its pool, in the
    caller's transaction (which holds the request's row lock and the ledger lock)."""
    _check_transition(request, RequestStatus.APPROVED)
    pool = CreditPool.objects.select_for_update(of=("self",)).select_related("account").get(pk=request.pool_id)
    request.pool = pool
    problems = eligibility_problems(charter=request.charter, resource=request.resource, pool=pool)
    if problems:
        raise DomainError(next(iter(problems.values())), code="not_eligible")
    account = open_account(request.charter, actor)
    locked = _lock_accounts([pool.account, account])
    pool_account, account = locked[pool.account.pk], locked[account.pk]
    if amount > pool_account.balance:
        raise DomainError(
            f"{pool.name} has only {fmt_credits(pool_account.balance)} credits available; "
            f"this award needs {fmt_credits(amount)}.",
            code="pool_exhausted",
            available=str(pool_account.balance),
        )
    allocation = _post(
        TransactionKind.ALLOCATION,
        [Leg(pool_account, pool, -amount), Leg(account, pool, amount)],
        actor=actor,
        memo=f"Request #{request.pk}: {fmt_credits(amount)} credits on {request.resource}",
    )
    status = RequestStatus.APPROVED if amount == request.amount else RequestStatus.PARTIALLY_APPROVED
    request.status = status
    request.approved_amount = amount
    request.reason_code = reason_code if status == RequestStatus.PARTIALLY_APPROVED else ""
    request.decision_note = note
    request.decided_at = timezone.now()
    request.decided_by = actor if actor is not None and actor.is_authenticated else None
    request.ballot_id = ballot_id
    request.allocation = allocation
    request.save()
    record_event(
        actor,
        "credit_request.approved",
        request,
        before={"status": RequestStatus.SUBMITTED},
        after={
            "status": status,
            "approved_amount": amount,
            "reason_code": request.reason_code,
            "allocation": allocation.pk,
            "ballot": ballot_id,
        },
    )


@transaction.atomic
def approve_by_ballot(actor, request: CreditRequest, *, ballot_id: int) -> CreditRequest:
    """Apply a passed ballot: approve and allocate, exactly once. If the pool can no longer
    fund the whole request, it awards what the pool holds (a partial award saying why), or
    rejects the request when the pool is empty; a passed ballot never fails to close."""
    request = (
        CreditRequest.objects.select_for_update(of=("self",)).select_related("charter", "resource").get(pk=request.pk)
    )
    if request.status != RequestStatus.SUBMITTED:
        # Withdrawn meanwhile, or this outcome was already applied: nothing more to do.
        return request
    _lock_ledger()
    pool = CreditPool.objects.select_for_update(of=("self",)).select_related("account").get(pk=request.pool_id)
    available = _lock_accounts([pool.account])[pool.account.pk].balance
    if available >= request.amount:
        _approve(actor, request, amount=request.amount, ballot_id=ballot_id)
    elif available > 0:
        _approve(
            actor,
            request,
            amount=available,
            reason_code=DecisionReason.POOL_LIMITED,
            note=f"The ballot passed, but {pool.name} held only {fmt_credits(available)} credits.",
            ballot_id=ballot_id,
        )
    else:
        reject_request(
            actor,
            request,
            reason_code=DecisionReason.POOL_LIMITED,
            note=f"The ballot passed, but {pool.name} had no credits left.",
            ballot_id=ballot_id,
        )
    request.refresh_from_db()
    return request


# --- Usage -----------------------------------------------------------------------------------


def post_usage(
    *, source: str, resource: Resource, charter, hour: datetime.datetime, unit_hours, actor=None
) -> LedgerTransaction | None:
    """Charge a charter for `unit_hours` of `resource` in the hour starting at `hour`.

    Idempotent on (source, resource, charter, hour), which a unique constraint enforces:
    posting the same usage again charges nothing and returns None. Usage is never refused
    (it already happened): an account without enough credits goes below zero, is flagged as
    overdrawn and alerted. The debit uses the rate in effect at `hour` and records it.
    Returns the debit, or None when nothing was charged (already posted, or zero credits).
    """
    if not isinstance(hour, datetime.datetime) or timezone.is_naive(hour):
        raise ValidationError({"hour": "Give the hour as a timezone-aware datetime."})
    hour = hour.replace(minute=0, second=0, microsecond=0)
    try:
        unit_hours = Decimal(unit_hours).quantize(Decimal("0.0001"), rounding=ROUND_HALF_UP)
    except (InvalidOperation, TypeError, ValueError) as error:
        raise ValidationError({"unit_hours": f"'{unit_hours}' is not a number."}) from error
    if unit_hours < 0:
        raise ValidationError({"unit_hours": "Usage cannot be negative."})
    key = {"source": source, "resource": resource, "charter": charter, "hour": hour}
    if UsageRecord.objects.filter(**key).exists():
        # Already posted (records are never removed): answer without waiting for any lock.
        return None
    try:
        with transaction.atomic():
            return _post_usage(key, unit_hours, actor)
    except IntegrityError:
        # A concurrent posting of the same key won the race; it charged, this one does not.
        if UsageRecord.objects.filter(**key).exists():
            return None
        raise


def _post_usage(key: dict, unit_hours: Decimal, actor) -> LedgerTransaction | None:
    _lock_ledger()
    if UsageRecord.objects.filter(**key).exists():
        return None
    resource, charter, hour = key["resource"], key["charter"], key["hour"]
    rate = ResourceRate.objects.in_effect_at(resource, hour)
    rate_value = rate.rate if rate else ZERO
    if rate is None:
        logger.warning("%s has no credit rate: usage at %s is recorded but not charged.", resource, hour)
    amount = credits(unit_hours * rate_value)
    account = open_account(charter, actor)
    debit = None
    if amount > 0:
        usage = system_account(AccountKind.USAGE)
        locked = _lock_accounts([account, usage])
        account = locked[account.pk]
        draws = _draw(account, amount, overdraft=True)
        pools = _pools_by_id(pool for pool, _ in draws)
        legs = [Leg(account, pools[pool], -part) for pool, part in draws]
        legs += [Leg(locked[usage.pk], pools[pool], part) for pool, part in draws]
        debit = _post(
            TransactionKind.USAGE,
            legs,
            actor=actor,
            occurred_at=hour,
            memo=(
                f"{fmt_credits(unit_hours)} {resource.unit}s on {resource} "
                f"at {fmt_credits(rate_value)} ({key['source']})"
            ),
        )
    UsageRecord.objects.create(
        unit_hours=unit_hours, rate=rate, rate_value=rate_value, credits=amount, transaction=debit, **key
    )
    if debit is not None:
        check_alerts(account)
    return debit


@dataclass
class ImportResult:
    posted: int = 0
    already_posted: int = 0
    errors: list[str] | None = None


def import_usage(rows: Iterable[dict], *, source: str, actor=None) -> ImportResult:
    """Post usage from an accounting system's export (e.g. Slurm `sreport` turned into rows
    of hour, resource, charter, unit_hours). Each row is posted on its own, idempotently;
    rows that cannot be understood are reported with their line, not guessed at."""
    from charters.models import Charter

    result = ImportResult(errors=[])
    resources = {r.name.casefold(): r for r in Resource.objects.all()}
    charters: dict[str, Charter | None] = {}
    for line, row in enumerate(rows, start=1):
        try:
            resource = resources.get(str(row.get("resource", "")).strip().casefold())
            if resource is None:
                raise ValidationError(f"unknown resource '{row.get('resource')}'")
            charter_key = str(row.get("charter", "")).strip()
            if charter_key not in charters:
                charters[charter_key] = (
                    Charter.objects.filter(pk=int(charter_key)).first()
                    if charter_key.isdigit()
                    else Charter.objects.filter(title=charter_key).first()
                )
            charter = charters[charter_key]
            if charter is None:
                raise ValidationError(f"unknown charter '{charter_key}'")
            hour = datetime.datetime.fromisoformat(str(row.get("hour", "")).strip().replace("Z", "+00:00"))
            if timezone.is_naive(hour):
                hour = timezone.make_aware(hour, datetime.UTC)
            posted = post_usage(
                source=source,
                resource=resource,
                charter=charter,
                hour=hour,
                unit_hours=str(row.get("unit_hours")),
                actor=actor,
            )
        except (ValidationError, ValueError) as error:
            message = "; ".join(error.messages) if isinstance(error, ValidationError) else str(error)
            result.errors.append(f"row {line}: {message}")
            continue
        if posted is None:
            result.already_posted += 1
        else:
            result.posted += 1
    return result


# --- Alerts ----------------------------------------------------------------------------------


def check_alerts(account: CreditAccount) -> list[CreditAlert]:
    """Raise the 75/90/100 % alerts the account has crossed and not yet raised for its current
    allocation, and email the highest new one after commit. Idempotent."""
    if account.kind != AccountKind.CHARTER:
        return []
    summary = account_summary(account)
    if summary.consumed <= 0:
        return []
    crossed = [t for t in ALERT_THRESHOLDS if summary.consumed * 100 >= summary.allocated * t]
    if not crossed:
        return []
    raised = set(
        CreditAlert.objects.filter(account=account, allocation=summary.allocated, threshold__in=crossed).values_list(
            "threshold", flat=True
        )
    )
    new = [
        CreditAlert.objects.create(
            account=account, threshold=t, allocation=summary.allocated, consumed=summary.consumed
        )
        for t in crossed
        if t not in raised
    ]
    if new:
        highest = max(new, key=lambda alert: alert.threshold)
        record_event(
            None,
            "credit_account.alert",
            account,
            after={
                "thresholds": [a.threshold for a in new],
                "allocated": summary.allocated,
                "consumed": summary.consumed,
                "balance": summary.balance,
            },
        )
        enqueue("compute.tasks.send_credit_alert", highest.pk)
    return new


def alert_recipients(account: CreditAccount) -> list[str]:
    """Who hears of an account's alerts: the charter's author and everyone who was awarded
    credits on it."""
    from governance.models import User

    charter = account.charter
    people = User.objects.filter(
        Q(pk=charter.created_by_id) | Q(credit_requests__charter=charter, credit_requests__status__in=AWARDED_STATUSES)
    ).exclude(email="")
    return sorted({person.email for person in people})


# --- Transfers -------------------------------------------------------------------------------


def _consent_sides(user, transfer: CreditTransfer) -> set[str]:
    sides = set()
    if is_charter_lead(user, transfer.source.charter):
        sides.add("source")
    if is_charter_lead(user, transfer.target.charter):
        sides.add("target")
    return sides


@transaction.atomic
def propose_transfer(actor, *, source: CreditAccount, target: CreditAccount, amount, reason: str) -> CreditTransfer:
    """Propose moving credits between two charters' accounts. The proposer consents for the
    side(s) they lead; the transfer happens when the other side's lead consents too."""
    if source.kind != AccountKind.CHARTER or target.kind != AccountKind.CHARTER:
        raise ValidationError("Credits move between charters' accounts.")
    transfer = CreditTransfer(source=source, target=target, amount=credits(amount), reason=reason, proposed_by=actor)
    transfer.full_clean()
    sides = _consent_sides(actor, transfer)
    require(bool(sides), "Only the lead organization of one of the two charters proposes a transfer.")
    if transfer.amount > source.balance:
        raise DomainError(
            f"{source} holds only {fmt_credits(source.balance)} credits.",
            code="insufficient_credits",
            available=str(source.balance),
        )
    transfer.source_consent_by = actor if "source" in sides else None
    transfer.target_consent_by = actor if "target" in sides else None
    transfer.save()
    record_event(
        actor,
        "credit_transfer.proposed",
        transfer,
        after={"source": source.pk, "target": target.pk, "amount": transfer.amount, "reason": reason},
    )
    if transfer.source_consent_by_id and transfer.target_consent_by_id:
        _complete_transfer(actor, transfer)
    return transfer


@transaction.atomic
def consent_transfer(actor, transfer: CreditTransfer) -> CreditTransfer:
    """The other charter's lead consents; with both consents the credits move at once."""
    transfer = (
        CreditTransfer.objects.select_for_update(of=("self",))
        .select_related("source__charter", "target__charter")
        .get(pk=transfer.pk)
    )
    if transfer.status != TransferStatus.PROPOSED:
        raise DomainError(f"This transfer is {transfer.get_status_display().lower()}.", code="not_proposed")
    sides = _consent_sides(actor, transfer)
    require(bool(sides), "Only the lead organizations of the two charters consent to a transfer.")
    pending = {s for s in sides if getattr(transfer, f"{s}_consent_by_id") is None}
    if not pending:
        raise DomainError("Your side has already consented to this transfer.", code="already_consented")
    for side in pending:
        setattr(transfer, f"{side}_consent_by", actor)
    transfer.save()
    record_event(actor, "credit_transfer.consented", transfer, after={"sides": sorted(pending)})
    if transfer.source_consent_by_id and transfer.target_consent_by_id:
        _complete_transfer(actor, transfer)
    return transfer


def _complete_transfer(actor, transfer: CreditTransfer) -> None:
    _lock_ledger()
    locked = _lock_accounts([transfer.source, transfer.target])
    source, target = locked[transfer.source_id], locked[transfer.target_id]
    draws = _draw(source, transfer.amount, overdraft=False)
    pools = _pools_by_id(pool for pool, _ in draws)
    legs = [Leg(source, pools[pool], -part) for pool, part in draws]
    legs += [Leg(target, pools[pool], part) for pool, part in draws]
    txn = _post(
        TransactionKind.TRANSFER,
        legs,
        actor=actor,
        memo=f"Transfer #{transfer.pk} from {source.charter} to {target.charter}",
    )
    transfer.status = TransferStatus.COMPLETED
    transfer.transaction = txn
    transfer.decided_at = timezone.now()
    transfer.save()
    record_event(actor, "credit_transfer.completed", transfer, after={"transaction": txn.pk})
    check_alerts(source)


@transaction.atomic
def decline_transfer(actor, transfer: CreditTransfer) -> CreditTransfer:
    """Either charter's lead declines a proposed transfer; the proposer may cancel it."""
    transfer = (
        CreditTransfer.objects.select_for_update(of=("self",))
        .select_related("source__charter", "target__charter")
        .get(pk=transfer.pk)
    )
    if transfer.status != TransferStatus.PROPOSED:
        raise DomainError(f"This transfer is {transfer.get_status_display().lower()}.", code="not_proposed")
    if transfer.proposed_by_id == actor.pk:
        transfer.status = TransferStatus.CANCELLED
    else:
        require(bool(_consent_sides(actor, transfer)), "Only the two charters' leads decline a transfer.")
        transfer.status = TransferStatus.DECLINED
    transfer.decided_at = timezone.now()
    transfer.save()
    record_event(actor, f"credit_transfer.{transfer.status}", transfer, after={"status": transfer.status})
    return transfer


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
    _lock_ledger()
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
        locked = _lock_accounts([pool.account, *(CreditAccount(pk=h["account"]) for h in holders)])
        for holder in holders:
            account = locked[holder["account"]]
            _post(
                TransactionKind.EXPIRY,
                [Leg(account, pool, -holder["balance"]), Leg(locked[pool.account.pk], pool, holder["balance"])],
                actor=actor,
                memo=f"Unspent credits of {pool.name} returned at the end of its period",
            )
            written += 1
    if pool.expired_at is None:
        pool.expired_at = timezone.now()
        pool.save(update_fields=["expired_at", "updated_at"])
        record_event(actor, "credit_pool.expired", pool, after={"expiry_transactions": written})
    return written


# --- Reversals and refunds -------------------------------------------------------------------


def _reverse(actor, original: LedgerTransaction, memo: str) -> LedgerTransaction:
    """Write the mirror image of a transaction. The caller holds the ledger lock."""
    if original.kind in (TransactionKind.REVERSAL, TransactionKind.FUNDING):
        raise DomainError(
            "A reversal is not reversed again, and a pool's funding changes with its total.",
            code="not_reversible",
        )
    if LedgerTransaction.objects.filter(reverses=original).exists():
        raise DomainError(f"Transaction #{original.pk} has already been reversed.", code="already_reversed")
    entries = list(original.entries.select_related("pool"))
    locked = _lock_accounts(entry.account for entry in entries)
    legs = [Leg(locked[e.account_id], e.pool, -e.amount) for e in entries]
    # No charter's or pool's credits from one budget may go below zero by a correction
    # (usage can overdraw an account; a reversal cannot).
    for leg in legs:
        if leg.amount < 0 and leg.account.kind in (AccountKind.CHARTER, AccountKind.POOL):
            held = exact(
                LedgerEntry.objects.filter(account=leg.account, pool=leg.pool).aggregate(total=Sum("amount"))["total"]
            )
            if held + leg.amount < 0:
                raise DomainError(
                    f"Reversing #{original.pk} would take {leg.account} below zero: it holds {fmt_credits(held)} "
                    f"credits of that pool.",
                    code="insufficient_credits",
                    available=str(held),
                )
    return _post(TransactionKind.REVERSAL, legs, actor=actor, memo=memo, reverses=original)


@transaction.atomic
def reverse_transaction(actor, original: LedgerTransaction, *, memo: str) -> LedgerTransaction:
    """Correct the ledger by reversing a transaction; administrators only. Nothing is edited."""
    require(is_administrator(actor), "Only administrators correct the ledger.")
    if not memo:
        raise ValidationError({"memo": "Say why the transaction is reversed."})
    _lock_ledger()
    reversal = _reverse(actor, original, memo)
    for account in {entry.account for entry in reversal.entries.select_related("account")}:
        check_alerts(account)
    return reversal


# Faults are reported while they are fresh: refunds by fault window reach back one week.
REFUND_WINDOW_DAYS = 7


def refundable_debits(account: CreditAccount, now: datetime.datetime | None = None):
    """The usage debits of the account's last REFUND_WINDOW_DAYS that are not reversed yet."""
    since = (now or timezone.now()) - datetime.timedelta(days=REFUND_WINDOW_DAYS)
    return LedgerTransaction.objects.filter(
        kind=TransactionKind.USAGE,
        entries__account=account,
        reversed_by__isnull=True,
        usage__hour__gte=since.replace(minute=0, second=0, microsecond=0),
    )


def debits_in_fault(
    account: CreditAccount, *, resource: Resource, start: datetime.datetime, end: datetime.datetime
) -> list[LedgerTransaction]:
    """The debits a fault of `resource` from `start` to `end` touched: every hour of use it
    overlapped, in part or whole. Refused when the window is backwards, too old, or empty."""
    if end <= start:
        raise ValidationError({"fault_end": "The fault ends after it begins."})
    if start < timezone.now() - datetime.timedelta(days=REFUND_WINDOW_DAYS):
        raise ValidationError(
            {"fault_start": f"Faults older than {REFUND_WINDOW_DAYS} days are settled outside the portal."}
        )
    debits = list(
        refundable_debits(account).filter(
            usage__resource=resource,
            usage__hour__gte=start.replace(minute=0, second=0, microsecond=0),
            usage__hour__lt=end,
        )
    )
    if not debits:
        raise ValidationError("No usage of that resource was charged to this account during those hours.")
    return debits


@transaction.atomic
def request_refund(actor, *, account: CreditAccount, debits: list[LedgerTransaction], reason: str) -> CreditRefund:
    """Ask for named usage debits to be reversed after an infrastructure fault."""
    if account.kind != AccountKind.CHARTER:
        raise ValidationError({"account": "Refunds go to a charter's account."})
    require(
        may_request_for(actor, account.charter) or co_chair_seat(actor, account.charter.committee) is not None,
        "Only the charter's organizations and the co-chairs ask for refunds.",
    )
    if not reason.strip():
        raise ValidationError({"reason": "Describe the fault."})
    debits = list(debits)
    if not debits:
        raise ValidationError({"debits": "Name the debits to refund."})
    for debit in debits:
        if debit.kind != TransactionKind.USAGE or not debit.entries.filter(account=account).exists():
            raise ValidationError({"debits": f"Transaction #{debit.pk} is not a usage debit of this account."})
        if LedgerTransaction.objects.filter(reverses=debit).exists():
            raise ValidationError({"debits": f"Transaction #{debit.pk} has already been reversed."})
    refund = CreditRefund.objects.create(account=account, reason=reason, requested_by=actor)
    refund.debits.set(debits)
    record_event(actor, "credit_refund.requested", refund, after={"debits": [d.pk for d in debits], "reason": reason})
    return refund


@transaction.atomic
def decide_refund(actor, refund: CreditRefund, *, approve: bool, note: str = "") -> CreditRefund:
    """A co-chair approves (the debits are reversed, in this transaction) or rejects a refund."""
    refund = (
        CreditRefund.objects.select_for_update(of=("self",))
        .select_related("account__charter__committee")
        .get(pk=refund.pk)
    )
    require(
        co_chair_seat(actor, refund.account.charter.committee) is not None,
        "Only the committee's co-chairs decide refunds.",
    )
    if refund.status != RefundStatus.REQUESTED:
        raise DomainError(f"This refund is already {refund.get_status_display().lower()}.", code="already_decided")
    _lock_ledger()
    if approve:
        for debit in refund.debits.order_by("pk"):
            _reverse(actor, debit, f"Refund #{refund.pk}: {refund.reason}")
    refund.status = RefundStatus.APPROVED if approve else RefundStatus.REJECTED
    refund.decided_by = actor
    refund.decided_at = timezone.now()
    refund.decision_note = note
    refund.save()
    record_event(actor, f"credit_refund.{refund.status}", refund, after={"status": refund.status, "note": note})
    return refund


# --- Verification ----------------------------------------------------------------------------


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
