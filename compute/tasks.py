"""Celery tasks of the compute app: thin wrappers that call compute.services."""

import logging

from celery import shared_task
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from compute.services import ledger
from compute.services import metrics as services

logger = logging.getLogger(__name__)


@shared_task(ignore_result=True)
def collect_all_metrics() -> int:
    """One collection pass over every enabled metric source (run by beat)."""
    return services.collect_all_metrics()


@shared_task(ignore_result=True)
def expire_credit_pools() -> int:
    """Return unspent credits of ended pools to them (run daily by beat; safe to repeat)."""
    return ledger.expire_pools()


@shared_task(ignore_result=True, autoretry_for=(OSError,), retry_backoff=True, max_retries=5)
def send_credit_alert(alert_id: int) -> bool:
    """E-mail an account's alert to the people behind the charter, once: the alert is
    claimed with a conditional update, so a retried or repeated task sends nothing more."""
    from compute.models import CreditAlert

    claimed = CreditAlert.objects.filter(pk=alert_id, emailed_at__isnull=True).update(emailed_at=timezone.now())
    if not claimed:
        return False
    alert = CreditAlert.objects.select_related("account__charter").get(pk=alert_id)
    recipients = ledger.alert_recipients(alert.account)
    if not recipients:
        logger.info("Credit alert %s has nobody to tell.", alert_id)
        return False
    charter = alert.account.charter
    if alert.threshold >= 100:
        headline = f"{charter} has used all of its {ledger.fmt_credits(alert.allocation)} credits"
    else:
        headline = f"{charter} has used {alert.threshold} % of its {ledger.fmt_credits(alert.allocation)} credits"
    try:
        send_mail(
            subject=f"[TGB] {headline}",
            message=(
                f"{headline}: {ledger.fmt_credits(alert.consumed)} credits consumed.\n\n"
                f"Balance and forecast: {reverse('compute:account-detail', args=[alert.account_id])}\n"
            ),
            from_email=None,
            recipient_list=recipients,
        )
    except OSError:
        # Give the claim back so the retry can send it.
        CreditAlert.objects.filter(pk=alert_id).update(emailed_at=None)
        raise
    return True
