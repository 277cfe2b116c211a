"""Corrections of the ledger: reversals proposed by administrators and refunds of usage debits
after an infrastructure fault, both approved by the co-chair of every sector (DESIGN.md 2.7)."""

from __future__ import annotations

import datetime

from django.core.exceptions import ValidationError
from django.db import transaction
from django.db.models import Sum
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
)
from compute.models.ledger import exact
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


def refundable_debits(account: CreditAccount, now: datetime.datetime | None = None):
    """The usage debits of the account's last REFUND_WINDOW_DAYS that are not reversed yet."""
    since = (now or timezone.now()) - datetime.timedelta(days=REFUND_WINDOW_DAYS)
    if account.charter_id is None:
        return LedgerTransaction.objects.none()  # only charters are charged for usage
    # From the usage records (indexed by charter and hour), so the window costs the same
    # whatever the account's history; each usage debit charges its charter's account.
    return LedgerTransaction.objects.filter(
        kind=TransactionKind.USAGE,
        usage__charter_id=account.charter_id,
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
        permissions.may_request_refund(actor, account),
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
    _require_in_window(debits)
    refund = CreditRefund.objects.create(account=account, reason=reason, requested_by=actor)
    refund.debits.set(debits)
    record_event(actor, "credit_refund.requested", refund, after={"debits": [d.pk for d in debits], "reason": reason})
    return refund


@transaction.atomic
def decide_refund(actor, refund: CreditRefund, *, approve: bool, note: str = "") -> CreditRefund:
    """A co-chair approves or turns down a refund. Approval is recorded per sector, and the
    debits are reversed (in this transaction) once the co-chair of every sector has approved:
    no one sector gives credits back alone. One co-chair's refusal ends it: nothing moves."""
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
    _require_in_window(list(refund.debits.all()))
    posting.lock_ledger()
    for debit in refund.debits.order_by("pk"):
        _reverse(actor, debit, f"Refund #{refund.pk}: {refund.reason}")
    return _close(actor, refund, "credit_refund", RefundStatus.APPROVED, note)


def _require_in_window(debits: list[LedgerTransaction]) -> None:
    """Every debit is of the last REFUND_WINDOW_DAYS: older faults are settled outside the portal."""
    since = timezone.now() - datetime.timedelta(days=REFUND_WINDOW_DAYS)
    old = [debit.pk for debit in debits if debit.usage.hour < since.replace(minute=0, second=0, microsecond=0)]
    if old:
        raise ValidationError(
            {
                "debits": f"Debits older than {REFUND_WINDOW_DAYS} days are settled outside the portal: "
                + ", ".join(f"#{pk}" for pk in old)
                + "."
            }
        )
