"""The stored Merkle tree over the audit events, its signed checkpoints and their cosignatures.

The tree's nodes are append-only like the events (database triggers refuse changes); the one
state row is what the integrator claims, under a row lock, so only one integration runs at a
time while writers insert their events without waiting for anything.
"""

from __future__ import annotations

from django.db import models

from governance.models.base import AppendOnlyModel


class LogNode(AppendOnlyModel):
    """The hash of one perfect subtree: leaves [index * 2**level, (index + 1) * 2**level).

    Level 0 holds the leaf hashes. Any proof or root reads O(log n) of these rows.
    """

    level = models.PositiveSmallIntegerField()
    index = models.PositiveBigIntegerField()
    hash = models.BinaryField(max_length=32)

    append_only_message = "The log's tree is append-only."

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["level", "index"],
                name="lognode_unique_position",
                violation_error_message="A node of the log's tree is written once.",
            )
        ]

    def __str__(self) -> str:
        return f"node {self.level}/{self.index}"


class LogState(models.Model):
    """The one row saying how far the tree has been integrated; claimed with SELECT … FOR UPDATE."""

    size = models.PositiveBigIntegerField(default=0)
    root = models.BinaryField(max_length=32)
    updated_at = models.DateTimeField(auto_now=True)

    def __str__(self) -> str:
        return f"log of {self.size} leaves"


class LogCheckpointQuerySet(models.QuerySet):
    def cosigned_by_every_sector(self, sectors) -> LogCheckpointQuerySet:
        """Checkpoints that carry a cosignature of a witness of each of `sectors`, newest first
        (the rows only: whether each cosignature verifies is the caller's check)."""
        return (
            self.filter(cosignatures__sector__in=sectors)
            .annotate(sectors=models.Count("cosignatures__sector", distinct=True))
            .filter(sectors=len(sectors))
            .order_by("-size")
        )


class LogCheckpoint(models.Model):
    """A checkpoint the log signed: the C2SP signed note with the log's signature only."""

    size = models.PositiveBigIntegerField()
    root = models.BinaryField(max_length=32)
    note = models.TextField(help_text="The checkpoint as a signed note, with the log's signature line.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = LogCheckpointQuerySet.as_manager()

    class Meta:
        ordering = ["-size"]
        constraints = [
            models.UniqueConstraint(
                fields=["size"],
                name="logcheckpoint_unique_size",
                violation_error_message="The log signs one checkpoint per tree size.",
            )
        ]

    def __str__(self) -> str:
        return f"checkpoint at size {self.size}"


class Cosignature(models.Model):
    """A witness's cosignature line on one checkpoint, as the witness returned it."""

    checkpoint = models.ForeignKey(LogCheckpoint, on_delete=models.PROTECT, related_name="cosignatures")
    witness = models.CharField(max_length=200, help_text="The witness key's name.")
    sector = models.CharField(max_length=20)
    line = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(
                fields=["checkpoint", "witness"],
                name="cosignature_unique_witness",
                violation_error_message="A witness cosigns a checkpoint once.",
            )
        ]

    def __str__(self) -> str:
        return f"{self.witness} on size {self.checkpoint.size}"


class LogVerification(models.Model):
    """One run of the record's verification (the audit page's "verify now", the API's verify,
    `verify_audit_log`) and what it found, so an auditor sees when the record was last checked."""

    ok = models.BooleanField()
    checked = models.PositiveBigIntegerField(help_text="Events whose commitments were checked.")
    tree_size = models.PositiveBigIntegerField(default=0)
    first_broken = models.BigIntegerField(null=True, blank=True, help_text="The first event found broken.")
    problems = models.PositiveIntegerField(default=0, help_text="How many problems the run reported.")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"verification of {self.tree_size} leaves: {'ok' if self.ok else 'failed'}"
