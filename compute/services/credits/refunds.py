"""Corrections of the ledger: reversals proposed by administrators and refunds of usage debits
after an infrastructure fault, both approved by the co-chair of every sector (DESIGN.md 2.7)."""

from __future__ import annotations

import datetime
from collections import defaultdict
from collections.abc import Iterable
from decimal import Decimal

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import F, Q, Sum
from django.utils import timezone

from compute import permissions
from compute.choices import AccountKind, RefundStatus, TransactionKind
from compute.models import (
    CreditAccount,
    CreditRefund,
    LedgerEntry,
    LedgerReversal,
    LedgerTransaction,
    Resource,
    UsageRecord,
)
from compute.models.ledger import ZERO, exact
from compute.services.credits import alerts, posting
from governance.audit import record_event
from governance.choices import Sector
from governance.exceptions import DomainError
from governance.permissions import co_chair_seat, require


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
    locked = posting.lock_accounts(entry.account for entry in entries)
    legs = [posting.Leg(locked[e.account_id], e.pool, -e.amount) for e in entries]
    # No charter's or pool's credits from one budget may go below zero by a correction
    # (usage can overdraw an account; a reversal cannot).
    for leg in legs:
        if leg.amount < 0 and leg.account.kind in (AccountKind.CHARTER, AccountKind.POOL):
            held = exact(
                LedgerEntry.objects.filter(account=leg.account, pool=leg.pool).aggregate(total=Sum("amount"))["total"]
            )
            if held + leg.amount < 0:
                raise DomainError(
                    f"Reversing #{original.pk} would take {leg.account} below zero: "
                    f"it holds {posting.fmt_credits(held)} credits of that pool.",
                    code="insufficient_credits",
                    available=str(held),
                )
    return posting.post(TransactionKind.REVERSAL, legs, actor=actor, memo=memo, reverses=original)


def _deciding_committee(original: LedgerTransaction):
    """The committee whose co-chairs decide a reversal of `original`: the one whose charters
    and pools hold its accounts. A transaction that touches no committee's account, or two
    committees', has no one to decide it here."""
    committees = set()
    for entry in original.entries.select_related("account__charter__committee", "account__pool__committee"):
        account = entry.account
        if account.charter_id is not None:
            committees.add(account.charter.committee)
        elif account.pool_id is not None:
            committees.add(account.pool.committee)
    if len(committees) != 1:
        raise DomainError(
            f"Transaction #{original.pk} does not belong to one committee's accounts; "
            "its correction is not decided here.",
            code="not_reversible",
        )
    return committees.pop()


@transaction.atomic
def propose_reversal(actor, original: LedgerTransaction, *, memo: str) -> LedgerReversal:
    """Propose to correct the ledger by reversing a transaction. Nothing moves until the
    co-chair of every sector of the committee holding its accounts has approved."""
    require(permissions.may_propose_reversal(actor), "Only administrators propose corrections of the ledger.")
    memo = (memo or "").strip()
    if not memo:
        raise ValidationError({"memo": "Say why the transaction is reversed."})
    original = LedgerTransaction.objects.select_for_update().get(pk=original.pk)
    if original.kind in (TransactionKind.REVERSAL, TransactionKind.FUNDING):
        raise DomainError(
            "A reversal is not reversed again, and a pool's funding changes with its total.",
            code="not_reversible",
        )
    if LedgerTransaction.objects.filter(reverses=original).exists():
        raise DomainError(f"Transaction #{original.pk} has already been reversed.", code="already_reversed")
    if LedgerReversal.objects.filter(original=original, status=RefundStatus.REQUESTED).exists():
        raise DomainError(
            f"A reversal of transaction #{original.pk} already waits for the co-chairs.", code="already_proposed"
        )
    proposal = LedgerReversal.objects.create(
        original=original, committee=_deciding_committee(original), memo=memo, requested_by=actor
    )
    record_event(actor, "ledger_reversal.proposed", proposal, after={"original": original.pk, "memo": memo})
    return proposal


@transaction.atomic
def decide_reversal(actor, proposal: LedgerReversal, *, approve: bool, note: str = "") -> LedgerReversal:
    """A co-chair approves or turns down a proposed reversal. Approvals are kept per sector;
    the mirror transaction is written (in this transaction) once every sector has approved.
    One co-chair's refusal ends the proposal: nothing moves."""
    proposal = LedgerReversal.objects.select_for_update(of=("self",)).select_related("committee").get(pk=proposal.pk)
    require(permissions.may_decide_reversal(actor, proposal), "Only the committee's co-chairs decide reversals.")
    _refuse_if_decided(proposal, "reversal")
    if not approve:
        return _close(actor, proposal, "ledger_reversal", RefundStatus.REJECTED, note)
    if not _approve_for_sector(actor, proposal, proposal.committee, "ledger_reversal", note, "reversal"):
        return proposal
    posting.lock_ledger()
    reversal = _reverse(actor, proposal.original, f"Reversal #{proposal.pk}: {proposal.memo}")
    for account in {entry.account for entry in reversal.entries.select_related("account")}:
        alerts.check_alerts(account)
    proposal.reversal = reversal
    return _close(actor, proposal, "ledger_reversal", RefundStatus.APPROVED, note, reversal=reversal.pk)


# --- Decisions both sectors' co-chairs take: refunds and reversals ---------------------------


def _refuse_if_decided(decision, what: str) -> None:
    if decision.status != RefundStatus.REQUESTED:
        raise DomainError(f"This {what} is already {decision.get_status_display().lower()}.", code="already_decided")


def _approve_for_sector(actor, decision, committee, verb: str, note: str, what: str) -> bool:
    """Record the co-chair's approval of a refund or reversal for their sector (the caller holds
    it locked and has checked the person is the committee's co-chair); whether every sector
    has now approved."""
    seat = co_chair_seat(actor, committee)
    assert seat is not None  # the caller's permission holds only for a seated co-chair
    sector = seat.organization.sector
    if decision.approvals.filter(sector=sector).exists():
        raise DomainError(f"Your sector's co-chair has already approved this {what}.", code="already_approved")
    decision.approvals.create(approver=actor, sector=sector, note=note)
    record_event(actor, f"{verb}.approval_given", decision, after={"sector": sector, "note": note})
    return set(decision.approvals.values_list("sector", flat=True)) >= set(Sector.values)


def _close(actor, decision, verb: str, status: str, note: str, **after):
    decision.status = status
    decision.decided_by = actor
    decision.decided_at = timezone.now()
    decision.decision_note = note
    decision.save()
    record_event(actor, f"{verb}.{status}", decision, after={"status": status, "note": note, **after})
    return decision


# Faults are reported while they are fresh: refunds by fault window reach back one week.
REFUND_WINDOW_DAYS = 7


def _window_start(now: datetime.datetime | None = None) -> datetime.datetime:
    since = (now or timezone.now()) - datetime.timedelta(days=REFUND_WINDOW_DAYS)
    return since.replace(minute=0, second=0, microsecond=0)


def refunded_records():
    """The usage records an approved refund has already given back."""
    return CreditRefund.records.through.objects.filter(creditrefund__status=RefundStatus.APPROVED).values(
        "usagerecord_id"
    )


def not_given_back(records):
    """Those of `records` that no approved refund gave back and whose debit no ledger reversal undid."""
    return records.exclude(
        Q(pk__in=refunded_records())
        | Q(transaction__in=LedgerReversal.objects.filter(status=RefundStatus.APPROVED).values("original"))
    )


def refundable_records(account: CreditAccount, now: datetime.datetime | None = None):
    """The charged usage records of the account's last REFUND_WINDOW_DAYS not given back yet."""
    if account.charter_id is None:
        return UsageRecord.objects.none()  # only charters are charged for usage
    # From the records' key (charter and hour lead it), so the window costs the same whatever
    # the account's history; each usage debit charges its charter's account.
    return not_given_back(
        UsageRecord.objects.filter(
            charter_id=account.charter_id, hour__gte=_window_start(now), credits__gt=0, transaction__isnull=False
        )
    )


def records_in_fault(
    account: CreditAccount, *, resource: Resource, start: datetime.datetime, end: datetime.datetime
) -> list[UsageRecord]:
    """The hours of use a fault of `resource` from `start` to `end` touched, in part or whole.
    Refused when the window is backwards, too old, or empty."""
    if end <= start:
        raise ValidationError({"fault_end": "The fault ends after it begins."})
    if start < timezone.now() - datetime.timedelta(days=REFUND_WINDOW_DAYS):
        raise ValidationError(
            {"fault_start": f"Faults older than {REFUND_WINDOW_DAYS} days are settled outside the portal."}
        )
    records = list(
        refundable_records(account)
        .filter(resource=resource, hour__gte=start.replace(minute=0, second=0, microsecond=0), hour__lt=end)
        .order_by("hour", "pk")
    )
    if not records:
        raise ValidationError("No usage of that resource was charged to this account during those hours.")
    return records


@transaction.atomic
def request_refund(
    actor,
    *,
    account: CreditAccount,
    reason: str,
    debits: Iterable[LedgerTransaction] = (),
    records: Iterable[UsageRecord] = (),
) -> CreditRefund:
    """Ask for usage to be given back after an infrastructure fault: whole debits (every hour
    they charged), hours of use (usage records), or both."""
    if account.kind != AccountKind.CHARTER:
        raise ValidationError({"account": "Refunds go to a charter's account."})
    require(
        permissions.may_request_refund(actor, account),
        "Only the charter's organizations and the co-chairs ask for refunds.",
    )
    if not reason.strip():
        raise ValidationError({"reason": "Describe the fault."})
    debits, records = list(debits), list(records)
    if not debits and not records:
        raise ValidationError({"debits": "Name the debits or the hours of usage to refund."})
    for debit in debits:
        if debit.kind != TransactionKind.USAGE or not debit.entries.filter(account=account).exists():
            raise ValidationError({"debits": f"Transaction #{debit.pk} is not a usage debit of this account."})
    wanted = {r.pk for r in records} | set(
        UsageRecord.objects.filter(transaction__in=debits, credits__gt=0).values_list("pk", flat=True)
    )
    chosen = list(UsageRecord.objects.filter(pk__in=wanted).order_by("hour", "pk"))
    for record in chosen:
        if record.charter_id != account.charter_id or record.transaction_id is None:
            raise ValidationError({"records": f"Usage record #{record.pk} is not a charge to this account."})
    open_ = set(not_given_back(UsageRecord.objects.filter(pk__in=wanted)).values_list("pk", flat=True))
    if spent := [record for record in chosen if record.pk not in open_]:
        what = ", ".join(f"#{record.pk}" for record in spent[:10])
        raise ValidationError({"records": f"Already refunded or reversed: usage record {what}."})
    _require_in_window(chosen)
    refund = CreditRefund.objects.create(account=account, reason=reason, requested_by=actor)
    refund.records.set(chosen)
    refund.debits.set({record.transaction_id for record in chosen})
    record_event(
        actor,
        "credit_refund.requested",
        refund,
        after={
            "debits": sorted({record.transaction_id for record in chosen}),
            "records": [record.pk for record in chosen],
            "credits": str(sum((record.credits for record in chosen), ZERO)),
            "reason": reason,
        },
    )
    return refund


@transaction.atomic
def decide_refund(actor, refund: CreditRefund, *, approve: bool, note: str = "") -> CreditRefund:
    """A co-chair approves or turns down a refund. Approval is recorded per sector, and the
    refunded hours are given back (in this transaction) once the co-chair of every sector has
    approved: no one sector gives credits back alone. One co-chair's refusal ends it: nothing moves."""
    refund = (
        CreditRefund.objects.select_for_update(of=("self",))
        .select_related("account__charter__committee")
        .get(pk=refund.pk)
    )
    require(
        permissions.may_decide_refund(actor, refund),
        "Only the committee's co-chairs decide refunds.",
    )
    _refuse_if_decided(refund, "refund")
    charter = refund.account.charter
    assert charter is not None  # refunds go to charter accounts (request_refund checks)
    if not approve:
        return _close(actor, refund, "credit_refund", RefundStatus.REJECTED, note)
    if not _approve_for_sector(actor, refund, charter.committee, "credit_refund", note, "refund"):
        return refund
    records = list(refund.records.order_by("pk"))
    _require_in_window(records)
    posting.lock_ledger()
    # Under the ledger lock: no other refund of the same hours was applied meanwhile.
    if spent := list(refund.records.filter(pk__in=refunded_records()).values_list("pk", flat=True)):
        raise DomainError(
            f"Another refund already gave back usage record {', '.join(f'#{pk}' for pk in spent[:10])}.",
            code="already_refunded",
        )
    by_debit: dict[int, Decimal] = defaultdict(lambda: ZERO)
    for record in records:
        by_debit[record.transaction_id] += record.credits
    for debit in LedgerTransaction.objects.filter(pk__in=by_debit).order_by("pk"):
        _give_back(actor, refund, debit, by_debit[debit.pk])
    return _close(actor, refund, "credit_refund", RefundStatus.APPROVED, note)


def _give_back(actor, refund: CreditRefund, debit: LedgerTransaction, amount: Decimal) -> LedgerTransaction:
    """Reverse `amount` of a usage debit's credits (its refunded hours): back into the pools it
    drew on, the latest first, each at most what it gave less what earlier refunds returned."""
    if LedgerReversal.objects.filter(original=debit, status=RefundStatus.APPROVED).exists():
        raise DomainError(f"Transaction #{debit.pk} was reversed as a whole.", code="already_reversed")
    account = refund.account
    returned: dict[int | None, Decimal] = defaultdict(lambda: ZERO)
    for pool, total in (
        LedgerEntry.objects.filter(transaction__reverses=debit, account=account)
        .values_list("pool")
        .annotate(total=Sum("amount"))
        .values_list("pool", "total")
    ):
        returned[pool] += exact(total)
    drawn = (
        debit.entries.filter(account=account, amount__lt=0)
        .select_related("pool")
        .order_by(F("pool__period_end").desc(nulls_last=True), "-pool_id")
    )
    usage = posting.system_account(AccountKind.USAGE)
    locked = posting.lock_accounts([account, usage])
    legs: list[posting.Leg] = []
    remaining = amount
    for entry in drawn:
        room = -entry.amount - returned[entry.pool_id]
        take = min(room, remaining)
        if take > 0:
            legs += [
                posting.Leg(locked[account.pk], entry.pool, take),
                posting.Leg(locked[usage.pk], entry.pool, -take),
            ]
            returned[entry.pool_id] += take
            remaining -= take
    if remaining > 0:
        raise DomainError(
            f"Transaction #{debit.pk} has only {posting.fmt_credits(amount - remaining)} credits left to refund.",
            code="already_refunded",
        )
    return posting.post(
        TransactionKind.REVERSAL, legs, actor=actor, memo=f"Refund #{refund.pk}: {refund.reason}", reverses=debit
    )


def _require_in_window(records: list[UsageRecord]) -> None:
    """Every hour refunded is of the last REFUND_WINDOW_DAYS: older faults are settled outside the portal."""
    since = _window_start()
    old = [record.pk for record in records if record.hour < since]
    if old:
        raise ValidationError(
            {
                "records": f"Usage older than {REFUND_WINDOW_DAYS} days is settled outside the portal: "
                + ", ".join(f"#{pk}" for pk in old[:10])
                + "."
            }
        )
