"""Compute credits: pools, accounts, the double-entry ledger, requests, transfers, refunds, alerts.

The ledger is double-entry and append-only. Every movement of credits is one
`LedgerTransaction` whose `LedgerEntry` rows sum to zero, overall and per pool (an entry says
whose pool's credits it moves, so unspent credits can go back to their pool when its period
ends). Balances are sums of entries; `CreditAccount.balance` caches the sum for the locked
read-check-write of the services and is verified against the entries by `verify_ledger`.
Nothing in the ledger is updated or deleted: a correction is a reversing transaction.
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Exists, OuterRef, Q, Sum
from django.db.models.functions import Coalesce
from django.utils import timezone

from compute import permissions
from compute.choices import (
    AWARDED_STATUSES,
    AccountKind,
    DecisionReason,
    RefundStatus,
    RequestStatus,
    TransactionKind,
    TransferStatus,
)
from governance.models import TimeStampedModel
from governance.models.base import AppendOnlyModel, AppendOnlyQuerySet
from governance.roles import is_administrator

# Credits carry four decimal places: a usage debit is unit-hours times a rate, and rounding
# it to whole cents would lose real money over thousands of hourly debits.
CREDITS = {"max_digits": 18, "decimal_places": 4}
CREDIT_QUANTUM = Decimal("0.0001")
ZERO = Decimal("0")
# No pool, request, award or transfer comes near a trillion credits: a larger amount is a typo
# (or a probe), refused before it can make every balance beside it meaningless.
MAX_CREDITS = Decimal("1000000000000")
AMOUNT_RANGE = [MinValueValidator(CREDIT_QUANTUM), MaxValueValidator(MAX_CREDITS)]


def exact(total) -> Decimal:
    """A SQL SUM of credits as an exact Decimal. SQLite adds decimals in floating point and
    leaves residues like 1e-13; every credit has four places, so rounding to them restores the
    exact sum (PostgreSQL's numeric is exact already). None, the sum of nothing, is zero."""
    if total is None:
        return ZERO
    return Decimal(total).quantize(CREDIT_QUANTUM, rounding=ROUND_HALF_UP)


def charters_of(user):
    """Ids of the charters the person's organization leads or takes part in."""
    from charters.models import Charter

    if not user.organization_id:
        return Charter.objects.none().values("pk")
    return (
        Charter.objects.filter(
            Q(lead_organization_id=user.organization_id) | Q(participating_organizations=user.organization_id)
        )
        .values("pk")
        .distinct()
    )


# Every append-only row of the ledger says the same thing when something tries to change it.
LEDGER_IS_APPEND_ONLY = "The ledger is append-only: correct it with a reversing transaction."


# --- Pools and accounts ----------------------------------------------------------------------


class CreditPoolQuerySet(models.QuerySet):
    def published(self) -> CreditPoolQuerySet:
        """The body's budgets are public: their size and what was awarded from them."""
        return self

    def visible_to(self, user) -> CreditPoolQuerySet:
        """The body's budgets are part of its record: every signed-in user sees them."""
        if not (user and user.is_authenticated):
            return self.none()
        return self

    def open_on(self, day) -> CreditPoolQuerySet:
        """Pools that can still fund requests on `day`: their period has not ended."""
        return self.filter(period_end__gte=day, expired_at__isnull=True)


class CreditPool(TimeStampedModel):
    """A committee's budget of credits for a period. It funds charter accounts through approved
    requests; what they have not spent when the period ends goes back to it."""

    committee = models.ForeignKey("governance.Committee", on_delete=models.PROTECT, related_name="credit_pools")
    name = models.CharField(max_length=120)
    period_start = models.DateField()
    period_end = models.DateField()
    total = models.DecimalField(
        validators=[MinValueValidator(ZERO), MaxValueValidator(MAX_CREDITS)],
        default=ZERO,
        help_text="Credits the pool was funded with; changed only through the ledger's funding transactions.",
        **CREDITS,
    )
    expired_at = models.DateTimeField(
        null=True, blank=True, editable=False, help_text="When unspent allocations were returned after the period."
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )

    objects = CreditPoolQuerySet.as_manager()

    class Meta:
        ordering = ["-period_start", "name"]
        constraints = [
            models.UniqueConstraint(
                fields=["committee", "name"],
                name="creditpool_unique_name",
                violation_error_message="This committee already has a pool with this name.",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="creditpool_period_order",
                violation_error_message="A pool's period cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=Q(total__gte=0),
                name="creditpool_total_non_negative",
                violation_error_message="A pool's total cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.name} ({self.period_start:%Y-%m-%d} – {self.period_end:%Y-%m-%d})"

    @property
    def available(self) -> Decimal:
        """Credits not yet allocated: the balance of the pool's own ledger account."""
        return self.account.balance

    @property
    def allocated(self) -> Decimal:
        """Credits committed to charter accounts (net of what has expired back)."""
        return self.total - self.available

    @property
    def state(self) -> str:
        today = timezone.localdate()
        if self.expired_at:
            return "expired"
        if today < self.period_start:
            return "upcoming"
        if today > self.period_end:
            return "ended"
        return "open"

    @property
    def hours(self) -> int:
        """Hours in the pool's period, both ends included."""
        return ((self.period_end - self.period_start).days + 1) * 24


class CreditAccountQuerySet(models.QuerySet):
    def visible_to(self, user) -> CreditAccountQuerySet:
        """Every account for administrators, auditors and the committee; others see the
        accounts of the charters their organization leads or takes part in."""
        if not (user and user.is_authenticated):
            return self.none()
        if permissions.may_see_all_credits(user):
            return self
        return self.filter(kind=AccountKind.CHARTER, charter_id__in=charters_of(user))

    def with_owner(self) -> CreditAccountQuerySet:
        return self.select_related("charter", "charter__lead_organization", "pool")

    def with_figures(self, since) -> CreditAccountQuerySet:
        """Annotate allocated, consumed and expired credits, and what was consumed since
        `since` (for the burn rate), from the entries: one query for any number of accounts.
        A reversal counts with the kind of the transaction it reverses."""

        def of_kind(*kinds):
            return Q(entries__transaction__kind__in=kinds) | Q(
                entries__transaction__kind=TransactionKind.REVERSAL, entries__transaction__reverses__kind__in=kinds
            )

        zero = models.Value(ZERO, output_field=models.DecimalField(**CREDITS))
        return self.annotate(
            allocated=Coalesce(
                Sum("entries__amount", filter=of_kind(TransactionKind.ALLOCATION, TransactionKind.TRANSFER)), zero
            ),
            consumed=-Coalesce(Sum("entries__amount", filter=of_kind(TransactionKind.USAGE)), zero),
            expired=-Coalesce(Sum("entries__amount", filter=of_kind(TransactionKind.EXPIRY)), zero),
            recent_consumption=-Coalesce(
                Sum(
                    "entries__amount",
                    filter=of_kind(TransactionKind.USAGE) & Q(entries__transaction__occurred_at__gte=since),
                ),
                zero,
            ),
        )


class CreditAccount(TimeStampedModel):
    """A holder of credits in the ledger: one per charter, one per pool, and the two system
    accounts credits come from (funding) and go to when consumed (usage)."""

    kind = models.CharField(max_length=16, choices=AccountKind.choices)
    charter = models.OneToOneField(
        "charters.Charter", on_delete=models.PROTECT, null=True, blank=True, related_name="credit_account"
    )
    pool = models.OneToOneField(CreditPool, on_delete=models.PROTECT, null=True, blank=True, related_name="account")
    balance = models.DecimalField(
        default=ZERO,
        editable=False,
        help_text="Cached sum of the account's entries, kept by the ledger services and verified by verify_ledger.",
        **CREDITS,
    )

    objects = CreditAccountQuerySet.as_manager()

    class Meta:
        ordering = ["kind", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind=AccountKind.CHARTER, charter__isnull=False, pool__isnull=True)
                    | Q(kind=AccountKind.POOL, pool__isnull=False, charter__isnull=True)
                    | Q(kind__in=[AccountKind.FUNDING, AccountKind.USAGE], charter__isnull=True, pool__isnull=True)
                ),
                name="creditaccount_owner_matches_kind",
                violation_error_message="A charter account belongs to a charter, a pool account to a pool.",
            ),
            models.UniqueConstraint(
                fields=["kind"],
                condition=Q(kind__in=[AccountKind.FUNDING, AccountKind.USAGE]),
                name="creditaccount_one_system_account_per_kind",
                violation_error_message="There is one funding and one usage account.",
            ),
        ]

    def __str__(self) -> str:
        if self.kind == AccountKind.CHARTER:
            return f"Account of {self.charter}"
        if self.kind == AccountKind.POOL:
            return f"Pool {self.pool.name}"
        return self.get_kind_display()

    @property
    def overdrawn(self) -> bool:
        """Usage is never refused, so a charter's account can go below zero; it is flagged."""
        return self.kind == AccountKind.CHARTER and self.balance < 0


# --- The ledger -----------------------------------------------------------------------------


class LedgerTransactionQuerySet(AppendOnlyQuerySet):
    def visible_to(self, user) -> LedgerTransactionQuerySet:
        """The whole ledger for administrators, auditors and the committee; others see the
        transactions that touch an account they can see."""
        if not (user and user.is_authenticated):
            return self.none()
        if permissions.may_see_all_credits(user):
            return self
        mine = LedgerEntry.objects.filter(
            transaction=OuterRef("pk"), account__kind=AccountKind.CHARTER, account__charter_id__in=charters_of(user)
        )
        return self.filter(Exists(mine))


class LedgerTransaction(AppendOnlyModel):
    """One movement of credits: a set of entries that sum to zero. Never changed once written."""

    append_only_message = LEDGER_IS_APPEND_ONLY

    kind = models.CharField(max_length=16, choices=TransactionKind.choices)
    occurred_at = models.DateTimeField(
        help_text="When the credits moved; for a usage debit, the hour the resource was used."
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    memo = models.CharField(max_length=300, blank=True)
    reverses = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="reversed_by",
        help_text=(
            "The transaction this one reverses: whole (a ledger reversal, once), or the refunded hours "
            "of a usage debit (a refund; several refunds may each return other hours of one debit)."
        ),
    )

    objects = LedgerTransactionQuerySet.as_manager()

    class Meta:
        ordering = ["-occurred_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind=TransactionKind.REVERSAL, reverses__isnull=False)
                | (~Q(kind=TransactionKind.REVERSAL) & Q(reverses__isnull=True)),
                name="ledgertransaction_reversal_names_its_original",
                violation_error_message="A reversal names the transaction it reverses, and only a reversal does.",
            ),
        ]
        indexes = [
            models.Index(fields=["kind", "occurred_at"], name="ledgertxn_kind_time_idx"),
            # An account page reads its newest days' entries through this (selectors.AccountEntries).
            models.Index(fields=["occurred_at"], name="ledgertxn_time_idx"),
        ]

    def __str__(self) -> str:
        return f"#{self.pk} {self.get_kind_display()} {self.occurred_at:%Y-%m-%d %H:%M}"


class LedgerEntry(AppendOnlyModel):
    """One side of a transaction: credits into (positive) or out of (negative) an account,
    drawn from a pool's budget (empty only for usage by an account that was never funded)."""

    append_only_message = LEDGER_IS_APPEND_ONLY

    transaction = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="entries")
    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="entries")
    pool = models.ForeignKey(CreditPool, on_delete=models.PROTECT, null=True, blank=True, related_name="+")
    amount = models.DecimalField(**CREDITS)

    class Meta:
        ordering = ["transaction", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(amount=0),
                name="ledgerentry_amount_non_zero",
                violation_error_message="An entry moves a non-zero amount.",
            ),
        ]
        indexes = [models.Index(fields=["account", "pool"], name="ledgerentry_account_pool_idx")]

    def __str__(self) -> str:
        return f"{self.amount:+} {self.account}"


class UsageRecord(AppendOnlyModel):
    """Usage of a resource by a charter in one hour, as a source reported it, and its debit.

    (source, resource, charter, hour) is the idempotency key: a collector re-run or a repeated
    import finds the record and charges nothing more. The rate used is kept on the record."""

    append_only_message = LEDGER_IS_APPEND_ONLY

    # Millions of rows arrive a batch at a time: the keys are checked by the posting services
    # once per batch (compute.services.credits.batches, verify_ledger finds any orphan), not by
    # a trigger per row and key at commit, which cost as much as writing the rows. Deleting a
    # resource, charter, rate, debit or batch is still refused by the ORM (PROTECT).
    source = models.CharField(max_length=64)
    resource = models.ForeignKey(
        "compute.Resource", on_delete=models.PROTECT, related_name="usage_records", db_constraint=False, db_index=False
    )
    charter = models.ForeignKey(
        "charters.Charter", on_delete=models.PROTECT, related_name="usage_records", db_constraint=False, db_index=False
    )
    hour = models.DateTimeField(help_text="Start of the hour of use.")
    unit_hours = models.DecimalField(max_digits=14, decimal_places=4, validators=[MinValueValidator(ZERO)])
    rate = models.ForeignKey(
        "compute.ResourceRate",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="usage_records",
        db_constraint=False,
        db_index=False,
    )
    rate_value = models.DecimalField("credits per unit-hour charged", max_digits=12, decimal_places=4)
    credits = models.DecimalField(**CREDITS)
    transaction = models.ForeignKey(
        LedgerTransaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="usage_records",
        db_constraint=False,
        help_text=(
            "The debit that charged it: its own for usage posted alone; for a batch, the debit of its "
            "account and day, shared by that day's records."
        ),
    )
    posted_at = models.DateTimeField(default=timezone.now, editable=False)
    # No index: a batch's records are the run of ids it names (UsageBatch.record_ids), so an
    # index entry per record for a value shared by a quarter of a million of them bought nothing.
    batch = models.ForeignKey(
        "compute.UsageBatch",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="records",
        db_constraint=False,
        db_index=False,
        help_text="The batch that posted it; its audit event commits to this debit.",
    )

    class Meta:
        ordering = ["-hour"]
        constraints = [
            # The charter and hour lead, so the key's index also serves a charter's hours
            # (refund windows, the account page's resources).
            models.UniqueConstraint(
                fields=["charter", "hour", "resource", "source"],
                name="usagerecord_idempotency_key",
                violation_error_message="This usage has already been posted.",
            ),
            models.CheckConstraint(
                condition=Q(unit_hours__gte=0),
                name="usagerecord_unit_hours_non_negative",
                violation_error_message="Usage cannot be negative.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.unit_hours} {self.resource.unit}s of {self.resource}, {self.charter}, {self.hour:%Y-%m-%d %H}h"


class AccountDay(models.Model):
    """Derived data: an account's entries summed per day and kind, kept by the posting services
    in the same transaction as the entries (a reversal counts with the kind it reverses, on its
    own day), so the account page's figures and burn-down cost the same whatever the history.
    verify_ledger checks it against the entries."""

    account = models.ForeignKey(CreditAccount, on_delete=models.CASCADE, related_name="days")
    day = models.DateField(help_text="The day, in the portal's time zone, the transactions occurred.")
    kind = models.CharField(max_length=16, choices=TransactionKind.choices)
    amount = models.DecimalField(default=ZERO, **CREDITS)
    entries = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["account", "day", "kind"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "day", "kind"],
                name="accountday_once_per_day_and_kind",
                violation_error_message="This account already has a summary of that day and kind.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account} on {self.day}: {self.kind} {self.amount}"


class UsageBatch(AppendOnlyModel):
    """Usage posted together in one transaction (an import's chunk, a collector's hours).

    The batch's one audit event carries `root`: the RFC 9162 Merkle root over its debits, each
    leaf committing to one debit (one per account and day of the batch), its ledger entries and
    its usage records, or to the records of a charter's day that charged nothing, so every
    charge in it stays provable on its own (compute.services.credits.debits.debit_proof)."""

    append_only_message = LEDGER_IS_APPEND_ONLY

    source = models.CharField(max_length=64, help_text="Where the usage came from, e.g. slurm-sacct.")
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, related_name="+"
    )
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    lines = models.PositiveIntegerField(help_text="Usage lines handed to the batch.")
    posted = models.PositiveIntegerField(help_text="Usage records it wrote (new keys).")
    debits = models.PositiveIntegerField(help_text="Of those, the ones that charged credits.")
    credits = models.DecimalField(**CREDITS)
    root = models.BinaryField(max_length=32, help_text="Merkle root over the batch's debits.")
    first_record = models.PositiveBigIntegerField(
        null=True,
        blank=True,
        editable=False,
        help_text="The id of its first usage record: its `posted` records have the ids that follow, without gaps.",
    )
    leaves = models.PositiveSmallIntegerField(
        default=3,
        editable=False,
        help_text=(
            "What the root's leaves are (compute.services.credits.leaves): 1, a leaf per record with the "
            "entries of its own debit; 2, a leaf per record, then a leaf per debit with its entries; 3, a leaf "
            "per debit with its entries and the digest of its records, then a leaf per charter and day of "
            "records that charged nothing."
        ),
    )

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Usage batch #{self.pk} from {self.source}: {self.posted} record(s)"

    def record_ids(self) -> range:
        """The ids of its usage records (their posting services number a batch's records in
        one run under the ledger lock; verify_ledger checks that each record lies in its run)."""
        first = self.first_record or 0
        return range(first, first + self.posted)

    def usage_records(self):
        """Its records, found by their run of ids (the primary key) rather than an index on
        the batch."""
        records = UsageRecord.objects.filter(batch_id=self.pk)
        if self.first_record is None:  # posted before batches named their runs (migration 0018)
            return records
        ids = self.record_ids()
        return records.filter(pk__gte=ids.start, pk__lt=ids.stop)


# --- Requests --------------------------------------------------------------------------------


class CreditRequestQuerySet(models.QuerySet):
    def published(self) -> CreditRequestQuerySet:
        """Decided requests (awarded in full or in part, or turned down) of published charters:
        the public view's awards. Drafts, pending and withdrawn requests are never public."""
        from charters.models import PUBLISHED_CHARTER_STATUSES

        return self.filter(
            status__in=(*AWARDED_STATUSES, RequestStatus.REJECTED), charter__status__in=PUBLISHED_CHARTER_STATUSES
        )

    def visible_to(self, user) -> CreditRequestQuerySet:
        """Drafts are seen by their author and the people of the charter's lead organization;
        once submitted, a request is part of the body's record, seen by every signed-in user."""
        if not (user and user.is_authenticated):
            return self.none()
        if is_administrator(user):
            return self
        visible = ~Q(status=RequestStatus.DRAFT) | Q(requested_by=user)
        if user.organization_id:
            visible |= Q(charter__lead_organization_id=user.organization_id)
        return self.filter(visible)

    def with_related(self) -> CreditRequestQuerySet:
        return self.select_related(
            "charter", "charter__lead_organization", "resource", "pool", "requested_by"
        ).prefetch_related("signatures__signer")


class CreditRequest(TimeStampedModel):
    """A charter's request for credits on a resource from a pool, and what was awarded."""

    charter = models.ForeignKey("charters.Charter", on_delete=models.PROTECT, related_name="credit_requests")
    resource = models.ForeignKey("compute.Resource", on_delete=models.PROTECT, related_name="credit_requests")
    pool = models.ForeignKey(CreditPool, on_delete=models.PROTECT, related_name="requests")
    amount = models.DecimalField("requested credits", validators=AMOUNT_RANGE, **CREDITS)
    approved_amount = models.DecimalField(
        "awarded credits", null=True, blank=True, editable=False, help_text="Credits awarded.", **CREDITS
    )
    period_start = models.DateField(help_text="When the credits will be used from.")
    period_end = models.DateField(help_text="When the credits will be used until.")
    justification = models.TextField()
    status = models.CharField(max_length=24, choices=RequestStatus.choices, default=RequestStatus.DRAFT)
    reason_code = models.CharField(
        max_length=32,
        choices=DecisionReason.choices,
        blank=True,
        help_text="Why less than requested, or nothing, was awarded.",
    )
    decision_note = models.TextField(blank=True)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="credit_requests")
    submitted_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    ballot = models.ForeignKey(
        "governance.Ballot",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="+",
        help_text="The ballot that decided the request, above the dual-control limit.",
    )
    allocation = models.OneToOneField(
        LedgerTransaction,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        editable=False,
        related_name="funded_request",
        help_text="The ledger transaction that allocated the award: there is at most one.",
    )

    objects = CreditRequestQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=RequestStatus.values),
                name="creditrequest_status_valid",
                violation_error_message="Unknown request status.",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="creditrequest_amount_positive",
                violation_error_message="A request asks for a positive number of credits.",
            ),
            models.CheckConstraint(
                condition=Q(period_end__gte=models.F("period_start")),
                name="creditrequest_period_order",
                violation_error_message="The period cannot end before it starts.",
            ),
            models.CheckConstraint(
                condition=(
                    Q(status=RequestStatus.APPROVED, approved_amount=models.F("amount"), allocation__isnull=False)
                    | Q(
                        status=RequestStatus.PARTIALLY_APPROVED,
                        approved_amount__gt=0,
                        approved_amount__lt=models.F("amount"),
                        allocation__isnull=False,
                    )
                    | (
                        Q(status__in=[RequestStatus.DRAFT, RequestStatus.SUBMITTED, RequestStatus.WITHDRAWN])
                        & Q(approved_amount__isnull=True, allocation__isnull=True)
                    )
                    | Q(status=RequestStatus.REJECTED, allocation__isnull=True)
                ),
                name="creditrequest_award_matches_status",
                violation_error_message="An award is allocated when, and only when, a request is approved.",
            ),
            models.CheckConstraint(
                condition=~Q(status=RequestStatus.PARTIALLY_APPROVED) | ~Q(reason_code=""),
                name="creditrequest_partial_award_has_reason",
                violation_error_message="A partial award says why.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount.normalize():,f} credits on {self.resource} for {self.charter}"

    @property
    def needs_ballot(self) -> bool:
        """Only a passed ballot approves this request (compute.selectors.ballot_reason says why:
        the dual-control limit, counted per charter and pool, or a co-chair party to it)."""
        from compute.selectors import ballot_reason

        return ballot_reason(self) is not None

    @property
    def is_awarded(self) -> bool:
        return self.status in AWARDED_STATUSES


class CreditSignature(models.Model):
    """A co-chair's signature on a request at or below the dual-control limit."""

    request = models.ForeignKey(CreditRequest, on_delete=models.PROTECT, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sector = models.CharField(max_length=20, help_text="The sector the co-chair signed for.")
    amount = models.DecimalField(
        help_text="Credits the co-chair agrees to award.", validators=[MaxValueValidator(MAX_CREDITS)], **CREDITS
    )
    reason_code = models.CharField(max_length=32, choices=DecisionReason.choices, blank=True)
    note = models.TextField(blank=True)
    signed_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        ordering = ["signed_at", "pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["request", "signer"],
                name="creditsignature_once_per_signer",
                violation_error_message="You have already signed this request.",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="creditsignature_amount_positive",
                violation_error_message="A signature awards a positive number of credits.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.signer} ({self.sector}) signed {self.request_id}"


# --- Transfers, refunds, alerts --------------------------------------------------------------


class CreditTransferQuerySet(models.QuerySet):
    def visible_to(self, user) -> CreditTransferQuerySet:
        if not (user and user.is_authenticated):
            return self.none()
        if permissions.may_see_all_credits(user):
            return self
        mine = charters_of(user)
        return self.filter(Q(source__charter_id__in=mine) | Q(target__charter_id__in=mine))


class CreditTransfer(TimeStampedModel):
    """Credits moved from one charter's account to another's, once both charters' leads consent."""

    source = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="transfers_out")
    target = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="transfers_in")
    amount = models.DecimalField(validators=AMOUNT_RANGE, **CREDITS)
    reason = models.TextField()
    status = models.CharField(max_length=16, choices=TransferStatus.choices, default=TransferStatus.PROPOSED)
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    source_consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    target_consent_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    transaction = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="transfer"
    )

    objects = CreditTransferQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(source=models.F("target")),
                name="credittransfer_between_two_accounts",
                violation_error_message="A transfer goes from one account to another.",
            ),
            models.CheckConstraint(
                condition=Q(amount__gt=0),
                name="credittransfer_amount_positive",
                violation_error_message="A transfer moves a positive number of credits.",
            ),
            models.CheckConstraint(
                condition=Q(status=TransferStatus.COMPLETED, transaction__isnull=False)
                | (~Q(status=TransferStatus.COMPLETED) & Q(transaction__isnull=True)),
                name="credittransfer_completed_has_transaction",
                violation_error_message="A completed transfer has its ledger transaction, and only then.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.amount.normalize():,f} credits from {self.source} to {self.target}"


class CreditRefundQuerySet(models.QuerySet):
    def visible_to(self, user) -> CreditRefundQuerySet:
        if not (user and user.is_authenticated):
            return self.none()
        if permissions.may_see_all_credits(user):
            return self
        return self.filter(account__charter_id__in=charters_of(user))


class CreditRefund(TimeStampedModel):
    """Usage debits to be reversed because of an infrastructure fault, approved by the
    co-chairs of both sectors (one co-chair may turn it down)."""

    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="refunds")
    debits = models.ManyToManyField(
        LedgerTransaction, related_name="refund_claims", help_text="The usage debits whose hours are refunded."
    )
    records = models.ManyToManyField(
        UsageRecord,
        related_name="refund_claims",
        help_text="The hours of usage refunded: all of a debit's, or those of a fault window.",
    )
    reason = models.TextField(help_text="The fault, and why these debits should not count.")
    status = models.CharField(max_length=16, choices=RefundStatus.choices, default=RefundStatus.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    decision_note = models.TextField(blank=True)

    objects = CreditRefundQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]

    def __str__(self) -> str:
        return f"Refund for {self.account} ({self.get_status_display().lower()})"


class SectorApproval(models.Model):
    """A co-chair's approval, for their sector, of something both sectors decide (a refund, a
    ledger reversal): it takes effect once every sector's co-chair has approved (DESIGN.md 2.7)."""

    approver = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    sector = models.CharField(max_length=20, help_text="The sector the co-chair approved for.")
    note = models.TextField(blank=True)
    approved_at = models.DateTimeField(default=timezone.now, editable=False)

    class Meta:
        abstract = True
        ordering = ["approved_at", "pk"]


class CreditRefundApproval(SectorApproval):
    """A co-chair's approval of a refund."""

    refund = models.ForeignKey(CreditRefund, on_delete=models.PROTECT, related_name="approvals")

    class Meta(SectorApproval.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["refund", "sector"],
                name="creditrefundapproval_once_per_sector",
                violation_error_message="This sector's co-chair has already approved this refund.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.approver} approves {self.refund}"


class CreditAlertQuerySet(models.QuerySet):
    def visible_to(self, user) -> CreditAlertQuerySet:
        if not (user and user.is_authenticated):
            return self.none()
        if permissions.may_see_all_credits(user):
            return self
        return self.filter(account__charter_id__in=charters_of(user))


class CreditAlert(models.Model):
    """A charter account crossed a share of its allocation. Raised once per threshold and
    allocation: a new award (a different allocation) can raise the same threshold again."""

    account = models.ForeignKey(CreditAccount, on_delete=models.PROTECT, related_name="alerts")
    threshold = models.PositiveSmallIntegerField(help_text="Percent of the allocation consumed.")
    allocation = models.DecimalField(help_text="The allocation the share was measured against.", **CREDITS)
    consumed = models.DecimalField(**CREDITS)
    created_at = models.DateTimeField(default=timezone.now, editable=False)
    emailed_at = models.DateTimeField(null=True, blank=True, editable=False)

    objects = CreditAlertQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-threshold"]
        constraints = [
            models.UniqueConstraint(
                fields=["account", "threshold", "allocation"],
                name="creditalert_once_per_threshold",
                violation_error_message="This alert has already been raised.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.account}: {self.threshold} % of {self.allocation.normalize():,f} credits consumed"
