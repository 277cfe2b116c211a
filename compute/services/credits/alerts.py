"""Consumption alerts of charter accounts at 75, 90 and 100 % of the allocation."""

from __future__ import annotations

from django.db.models import Q

from compute import selectors
from compute.choices import ALERT_THRESHOLDS, AWARDED_STATUSES, AccountKind
from compute.models import CreditAccount, CreditAlert
from governance.audit import record_event
from governance.outbox import enqueue


def check_alerts(account: CreditAccount) -> list[CreditAlert]:
    """Raise the 75/90/100 % alerts the account has crossed and not yet raised for its current
    allocation, and email the highest new one after commit. Idempotent."""
    if account.kind != AccountKind.CHARTER:
        return []
    summary = selectors.account_summary(account)
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
    assert charter is not None, "alerts are raised on charter accounts only"
    people = User.objects.filter(
        Q(pk=charter.created_by_id) | Q(credit_requests__charter=charter, credit_requests__status__in=AWARDED_STATUSES)
    ).exclude(email="")
    return sorted({person.email for person in people})
