"""The append-only, hash-chained audit log."""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.db import models

from governance.models.base import AppendOnlyModel, AppendOnlyQuerySet

GENESIS_HASH = "0" * 64


class AuditEventQuerySet(AppendOnlyQuerySet):
    def visible_to(self, user) -> AuditEventQuerySet:
        """The whole log for those who hold `view_auditevent` (auditors, co-chairs, secretaries,
        administrators); nothing for anyone else."""
        if user and user.is_authenticated and user.has_perm("governance.view_auditevent"):
            return self
        return self.none()


class AuditEvent(AppendOnlyModel):
    """One state change that matters, chained to the one before it by its hash.

    `hash` covers every field and the previous event's hash, so changing, removing or
    reordering any event breaks the chain from that event on. The database refuses UPDATE and
    DELETE on this table (triggers created by the migration); the model refuses them as well.
    """

    sequence = models.PositiveBigIntegerField(editable=False)
    created_at = models.DateTimeField(editable=False)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        editable=False,
        help_text="Who did it; empty for the system (a scheduled task).",
    )
    actor_repr = models.CharField(max_length=200, editable=False)
    verb = models.CharField(max_length=64, editable=False)
    object_type = models.CharField(max_length=100, editable=False)
    object_id = models.CharField(max_length=64, editable=False)
    object_repr = models.CharField(max_length=300, editable=False)
    changes = models.JSONField(default=dict, editable=False)
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    append_only_message = "Audit events are append-only."

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["sequence"]
        constraints = [
            models.UniqueConstraint(
                fields=["sequence"],
                name="auditevent_unique_sequence",
                violation_error_message="The audit chain cannot fork.",
            ),
            models.UniqueConstraint(fields=["hash"], name="auditevent_unique_hash"),
        ]
        indexes = [models.Index(fields=["object_type", "object_id"], name="auditevent_object_idx")]

    def __str__(self) -> str:
        return f"#{self.sequence} {self.actor_repr} {self.verb} {self.object_repr}"

    def payload(self) -> dict:
        """The fields the hash covers, in a stable JSON-ready form."""
        return {
            "sequence": self.sequence,
            "created_at": self.created_at.isoformat(),
            "actor": self.actor_id,
            "actor_repr": self.actor_repr,
            "verb": self.verb,
            "object_type": self.object_type,
            "object_id": self.object_id,
            "object_repr": self.object_repr,
            "changes": self.changes,
            "prev_hash": self.prev_hash,
        }

    def compute_hash(self) -> str:
        canonical = json.dumps(self.payload(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        return hashlib.sha256(canonical.encode()).hexdigest()
