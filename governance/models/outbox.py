"""The task outbox: Celery tasks recorded in the same transaction as the change that needs them."""

from __future__ import annotations

from django.db import models


class OutboxTask(models.Model):
    """A task to hand to the broker. Written with the change that asks for it, so the task is
    never lost when the broker is down at commit time, and never sent for a change that
    rolled back. Sent right after commit; a periodic sweep re-sends what could not be sent.
    Tasks are idempotent, so a task sent twice (sent, but the mark did not commit) is harmless.
    """

    task = models.CharField(max_length=200)
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)
    sent_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at"]
        indexes = [
            models.Index(fields=["created_at"], condition=models.Q(sent_at__isnull=True), name="outbox_unsent_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.task}{tuple(self.args)}"
