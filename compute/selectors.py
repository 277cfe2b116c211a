"""Reads that pages, the API and other apps share, so that they compute a balance, a forecast
or a series the same way.

Credits: an account's allocation, consumption and balance, its burn rate, forecast and
burn-down series. Metrics: how fresh a source is, the downsampled series behind every chart
and /api/metrics/series/, and the security posture of the resources.
"""

from __future__ import annotations

import datetime
import math
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import ROUND_CEILING, Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db.models import F, Max, Min, OuterRef, Q, Subquery, Sum, Window
from django.db.models.functions import RowNumber
from django.utils import timezone
from django.utils.timesince import timesince

from compute.choices import (
    ALERT_THRESHOLDS,
    AWARDED_STATUSES,
    AccountKind,
    RefundStatus,
    RequestStatus,
    ScanKind,
    TransactionKind,
)
from compute.collectors import catalogue
from compute.models import (
    AccountDay,
    CreditAccount,
    CreditRefund,
    CreditRequest,
    LedgerEntry,
    LedgerReversal,
    Metric,
    MetricSource,
    Resource,
    SecurityScan,
    UsageRecord,
)
from compute.models.ledger import CREDIT_QUANTUM, ZERO, exact
from compute.services.credits.posting import fmt_credits
from compute.services.metrics import store
from governance import values
from governance.choices import Role
from governance.models import Membership

# --- Credits ---------------------------------------------------------------------------------


BURN_WINDOW_DAYS = 14


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


def _day_sums(days, key: str) -> dict[int, dict[str, Decimal]]:
    """{key value: {transaction kind: sum}} from the accounts' daily summaries in one query (as
    many rows as days, whatever the number of entries); a reversal counts under the kind it
    reverses (a refunded debit lowers the usage)."""
    sums: dict[int, dict[str, Decimal]] = defaultdict(lambda: defaultdict(lambda: ZERO))
    for holder, kind, total in (
        days.values(key, "kind").annotate(total=Sum("amount")).order_by().values_list(key, "kind", "total")
    ):
        sums[holder][kind] += exact(total)
    return sums


def charter_allocation_and_use(charter_ids: Iterable[int]) -> dict[int, tuple[Decimal, Decimal]]:
    """{charter id: (allocated, consumed)} for the charters that have an account, in one
    query: the same sums as account_summary, for many charters at once (roadmap evidence)."""
    sums = _day_sums(
        AccountDay.objects.filter(account__charter_id__in=list(charter_ids), account__kind=AccountKind.CHARTER),
        "account__charter_id",
    )
    return {
        charter_id: (
            by_kind[TransactionKind.ALLOCATION] + by_kind[TransactionKind.TRANSFER],
            -by_kind[TransactionKind.USAGE],
        )
        for charter_id, by_kind in sums.items()
    }


def account_summary(account: CreditAccount) -> AccountSummary:
    """Allocated, consumed and expired credits of an account, from its daily summaries in one
    query (as many rows as days, whatever the number of entries).

    Allocations and transfers make the allocation; usage debits (less refunds) the
    consumption; expiries what went back to the pools. Their sum is the balance."""
    rows = AccountDay.objects.filter(account=account).values("kind").annotate(total=Sum("amount")).order_by()
    sums: dict[str, Decimal] = defaultdict(lambda: ZERO)
    for row in rows:
        sums[row["kind"]] += exact(row["total"])
    return AccountSummary(
        allocated=sums[TransactionKind.ALLOCATION] + sums[TransactionKind.TRANSFER],
        consumed=-sums[TransactionKind.USAGE],
        expired=-sums[TransactionKind.EXPIRY],
        balance=sum(sums.values(), ZERO),
    )


class AccountEntries:
    """An account's entries, newest first, as a sequence the Paginator slices without sorting
    the whole history: the daily summaries say how many entries each day holds, so a page
    reads only the days it reaches (one query for the days, one for the page)."""

    def __init__(self, account: CreditAccount) -> None:
        self.account = account
        self._days: list[tuple[datetime.date, int]] | None = None

    def days(self) -> list[tuple[datetime.date, int]]:
        if self._days is None:
            self._days = list(
                AccountDay.objects.filter(account=self.account)
                .values("day")
                .annotate(n=Sum("entries"))
                .order_by("-day")
                .values_list("day", "n")
            )
        return self._days

    def count(self) -> int:
        return sum(n for _, n in self.days())

    def __len__(self) -> int:
        return self.count()

    def __getitem__(self, window: slice) -> list[LedgerEntry]:
        reached, since = 0, None
        for day, n in self.days():
            since, reached = day, reached + n
            if reached >= (window.stop or 0):
                break
        entries = LedgerEntry.objects.filter(account=self.account)
        if since is not None:
            start = timezone.make_aware(datetime.datetime.combine(since, datetime.time()))
            entries = entries.filter(transaction__occurred_at__gte=start)
        # A usage debit's rate: one record's, or the range of a day's records (two subqueries
        # over the records of the page's debits, by the records' index on their debit).
        rates = (
            UsageRecord.objects.filter(transaction_id=OuterRef("transaction_id")).order_by().values("transaction_id")
        )
        entries = (
            entries.select_related("transaction", "pool")
            .annotate(
                rate_low=Subquery(rates.annotate(v=Min("rate_value")).values("v")),
                rate_high=Subquery(rates.annotate(v=Max("rate_value")).values("v")),
            )
            .order_by("-transaction__occurred_at", "-pk")
        )
        return list(entries[window])


def burn_rate(account: CreditAccount, today: datetime.date | None = None) -> Decimal:
    """Credits consumed per day over the last 14 days (less what refunds gave back)."""
    today = today or timezone.localdate()
    start = today - datetime.timedelta(days=BURN_WINDOW_DAYS)
    # From the daily summaries, where a refund lowers the usage of the day it was given back.
    consumed = -exact(
        AccountDay.objects.filter(account=account, kind=TransactionKind.USAGE, day__gte=start).aggregate(
            total=Sum("amount")
        )["total"]
    )
    return (consumed / BURN_WINDOW_DAYS).quantize(CREDIT_QUANTUM)


def forecast_exhaustion(account: CreditAccount, today: datetime.date | None = None) -> datetime.date | None:
    """The day a positive balance runs out at the last 14 days' burn rate. None when nothing
    is being consumed, and None when the balance is already gone: that day is in the past
    (see `exhausted_on`), not a forecast."""
    today = today or timezone.localdate()
    if account.balance <= 0:
        return None
    rate = burn_rate(account, today)
    if rate <= 0:
        return None
    return exhaustion_date(account.balance, rate, today)


def exhausted_on(days: list[datetime.date], balance: list[Decimal]) -> datetime.date | None:
    """The day a daily running balance last fell to zero or below and stayed there (None while
    it is positive)."""
    if not balance or balance[-1] > 0:
        return None
    day = None
    for when, value in zip(reversed(days), reversed(balance), strict=True):
        if value > 0:
            break
        day = when
    return day


def burn_down(account: CreditAccount, *, max_points: int = 400, today: datetime.date | None = None) -> dict:
    """Daily allocation, consumption and balance of an account, with the forecast, for the
    burn-down chart. One aggregate query whatever the number of transactions, and never more
    than `max_points` points per line (older days are thinned out, the last ones kept)."""
    today = today or timezone.localdate()
    rows = AccountDay.objects.filter(account=account).values_list("day", "kind", "amount").order_by("day")
    by_day: dict[datetime.date, dict[str, Decimal]] = {}
    for day_of, kind, amount in rows:
        day = by_day.setdefault(day_of, defaultdict(lambda: ZERO))
        day[kind] += exact(amount)
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
    gone = exhausted_on(days, balance) if account.balance <= 0 else None
    if len(days) > max_points:
        step = -(-len(days) // max_points)
        keep = sorted({*range(len(days) - 1, -1, -step)})
        days, allocated, consumed, balance = (
            [series[i] for i in keep] for series in (days, allocated, consumed, balance)
        )
    exhaustion = forecast_exhaustion(account, today)
    forecast = {"days": [], "balance": []}
    if exhaustion:
        forecast = {"days": [today.isoformat(), exhaustion.isoformat()], "balance": [str(account.balance), "0"]}
    return {
        "days": [d.isoformat() for d in days],
        "allocated": [str(v) for v in allocated],
        "consumed": [str(v) for v in consumed],
        "balance": [str(v) for v in balance],
        "forecast": forecast,
        "exhaustion": exhaustion.isoformat() if exhaustion else None,
        "exhausted_on": gone.isoformat() if gone else None,
    }


def awaiting_signature(user):
    """Submitted requests at or below the limit in committees the person co-chairs, that they
    have not signed yet."""
    chaired = Membership.objects.active().filter(user=user, role=Role.CHAIR).values("committee")
    return (
        CreditRequest.objects.filter(
            status=RequestStatus.SUBMITTED,
            amount__lte=settings.DUAL_CONTROL_LIMIT,
            charter__committee__in=chaired,
        )
        .exclude(signatures__signer=user)
        .select_related("charter", "resource", "pool", "requested_by")
        .order_by("submitted_at", "pk")
    )


@dataclass(frozen=True)
class AccountState:
    """An account's one current alert state, computed from its entries now (never a stale
    snapshot): the share of its allocation consumed, the highest threshold that share has
    crossed, the burn rate and what it forecasts."""

    account: CreditAccount
    allocated: Decimal
    consumed: Decimal
    burn: Decimal
    today: datetime.date
    transferred: Decimal = ZERO  # of `allocated`: transfers in less transfers out

    @property
    def balance(self) -> Decimal:
        return self.account.balance

    @property
    def share(self) -> Decimal | None:
        if self.allocated <= 0:
            return None
        return (self.consumed * 100 / self.allocated).quantize(Decimal("0.1"))

    @property
    def overdrawn(self) -> bool:
        return self.account.balance < 0

    @property
    def threshold(self) -> int | None:
        """The highest alert threshold the consumption has crossed (None below the first)."""
        if self.allocated <= 0:
            return 100 if self.consumed > 0 else None
        crossed = [t for t in ALERT_THRESHOLDS if self.consumed * 100 >= self.allocated * t]
        return crossed[-1] if crossed else None

    @property
    def forecast(self) -> datetime.date | None:
        """When the balance runs out at the current burn; None without burn or when already out."""
        if self.burn <= 0 or self.account.balance <= 0:
            return None
        return exhaustion_date(self.account.balance, self.burn, self.today)


def exhaustion_date(balance: Decimal, rate: Decimal, today: datetime.date) -> datetime.date:
    """The day a positive balance runs out at `rate` credits a day."""
    days = int((balance / rate).to_integral_value(rounding=ROUND_CEILING))
    return today + datetime.timedelta(days=min(days, 365 * 100))


def account_states(accounts: Iterable[CreditAccount], today: datetime.date | None = None) -> list[AccountState]:
    """The current alert state of many accounts in two queries, whatever their ledgers hold."""
    accounts = list(accounts)
    today = today or timezone.localdate()
    ids = [a.pk for a in accounts]
    sums = _day_sums(AccountDay.objects.filter(account_id__in=ids), "account_id")
    burns = dict(
        AccountDay.objects.filter(
            account_id__in=ids, kind=TransactionKind.USAGE, day__gte=today - datetime.timedelta(days=BURN_WINDOW_DAYS)
        )
        .values("account_id")
        .annotate(total=Sum("amount"))
        .order_by()
        .values_list("account_id", "total")
    )
    return [
        AccountState(
            account=account,
            allocated=sums[account.pk][TransactionKind.ALLOCATION] + sums[account.pk][TransactionKind.TRANSFER],
            consumed=-sums[account.pk][TransactionKind.USAGE],
            burn=(-exact(burns.get(account.pk)) / BURN_WINDOW_DAYS).quantize(CREDIT_QUANTUM),
            today=today,
            transferred=sums[account.pk][TransactionKind.TRANSFER],
        )
        for account in accounts
    ]


def pending_demand(pool, *, excluding=None) -> Decimal:
    """Credits asked of a pool by requests submitted and not yet decided (one query)."""
    pending = CreditRequest.objects.filter(pool=pool, status=RequestStatus.SUBMITTED)
    if excluding is not None:
        pending = pending.exclude(pk=excluding.pk)
    return exact(pending.aggregate(total=Sum("amount"))["total"])


@dataclass(frozen=True)
class Decision:
    """What a co-chair weighs before signing or rejecting a request: the charter's account
    (balance, burn, forecast), its earlier awards, and the pool's headroom."""

    request: CreditRequest
    state: AccountState | None
    awards: list
    awarded_total: Decimal
    available: Decimal
    pending: Decimal

    @property
    def headroom(self) -> Decimal:
        """What the pool would hold after this request and every other pending one."""
        return self.available - self.pending - self.request.amount

    @property
    def exceeds_pool(self) -> bool:
        return self.request.amount > self.available


def decision(credit_request: CreditRequest) -> Decision:
    """The facts beside the sign and reject buttons, in a fixed number of queries."""
    account = CreditAccount.objects.filter(kind=AccountKind.CHARTER, charter_id=credit_request.charter_id).first()
    state = account_states([account])[0] if account else None
    awards = list(
        CreditRequest.objects.filter(charter_id=credit_request.charter_id, status__in=AWARDED_STATUSES)
        .exclude(pk=credit_request.pk)
        .select_related("pool", "resource")
        .order_by("-decided_at")[:10]
    )
    total = exact(
        CreditRequest.objects.filter(charter_id=credit_request.charter_id, status__in=AWARDED_STATUSES)
        .exclude(pk=credit_request.pk)
        .aggregate(total=Sum("approved_amount"))["total"]
    )
    return Decision(
        request=credit_request,
        state=state,
        awards=awards,
        awarded_total=total,
        available=credit_request.pool.available,
        pending=pending_demand(credit_request.pool, excluding=credit_request),
    )


def accounts_of(user):
    """The charter accounts whose credits are the person's own work: of the charters they
    drafted or asked credits for."""
    from charters.models import Charter

    charters = Charter.objects.filter(
        Q(created_by=user) | Q(pk__in=CreditRequest.objects.filter(requested_by=user).values("charter_id"))
    ).values("pk")
    return CreditAccount.objects.filter(kind=AccountKind.CHARTER, charter_id__in=charters)


def credits_panel(user, seats: list[tuple[int, str]] | None = None) -> dict:
    """What the home page says about credits: the requests a co-chair is to sign, the person's
    requests awaiting a decision, and one current state for each of their own accounts that
    crossed a threshold or is overdrawn. A fixed number of queries. `seats`: the person's
    seats today as (committee id, role), where the caller has read them: a person who
    co-chairs nothing is then spared the co-chairs' three queries."""
    if not (user and user.is_authenticated):
        return {}
    if seats is not None and not any(role == Role.CHAIR for _, role in seats):
        pending, awaiting, corrections = CreditRequest.objects.none(), [], []
    else:
        pending, awaiting, corrections = _co_chair_work(user)
    accounts = accounts_of(user).select_related("charter").order_by("balance")
    states = [s for s in account_states(accounts) if s.threshold or s.overdrawn]
    return {
        "awaiting": awaiting,
        "awaiting_count": len(awaiting) if len(awaiting) < 10 else pending.count(),
        "open_requests": list(
            CreditRequest.objects.filter(requested_by=user, status=RequestStatus.SUBMITTED)
            .select_related("charter", "pool")
            .order_by("submitted_at")[:10]
        ),
        "states": states,
        "corrections": corrections,
    }


def _co_chair_work(user) -> tuple:
    """The co-chair's part of the credits panel: the requests to sign (a queryset, and its
    first ten), and the refunds and reversals waiting for their sector's approval."""
    pending = awaiting_signature(user)
    awaiting = list(pending[:10])
    chaired = Membership.objects.active().filter(user=user, role=Role.CHAIR)
    # Refunds and ledger reversals wait for the co-chair of every sector: those of the
    # person's committees that their own sector has not approved yet.
    corrections = [
        *CreditRefund.objects.filter(
            status=RefundStatus.REQUESTED, account__charter__committee__in=chaired.values("committee")
        )
        .exclude(approvals__sector__in=chaired.values("organization__sector"))
        .select_related("account__charter")
        .order_by("created_at")[:10],
        *LedgerReversal.objects.filter(status=RefundStatus.REQUESTED, committee__in=chaired.values("committee"))
        .exclude(approvals__sector__in=chaired.values("organization__sector"))
        .order_by("created_at")[:10],
    ]
    return pending, awaiting, corrections


# --- Metrics ---------------------------------------------------------------------------------


def freshness(source: MetricSource | None, now: datetime.datetime | None = None) -> dict:
    """How fresh a source's data is, as the line under a chart says it."""
    now = now or timezone.now()
    if source is None:
        return {"state": "none", "text": "No metric source collects this resource."}
    if not source.enabled:
        # A disabled source still says when it last collected: its data stops there.
        if not source.last_success_at:
            return {"state": "disabled", "text": f"Source {source.name} is disabled; it never collected."}
        return {
            "state": "disabled",
            "text": f"Source {source.name} is disabled; last collected {_ago(source.last_success_at, now)} "
            f"({source.last_success_at:%Y-%m-%d %H:%M} UTC).",
            "at": source.last_success_at.isoformat(),
        }
    if source.failing_since:
        return {
            "state": "down",
            "text": f"Source {source.name} down since {source.failing_since:%Y-%m-%d %H:%M} UTC: "
            f"{source.last_error[:160]}",
            "since": source.failing_since.isoformat(),
        }
    if not source.last_success_at:
        return {"state": "waiting", "text": f"Source {source.name} has not been collected yet."}
    age = now - source.last_success_at
    ago = _ago(source.last_success_at, now)
    stale = age > datetime.timedelta(seconds=max(3 * source.step_seconds, 600))
    return {
        "state": "stale" if stale else "fresh",
        "text": f"{'Stale: last collected' if stale else 'Collected'} {ago} ({source.name}).",
        "at": source.last_success_at.isoformat(),
    }


def _ago(moment: datetime.datetime, now: datetime.datetime) -> str:
    return "just now" if now - moment < datetime.timedelta(minutes=1) else f"{timesince(moment, now)} ago"


def _duration(span: datetime.timedelta) -> str:
    if span >= datetime.timedelta(days=2):
        return f"{round(span / datetime.timedelta(days=1))} days"
    if span >= datetime.timedelta(hours=2):
        return f"{round(span / datetime.timedelta(hours=1))} hours"
    return f"{max(1, round(span / datetime.timedelta(minutes=1)))} minutes"


def coverage(
    first: datetime.datetime | None,
    last: datetime.datetime | None,
    *,
    start: datetime.datetime,
    end: datetime.datetime,
    asked: str,
    slack: datetime.timedelta,
) -> str:
    """What a chart's data covers, said as its range label: the range asked for ("last 24 hours")
    when the data fills it, else what it really holds ("since 2026-09-18 (75 days)"), so a label
    never promises more than is drawn."""
    if first is None or last is None:
        return f"no data in the {asked.lower()}"
    if first - start <= slack and end - last <= slack:
        return asked.lower()
    since = f"{first:%Y-%m-%d}" if end - first >= datetime.timedelta(days=2) else f"{first:%Y-%m-%d %H:%M} UTC"
    if end - last <= slack:
        return f"since {since} ({_duration(end - first)})"
    until = f"{last:%Y-%m-%d}" if end - first >= datetime.timedelta(days=2) else f"{last:%H:%M} UTC"
    return f"from {since} to {until} ({_duration(last - first)})"


def drawable(data: dict, *, asked: str) -> dict:
    """A series answer made honest for a chart: a series is drawn only where a source collects
    the resource and at least one slot holds a value (the legend then lists only lines that
    exist); the others move to `silent` with the reason. Gaps stay null, and `coverage` says
    what the drawn data covers. The values are drawn as given: ask series() for
    series_cache.CHART_DIGITS, what the chart shows (a smaller page)."""
    drawn, silent = [], []
    for item in data["series"]:
        if item["freshness"]["state"] == "none":
            silent.append({**item, "values": None, "why": "no metric source collects this resource"})
        elif all(v is None for v in item["values"]):
            silent.append({**item, "values": None, "why": "no data in this range"})
        else:
            drawn.append(item)
    filled = [i for i in range(len(data["times"])) if any(s["values"][i] is not None for s in drawn)]
    moment = datetime.datetime.fromisoformat
    step = datetime.timedelta(seconds=data["step"])
    first = moment(data["times"][filled[0]]) if filled else None
    last = moment(data["times"][filled[-1]]) + step if filled else None
    return {
        **data,
        "series": drawn,
        "silent": silent,
        "coverage": coverage(
            first, last, start=moment(data["start"]), end=moment(data["end"]), asked=asked, slack=3 * step
        ),
    }


_EPOCH_SECONDS = re.compile(r"-?[0-9]{1,12}(\.[0-9]{1,9})?")
MAX_SERIES_SPAN = datetime.timedelta(days=3660)


def _parse_time(raw: str | None, default: datetime.datetime, name: str) -> datetime.datetime:
    """An instant of the series API: epoch seconds (ASCII digits) or ISO 8601 (UTC when it has
    no offset), within the portal's horizon (2000 to 2100)."""
    if raw in (None, ""):
        return default
    from django.utils.dateparse import parse_datetime

    problem = f"'{values.printable(raw)}' is neither an ISO 8601 time nor epoch seconds."
    try:
        if _EPOCH_SECONDS.fullmatch(raw):
            moment = datetime.datetime.fromtimestamp(float(raw), tz=datetime.UTC)
        else:
            # An impossible date (2026-02-30) or offset (+25:00) is a ValueError here.
            parsed = parse_datetime(raw)
            if parsed is None:
                raise ValidationError({name: problem})
            moment = parsed.replace(tzinfo=datetime.UTC) if timezone.is_naive(parsed) else parsed
            moment = moment.astimezone(datetime.UTC)
    except (ValueError, OverflowError, OSError):
        raise ValidationError({name: problem}) from None
    if not values.EARLIEST <= moment.date() <= values.LATEST:
        raise ValidationError(
            {name: f"{name} falls between {values.EARLIEST.isoformat()} and {values.LATEST.isoformat()}."}
        )
    return moment


@dataclass(frozen=True)
class SeriesLookups:
    """What series_request reads about the resources and the metrics it is asked for, read
    once by a page that draws several series of the same resources (the utilization
    dashboard: one chart per metric)."""

    visible: dict[int, Resource]
    sources: dict[int, MetricSource]
    metrics: dict[str, Metric]
    # Each source's freshness as the page's first series said it (source id → freshness()): every
    # chart of the page, and its list of sources, then say the same.
    freshness: dict[int, dict] = field(default_factory=dict)

    def freshness_of(self, source: MetricSource | None, now: datetime.datetime) -> dict:
        if source is None:
            return freshness(None)
        if source.pk not in self.freshness:
            self.freshness[source.pk] = freshness(source, now)
        return self.freshness[source.pk]


def series_lookups(user, resource_ids: Iterable[int], metrics: Iterable[str]) -> SeriesLookups:
    """The lookups of series_request for these resources (those of them the person may see)
    and these metrics, in three queries whatever the number of series asked later."""
    ids = list(resource_ids)
    sources: dict[int, MetricSource] = {}
    for source in MetricSource.objects.filter(resource_id__in=ids).order_by("-enabled", "pk"):
        sources.setdefault(source.resource_id, source)
    return SeriesLookups(
        visible={r.pk: r for r in Resource.objects.visible_to(user).filter(pk__in=ids)},
        sources=sources,
        metrics={m.name: m for m in Metric.objects.filter(name__in=list(metrics))},
    )


@dataclass(frozen=True)
class SeriesRequest:
    """A checked series request: what to read, at which plan, and what to say about it."""

    resource_ids: list[int]
    visible: dict[int, Resource]
    sources: dict[int, MetricSource]
    metric: str
    metric_row: Metric | None
    plan: store.Plan
    envelope: bool
    now: datetime.datetime
    lookups: SeriesLookups

    def header(self) -> dict:
        info = catalogue.info(self.metric)
        plan, row = self.plan, self.metric_row
        first = int(plan.start.timestamp())
        return {
            "metric": self.metric,
            "label": row.label if row and row.label else info.label,
            "unit": row.unit if row else info.unit,
            "start": plan.start.isoformat(),
            "end": plan.end.isoformat(),
            "step": plan.step,
            "resolution": plan.resolution,
            # One time axis for every series: the slots are the same, and sending them once keeps
            # a 50-resource answer small.
            "times": [
                datetime.datetime.fromtimestamp(first + i * plan.step, tz=datetime.UTC)
                .isoformat()
                .replace("+00:00", "Z")
                for i in range(plan.slots)
            ],
        }

    def about(self, resource_id: int) -> dict:
        """A series' own fields other than its data."""
        return {
            "resource": resource_id,
            "resource_name": self.visible[resource_id].name,
            "freshness": self.lookups.freshness_of(self.sources.get(resource_id), self.now),
        }


def series(
    user,
    *,
    resources: list[str],
    metric: str,
    start: str | None,
    end: str | None,
    step: str | None,
    envelope: bool = False,
    lookups: SeriesLookups | None = None,
    digits: int = 4,
) -> dict:
    """Downsampled series of one metric for one or more resources: the data of the dashboards
    (and, pre-serialised by series_json, the answer of /api/metrics/series/).

    `times` holds the start of each slot (UTC); each series has `values` (the mean per slot)
    aligned with it, and with `envelope` also `min` and `max` per slot.

    Every slot of the planned grid is present; a slot without data is null, so a chart
    draws a gap there, never a zero. `lookups`: series_lookups of these resources and metric,
    where the caller asks several series. Values are rounded to `digits` decimals (a chart
    asks series_cache.CHART_DIGITS), and read through the series cache."""
    from compute.services.metrics import series_cache

    asked = series_request(
        user, resources=resources, metric=metric, start=start, end=end, step=step, envelope=envelope, lookups=lookups
    )
    plan = asked.plan
    data = series_cache.columns(asked, digits=digits)
    empty = [None] * plan.slots
    out = []
    for resource_id in asked.resource_ids:
        columns = data.get(resource_id) or [empty, empty, empty]
        about = asked.about(resource_id)
        series_out = {
            "resource": about["resource"],
            "resource_name": about["resource_name"],
            "values": columns[0],
            "freshness": about["freshness"],
        }
        if envelope:
            series_out["min"], series_out["max"] = columns[1], columns[2]
        out.append(series_out)
    return {**asked.header(), "series": out}


def series_json(user, **query) -> bytes:
    """series() as JSON bytes, with each series' data from the cache of pre-serialised answers
    (compute.services.metrics.series_cache) when its rollups have not changed since."""
    from compute.services.metrics import series_cache

    return series_cache.answer(series_request(user, **query))


def series_request(
    user,
    *,
    resources: list[str],
    metric: str,
    start: str | None,
    end: str | None,
    step: str | None,
    envelope: bool = False,
    lookups: SeriesLookups | None = None,
) -> SeriesRequest:
    """The request checked (ValidationError says what is wrong) and planned; with `lookups`
    (series_lookups), from what they hold instead of three queries of its own."""
    now = timezone.now()
    end_at = _parse_time(end, now, "end")
    start_at = _parse_time(start, end_at - datetime.timedelta(hours=24), "start")
    if start_at >= end_at:
        raise ValidationError({"start": "start must be before end."})
    if end_at - start_at > MAX_SERIES_SPAN:
        raise ValidationError({"start": "A series spans at most ten years."})
    if step not in (None, "") and not re.fullmatch(r"[0-9]{1,12}", step):
        raise ValidationError({"step": "step is a whole number of seconds."})
    step_seconds = int(step) if step not in (None, "") else None
    if step_seconds is not None and step_seconds < 1:
        raise ValidationError({"step": "step is at least one second."})
    if step_seconds is not None and step_seconds > MAX_SERIES_SPAN.total_seconds():
        raise ValidationError({"step": "step is at most the longest span of a series (ten years)."})
    if not metric:
        raise ValidationError({"metric": "Name the metric, e.g. DCGM_FI_DEV_GPU_UTIL."})
    given = [r.strip() for item in resources[: settings.MAX_LIST_ITEMS] for r in str(item).split(",") if r.strip()]
    try:
        resource_ids = sorted({values.parse_id(r, what="resource id") for r in given[: settings.MAX_LIST_ITEMS]})
    except ValidationError:
        raise ValidationError({"resource": "resource is one or more resource ids."}) from None
    if not resource_ids:
        raise ValidationError({"resource": "Name at least one resource."})
    if len(resource_ids) > 200:
        raise ValidationError({"resource": "At most 200 resources at a time."})
    if lookups is None:
        lookups = series_lookups(user, resource_ids, [metric])
    visible = {pk: lookups.visible[pk] for pk in resource_ids if pk in lookups.visible}
    unknown = [r for r in resource_ids if r not in visible]
    if unknown:
        raise ValidationError({"resource": f"Unknown resource(s): {', '.join(map(str, unknown))}."})
    sources = {pk: lookups.sources[pk] for pk in resource_ids if pk in lookups.sources}
    if step_seconds is None:
        # A chart wants a few hundred points, and never slots finer than the data arrives in
        # (a 2-minute grid over 5-minute data would be mostly gaps).
        span = (end_at - start_at).total_seconds()
        sampled = max((s.step_seconds for s in sources.values() if s.enabled), default=60)
        step_seconds = max(sampled, math.ceil(span / settings.METRICS_DEFAULT_POINTS))
    plan = store.plan(start_at, end_at, step_seconds)
    return SeriesRequest(
        resource_ids=resource_ids,
        visible=visible,
        sources=sources,
        metric=metric,
        metric_row=lookups.metrics.get(metric),
        plan=plan,
        envelope=envelope,
        now=now,
        lookups=lookups,
    )


# --- Reading the posture ------------------------------------------------------------------


@dataclass
class Posture:
    resource: Resource
    latest: dict[str, SecurityScan] = field(default_factory=dict)
    last_scan_at: datetime.datetime | None = None
    stale: bool = True

    @property
    def stale_reason(self) -> str:
        if self.last_scan_at is None:
            return "Never scanned."
        if self.stale:
            return f"Last scan {self.last_scan_at:%Y-%m-%d} is older than {settings.SECURITY_SCAN_STALE_DAYS} days."
        return ""


def stale_before(now: datetime.datetime | None = None) -> datetime.datetime:
    return (now or timezone.now()) - datetime.timedelta(days=settings.SECURITY_SCAN_STALE_DAYS)


def posture(resources) -> list[Posture]:
    """The latest scan of each kind per resource, and whether the resource's scans are stale."""
    resources = list(resources)
    by_resource = {r.pk: Posture(resource=r) for r in resources}
    # The newest scan of each (resource, kind), in one query: the database ranks each
    # resource's scans of a kind, newest first, and returns the first of each.
    newest_first = Window(
        RowNumber(), partition_by=[F("resource_id"), F("kind")], order_by=[F("scanned_at").desc(), F("pk").desc()]
    )
    latest = (
        SecurityScan.objects.filter(resource__in=list(by_resource), kind__in=ScanKind.values)
        .annotate(rank=newest_first)
        .filter(rank=1)
    )
    threshold = stale_before()
    for scan in latest:
        item = by_resource[scan.resource_id]
        item.latest[scan.kind] = scan
        if item.last_scan_at is None or scan.scanned_at > item.last_scan_at:
            item.last_scan_at = scan.scanned_at
    for item in by_resource.values():
        item.stale = item.last_scan_at is None or item.last_scan_at < threshold
    return list(by_resource.values())


# --- Dual control (DESIGN.md 2.3 and 2.7) ---------------------------------------------------


def organizations_behind(request) -> set[int]:
    """The organizations behind a request: its charter's lead and the requester's own. Their
    members are recused from its ballot (DESIGN.md 2.1)."""
    ids = {request.charter.lead_organization_id, request.requested_by.organization_id}
    return {pk for pk in ids if pk is not None}


def interested_organizations(request) -> set[int]:
    """Those behind the request and every organization party to its charter: none of their
    people signs it (DESIGN.md 2.7)."""
    return organizations_behind(request) | set(request.charter.party_organization_ids())


def ballot_reason(request) -> str | None:
    """Why only a ballot may decide this request, or None when two co-chairs may sign it
    (see ballot_reasons)."""
    return ballot_reasons([request])[request.pk]


def ballot_reasons(requests) -> dict[int, str | None]:
    """For each request, why only a ballot may decide it, or None when two co-chairs may sign
    it: it is above the limit, or above it together with the charter's earlier signed awards
    from the same pool (splitting a need changes nothing), or a co-chair's organization is
    party to it (no two independent signers). Three queries for any number of requests."""
    from charters.models import Charter

    requests = list(requests)
    if not requests:
        return {}
    limit = Decimal(settings.DUAL_CONTROL_LIMIT)
    signed: dict[tuple[int, int], list[tuple[int, Decimal]]] = defaultdict(list)
    for pk, charter_id, pool_id, amount in CreditRequest.objects.filter(
        charter_id__in={r.charter_id for r in requests},
        pool_id__in={r.pool_id for r in requests},
        status__in=AWARDED_STATUSES,
        ballot__isnull=True,
    ).values_list("pk", "charter_id", "pool_id", "approved_amount"):
        signed[(charter_id, pool_id)].append((pk, amount or ZERO))
    participants: dict[int, set[int]] = defaultdict(set)
    for charter_id, organization_id in Charter.participating_organizations.through.objects.filter(
        charter_id__in={r.charter_id for r in requests}
    ).values_list("charter_id", "organization_id"):
        participants[charter_id].add(organization_id)
    chairs: dict[int, dict[int, str]] = defaultdict(dict)
    for committee_id, organization_id, name in (
        Membership.objects.active()
        .filter(committee_id__in={r.pool.committee_id for r in requests}, role=Role.CHAIR)
        .order_by()
        .values_list("committee_id", "organization_id", "organization__name")
    ):
        chairs[committee_id][organization_id] = name
    reasons: dict[int, str | None] = {}
    for request in requests:
        earlier = sum(
            (amount for pk, amount in signed[(request.charter_id, request.pool_id)] if pk != request.pk), ZERO
        )
        interested = organizations_behind(request) | participants[request.charter_id]
        conflicted = [name for org, name in chairs[request.pool.committee_id].items() if org in interested]
        if request.amount > limit:
            reasons[request.pk] = f"it is above the dual-control limit of {fmt_credits(limit)} credits"
        elif earlier + request.amount > limit:
            reasons[request.pk] = (
                f"with the {fmt_credits(earlier)} credits already signed for this charter from {request.pool}, "
                f"it would pass the dual-control limit of {fmt_credits(limit)} credits"
            )
        elif conflicted:
            reasons[request.pk] = f"{conflicted[0]} holds a co-chair seat and is party to it"
        else:
            reasons[request.pk] = None
    return reasons
