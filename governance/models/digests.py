"""Digests: the notifications a person chose to receive daily or weekly, kept until sent."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from governance.choices import NotificationDelivery


class DigestItem(models.Model):
    """One notification kept for a person's next digest (it had no deadline, and they chose a
    daily or weekly digest). `digest` is set when a digest claims it."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digest_items")
    subject = models.CharField(max_length=300)
    body = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    digest = models.ForeignKey("governance.Digest", on_delete=models.CASCADE, null=True, related_name="items")

    class Meta:
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["user", "created_at"], condition=Q(digest__isnull=True), name="digestitem_pending_idx")
        ]

    def __str__(self) -> str:
        return self.subject


class Digest(models.Model):
    """One digest e-mail: at most one per person and period, by constraint, so two senders at
    once send it once (the second insert waits for the first and is refused)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="digests")
    delivery = models.CharField(max_length=16, choices=NotificationDelivery.choices)
    period_start = models.DateTimeField(help_text="The start of the period (a day or an ISO week) it covers.")
    period_end = models.DateTimeField()
    sent_at = models.DateTimeField(auto_now_add=True)
    item_count = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["-period_start"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "period_start"],
                name="digest_one_per_period",
                violation_error_message="This person's digest for this period has been sent.",
            ),
        ]

    def __str__(self) -> str:
        return f"Digest for {self.user} from {self.period_start:%Y-%m-%d}"
