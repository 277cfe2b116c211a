"""Reversals of ledger transactions: proposed by an administrator, written once the co-chair of
every sector of the committee that holds the accounts has approved (DESIGN.md 2.7: "refunds and
reversals are approved by both co-chairs too"). A proposal moves nothing; one co-chair may turn
it down."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from compute import permissions
from compute.choices import RefundStatus
from compute.models.ledger import LedgerTransaction, SectorApproval
from governance.models import TimeStampedModel


class LedgerReversalQuerySet(models.QuerySet):
    def visible_to(self, user) -> LedgerReversalQuerySet:
        """Those who see the whole ledger see every proposal; a co-chair the proposals their
        committee decides."""
        if not (user and user.is_authenticated):
            return self.none()
        if permissions.may_see_all_credits(user):
            return self
        return self.filter(committee__in=permissions.committees_chaired_by(user))


class LedgerReversal(TimeStampedModel):
    """A proposed correction of the ledger: the mirror image of `original`, written as a new
    transaction (`reversal`) once every sector's co-chair of `committee` has approved."""

    original = models.ForeignKey(LedgerTransaction, on_delete=models.PROTECT, related_name="reversal_proposals")
    committee = models.ForeignKey(
        "governance.Committee",
        on_delete=models.PROTECT,
        related_name="ledger_reversals",
        help_text="The committee whose co-chairs decide: the one holding the transaction's accounts.",
    )
    memo = models.TextField(help_text="Why the transaction is wrong.")
    status = models.CharField(max_length=16, choices=RefundStatus.choices, default=RefundStatus.REQUESTED)
    requested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT, related_name="+")
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True, editable=False)
    decision_note = models.TextField(blank=True)
    reversal = models.OneToOneField(
        LedgerTransaction, on_delete=models.PROTECT, null=True, blank=True, editable=False, related_name="+"
    )

    objects = LedgerReversalQuerySet.as_manager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        constraints = [
            models.UniqueConstraint(
                fields=["original"],
                condition=Q(status=RefundStatus.REQUESTED),
                name="ledgerreversal_one_open_proposal",
                violation_error_message="A reversal of this transaction already waits for the co-chairs.",
            ),
            models.CheckConstraint(
                condition=Q(status=RefundStatus.APPROVED, reversal__isnull=False)
                | (~Q(status=RefundStatus.APPROVED) & Q(reversal__isnull=True)),
                name="ledgerreversal_approved_has_reversal",
                violation_error_message="An approved reversal has its ledger transaction, and only then.",
            ),
        ]

    def __str__(self) -> str:
        return f"Reversal of #{self.original_id} ({self.get_status_display().lower()})"


class LedgerReversalApproval(SectorApproval):
    """A co-chair's approval of a reversal, once per sector."""

    proposal = models.ForeignKey(LedgerReversal, on_delete=models.PROTECT, related_name="approvals")

    class Meta(SectorApproval.Meta):
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "sector"],
                name="ledgerreversalapproval_once_per_sector",
                violation_error_message="This sector's co-chair has already approved this reversal.",
            ),
        ]

    def __str__(self) -> str:
        return f"{self.approver} approves {self.proposal}"
