"""Emails about credits, sent from Celery tasks, never inside a request.

An alert's email first claims the alert with a conditional UPDATE in the same transaction as
the sending: a retried or repeated task finds it claimed and sends nothing, and a failed
sending rolls the claim back so the retry can try again.
"""

from __future__ import annotations

from django.conf import settings
from django.core.mail import EmailMessage, get_connection
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from compute.models import CreditAlert
from compute.services.credits import alerts, posting


def send_credit_alert(alert_id: int) -> int:
    """Tell the people behind a charter that its account crossed a threshold; returns the
    number of emails sent (0 when already sent or nobody has an address)."""
    with transaction.atomic():
        if not CreditAlert.objects.filter(pk=alert_id, emailed_at__isnull=True).update(emailed_at=timezone.now()):
            return 0
        alert = CreditAlert.objects.select_related("account__charter").get(pk=alert_id)
        charter = alert.account.charter
        allocation = posting.fmt_credits(alert.allocation)
        if alert.threshold >= 100:
            headline = f"{charter} has used all of its {allocation} credits"
        else:
            headline = f"{charter} has used {alert.threshold} % of its {allocation} credits"
        link = getattr(settings, "SITE_URL", "").rstrip("/") + reverse(
            "compute:account-detail", args=[alert.account_id]
        )
        body = (
            f"{headline}: {posting.fmt_credits(alert.consumed)} credits consumed so far.\n\n"
            "Usage is never refused: past 100 % the account is overdrawn until more credits are awarded.\n"
            f"Balance, burn-down and forecast: {link}\n"
        )
        messages = [
            EmailMessage(subject=f"[TGB] {headline}", body=body, to=[address])
            for address in alerts.alert_recipients(alert.account)
        ]
        if not messages:
            return 0
        return get_connection().send_messages(messages) or 0
