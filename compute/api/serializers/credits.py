"""Serializers of the compute API: resources and their rates, pools, accounts, the read-only
ledger, credit requests, transfers and refunds (field names as in DESIGN.md section 3)."""

from __future__ import annotations

import datetime

from django.utils import timezone
from rest_framework import serializers

from compute import selectors
from compute.choices import AccountKind, DecisionReason
from compute.models import (
    CreditAccount,
    CreditPool,
    CreditRefund,
    CreditRequest,
    CreditSignature,
    CreditTransfer,
    LedgerEntry,
    LedgerReversal,
    LedgerTransaction,
    Resource,
    ResourceRate,
    UsageRecord,
)
from compute.models.ledger import CREDIT_QUANTUM, MAX_CREDITS, ZERO, exact
from governance.api.base import AsciiDecimalField, CleanModelSerializer, StrictPrimaryKeyRelatedField

CREDITS = {"max_digits": 18, "decimal_places": 4}


class ResourceRateSerializer(serializers.ModelSerializer):
    class Meta:
        model = ResourceRate
        fields = ["id", "rate", "effective_from", "note", "created_at"]
        read_only_fields = ["created_at"]
        extra_kwargs = {"effective_from": {"required": False}}


class ResourceSerializer(CleanModelSerializer):
    unit = serializers.CharField(read_only=True)
    current_rate = serializers.SerializerMethodField()
    rates = ResourceRateSerializer(many=True, read_only=True)

    class Meta:
        model = Resource
        fields = [
            "id",
            "name",
            "kind",
            "description",
            "capacity",
            "jurisdiction",
            "tee_capable",
            "status",
            "unit",
            "current_rate",
            "rates",
        ]

    def get_current_rate(self, resource: Resource) -> str | None:
        """Credits per unit-hour now (from the prefetched rates: no query per resource)."""
        now = timezone.now()
        started = [r for r in resource.rates.all() if r.effective_from <= now]
        if not started:
            return None
        return str(max(started, key=lambda r: r.effective_from).rate)


class CreditPoolSerializer(CleanModelSerializer):
    allocated = serializers.DecimalField(read_only=True, **CREDITS)
    available = serializers.DecimalField(read_only=True, **CREDITS)
    state = serializers.CharField(read_only=True)

    class Meta:
        model = CreditPool
        fields = [
            "id",
            "committee",
            "name",
            "period_start",
            "period_end",
            "total",
            "allocated",
            "available",
            "state",
            "expired_at",
        ]
        read_only_fields = ["expired_at"]


class CreditAccountSerializer(serializers.ModelSerializer):
    """An account with its figures, annotated by CreditAccountQuerySet.with_figures()."""

    allocated = serializers.DecimalField(read_only=True, **CREDITS)
    consumed = serializers.DecimalField(read_only=True, **CREDITS)
    expired = serializers.DecimalField(read_only=True, **CREDITS)
    overdrawn = serializers.BooleanField(read_only=True)
    burn_rate = serializers.SerializerMethodField(help_text="Credits consumed per day over the last 14 days.")
    forecast_exhaustion = serializers.SerializerMethodField(
        help_text="When the balance runs out at that rate; null without burn or once overdrawn."
    )

    class Meta:
        model = CreditAccount
        fields = [
            "id",
            "kind",
            "charter",
            "pool",
            "balance",
            "allocated",
            "consumed",
            "expired",
            "overdrawn",
            "burn_rate",
            "forecast_exhaustion",
        ]

    def _burn(self, account):
        return (exact(account.recent_consumption) / selectors.BURN_WINDOW_DAYS).quantize(CREDIT_QUANTUM)

    def get_burn_rate(self, account) -> str:
        return str(self._burn(account))

    def get_forecast_exhaustion(self, account) -> datetime.date | None:
        if account.kind != AccountKind.CHARTER:
            return None
        # The same rule as the account page (compute.selectors.forecast_exhaustion): a forecast
        # only from a real burn, and none once the balance is gone.
        burn = self._burn(account)
        if burn <= 0 or account.balance <= 0:
            return None
        return selectors.exhaustion_date(account.balance, burn, timezone.localdate())


class LedgerEntrySerializer(serializers.ModelSerializer):
    class Meta:
        model = LedgerEntry
        fields = ["account", "pool", "amount"]


class UsageRecordSerializer(serializers.ModelSerializer):
    class Meta:
        model = UsageRecord
        fields = ["source", "resource", "charter", "hour", "unit_hours", "rate", "rate_value", "credits"]


class LedgerTransactionSerializer(serializers.ModelSerializer):
    entries = LedgerEntrySerializer(many=True, read_only=True)
    usage = serializers.SerializerMethodField(
        help_text="A debit of one hour: its usage record. A batch's debit of a day's hours: null (see usage_records)."
    )
    usage_records = serializers.SerializerMethodField(help_text="How many hours of usage the debit charged.")
    reversed_by = serializers.SerializerMethodField(
        help_text="The first transaction that reversed this one (a ledger reversal, or a refund of some of its hours)."
    )

    class Meta:
        model = LedgerTransaction
        fields = [
            "id",
            "kind",
            "occurred_at",
            "created_at",
            "actor",
            "memo",
            "reverses",
            "reversed_by",
            "entries",
            "usage",
            "usage_records",
        ]

    def get_usage(self, txn) -> dict | None:
        records = list(txn.usage_records.all())
        return UsageRecordSerializer(records[0]).data if len(records) == 1 else None

    def get_usage_records(self, txn) -> int:
        return len(txn.usage_records.all())

    def get_reversed_by(self, txn) -> int | None:
        reversals = sorted(reversal.pk for reversal in txn.reversed_by.all())
        return reversals[0] if reversals else None


class CreditSignatureSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditSignature
        fields = ["signer", "sector", "amount", "reason_code", "note", "signed_at"]


class CreditRequestSerializer(CleanModelSerializer):
    # Blank until a decision gives a reason; declared so the schema says that "" is allowed.
    reason_code = serializers.ChoiceField(choices=DecisionReason.choices, allow_blank=True, read_only=True)
    needs_ballot = serializers.SerializerMethodField(
        help_text="Only a passed ballot decides it: above the dual-control limit (counted per charter and pool), "
        "or a co-chair's organization is party to it."
    )
    signatures = CreditSignatureSerializer(many=True, read_only=True)

    class Meta:
        model = CreditRequest
        fields = [
            "id",
            "charter",
            "resource",
            "pool",
            "amount",
            "approved_amount",
            "period_start",
            "period_end",
            "justification",
            "status",
            "reason_code",
            "decision_note",
            "requested_by",
            "submitted_at",
            "decided_at",
            "decided_by",
            "ballot",
            "allocation",
            "needs_ballot",
            "signatures",
            "created_at",
        ]
        read_only_fields = ["status", "reason_code", "decision_note", "requested_by", "created_at", "ballot"]
        extra_kwargs = {"period_start": {"required": False}, "period_end": {"required": False}}

    def get_needs_ballot(self, request: CreditRequest) -> bool:
        # Read for a whole page at once: three queries per page, not per row.
        reasons = self.context.get("_ballot_reasons")
        if reasons is None or request.pk not in reasons:
            parent = self.parent
            page = list(parent.instance) if isinstance(parent, serializers.ListSerializer) and parent.instance else []
            reasons = selectors.ballot_reasons(page if request in page else [request])
            self.context["_ballot_reasons"] = reasons
        return reasons[request.pk] is not None

    def validate(self, attrs):
        # The period defaults to the pool's, as on the page.
        pool = attrs.get("pool") or getattr(self.instance, "pool", None)
        if pool is not None and self.instance is None:
            attrs.setdefault("period_start", pool.period_start)
            attrs.setdefault("period_end", pool.period_end)
        return super().validate(attrs)


class SignSerializer(serializers.Serializer):
    amount = AsciiDecimalField(
        required=False, allow_null=True, min_value=ZERO, max_value=MAX_CREDITS, help_text="Credits to award.", **CREDITS
    )
    reason_code = serializers.ChoiceField(choices=DecisionReason.choices, required=False, allow_blank=True)
    note = serializers.CharField(required=False, allow_blank=True)


class RejectSerializer(serializers.Serializer):
    reason_code = serializers.ChoiceField(choices=DecisionReason.choices)
    note = serializers.CharField(required=False, allow_blank=True)


class CreditTransferSerializer(serializers.ModelSerializer):
    class Meta:
        model = CreditTransfer
        fields = [
            "id",
            "source",
            "target",
            "amount",
            "reason",
            "status",
            "proposed_by",
            "source_consent_by",
            "target_consent_by",
            "decided_at",
            "transaction",
        ]
        read_only_fields = ["status", "proposed_by"]


class CreditRefundSerializer(serializers.ModelSerializer):
    debits = StrictPrimaryKeyRelatedField(
        many=True,
        queryset=LedgerTransaction.objects.all(),
        required=False,
        help_text="Usage debits refunded whole (every hour they charged).",
    )
    records = StrictPrimaryKeyRelatedField(
        many=True,
        queryset=UsageRecord.objects.all(),
        required=False,
        help_text="Hours of usage refunded (usage record ids); with debits, the hours of both.",
    )
    credits = serializers.SerializerMethodField(help_text="The credits the refund gives back.")
    approved_by_sectors = serializers.SerializerMethodField(
        help_text="Sectors whose co-chair has approved; the refund is applied once every sector has."
    )

    class Meta:
        model = CreditRefund
        fields = [
            "id",
            "account",
            "debits",
            "records",
            "credits",
            "reason",
            "status",
            "requested_by",
            "decided_by",
            "decided_at",
            "decision_note",
            "approved_by_sectors",
        ]
        read_only_fields = ["status", "requested_by", "decision_note"]

    def get_credits(self, refund: CreditRefund) -> str:
        return str(exact(sum((record.credits for record in refund.records.all()), ZERO)))

    def get_approved_by_sectors(self, refund: CreditRefund) -> list[str]:
        return sorted(approval.sector for approval in refund.approvals.all())


class LedgerReversalSerializer(serializers.ModelSerializer):
    original = StrictPrimaryKeyRelatedField(queryset=LedgerTransaction.objects.all())
    approved_by_sectors = serializers.SerializerMethodField(
        help_text="Sectors whose co-chair has approved; the reversal is written once every sector has."
    )

    class Meta:
        model = LedgerReversal
        fields = [
            "id",
            "original",
            "committee",
            "memo",
            "status",
            "requested_by",
            "decided_by",
            "decided_at",
            "decision_note",
            "reversal",
            "approved_by_sectors",
        ]
        read_only_fields = ["committee", "status", "requested_by", "decision_note", "reversal"]

    def get_approved_by_sectors(self, proposal: LedgerReversal) -> list[str]:
        return sorted(approval.sector for approval in proposal.approvals.all())


class DecisionNoteSerializer(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True)
