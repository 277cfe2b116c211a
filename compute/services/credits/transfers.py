"""Transfers of credits between two charters' accounts, with both leads' consent."""

from __future__ import annotations

from django.core.exceptions import ValidationError
from django.db import transaction
from django.utils import timezone

from compute import permissions
from compute.choices import AccountKind, TransactionKind, TransferStatus
from compute.models import CreditAccount, CreditTransfer
from compute.services.credits import alerts, posting
from governance.audit import record_event
from governance.exceptions import DomainError
from governance.permissions import require


@transaction.atomic
def propose_transfer(actor, *, source: CreditAccount, target: CreditAccount, amount, reason: str) -> CreditTransfer:
    """Propose moving credits between two charters' accounts. The proposer consents for the
    side(s) they lead; the transfer happens when the other side's lead consents too."""
    if source.kind != AccountKind.CHARTER or target.kind != AccountKind.CHARTER:
        raise ValidationError("Credits move between charters' accounts.")
    transfer = CreditTransfer(
        source=source, target=target, amount=posting.credits(amount), reason=reason, proposed_by=actor
    )
    transfer.full_clean()
    sides = permissions.transfer_sides(actor, transfer)
    require(bool(sides), "Only the lead organization of one of the two charters proposes a transfer.")
    if transfer.amount > source.balance:
        raise DomainError(
            f"{source} holds only {posting.fmt_credits(source.balance)} credits.",
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


def _locked_proposal(transfer: CreditTransfer) -> CreditTransfer:
    """The transfer's row, locked, refused unless it still awaits a decision."""
    transfer = (
        CreditTransfer.objects.select_for_update(of=("self",))
        .select_related("source__charter", "target__charter")
        .get(pk=transfer.pk)
    )
    if transfer.status != TransferStatus.PROPOSED:
        raise DomainError(f"This transfer is {transfer.get_status_display().lower()}.", code="not_proposed")
    return transfer


@transaction.atomic
def consent_transfer(actor, transfer: CreditTransfer) -> CreditTransfer:
    """The other charter's lead consents; with both consents the credits move at once."""
    transfer = _locked_proposal(transfer)
    sides = permissions.transfer_sides(actor, transfer)
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
    posting.lock_ledger()
    locked = posting.lock_accounts([transfer.source, transfer.target])
    source, target = locked[transfer.source_id], locked[transfer.target_id]
    draws = posting.draw(source, transfer.amount, overdraft=False)
    pool_of = posting.pools_by_id(pool for pool, _ in draws)
    legs = [posting.Leg(source, pool_of[pool], -part) for pool, part in draws]
    legs += [posting.Leg(target, pool_of[pool], part) for pool, part in draws]
    txn = posting.post(
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
    alerts.check_alerts(source)


@transaction.atomic
def decline_transfer(actor, transfer: CreditTransfer) -> CreditTransfer:
    """Either charter's lead declines a proposed transfer; the proposer may cancel it."""
    transfer = _locked_proposal(transfer)
    if transfer.proposed_by_id == actor.pk:
        transfer.status = TransferStatus.CANCELLED
    else:
        require(
            permissions.may_consent_to_transfer(actor, transfer), "Only the two charters' leads decline a transfer."
        )
        transfer.status = TransferStatus.DECLINED
    transfer.decided_at = timezone.now()
    transfer.save()
    record_event(actor, f"credit_transfer.{transfer.status}", transfer, after={"status": transfer.status})
    return transfer
