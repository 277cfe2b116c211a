"""Viewsets of the compute API: resources, pools, accounts, the ledger (read-only), credit
requests with their actions, transfers and refunds. Reads go through each model's
visible_to; writes through compute.services.credits."""

from __future__ import annotations

import datetime

from django.db.models import Exists, OuterRef, Prefetch
from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response

from compute import permissions, selectors
from compute.api.serializers.credits import (
    CreditAccountSerializer,
    CreditPoolSerializer,
    CreditRefundSerializer,
    CreditRequestSerializer,
    CreditTransferSerializer,
    DecisionNoteSerializer,
    LedgerReversalSerializer,
    LedgerTransactionSerializer,
    RejectSerializer,
    ResourceRateSerializer,
    ResourceSerializer,
    SignSerializer,
)
from compute.models import (
    CreditAccount,
    CreditPool,
    CreditRefund,
    CreditRequest,
    CreditTransfer,
    LedgerEntry,
    LedgerReversal,
    LedgerTransaction,
    Resource,
    ResourceRate,
)
from compute.services.credits import pools, refunds, requests, resources, transfers
from governance import values
from governance.api.views import ServiceModelViewSet


class ResourceViewSet(ServiceModelViewSet):
    """Shared resources with their current and past credit rates; administrators change them."""

    serializer_class = ResourceSerializer
    filterset_fields = ["kind", "status", "jurisdiction", "tee_capable"]
    ordering_fields = ["name", "capacity"]
    create_service = staticmethod(resources.create_resource)
    update_service = staticmethod(resources.update_resource)

    def may_create(self, user) -> bool:
        return permissions.may_manage_resources(user)

    def may_change(self, user, obj) -> bool:
        return permissions.may_manage_resources(user)

    def get_queryset(self):
        return Resource.objects.visible_to(self.request.user).prefetch_related(
            Prefetch("rates", queryset=ResourceRate.objects.order_by("-effective_from"))
        )

    @extend_schema(request=ResourceRateSerializer, responses=ResourceRateSerializer)
    @action(detail=True, methods=["post"])
    def rates(self, request, pk=None):
        """Set a new rate from `effective_from` (now by default); past usage keeps its price."""
        resource = self.get_object()  # administrators only: the object permission of a write
        serializer = ResourceRateSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        rate = resources.set_rate(request.user, resource, **serializer.validated_data)
        return Response(ResourceRateSerializer(rate).data, status=status.HTTP_201_CREATED)


class CreditPoolViewSet(ServiceModelViewSet):
    """Committees' budgets; the committee's co-chairs and secretary (or administrators) manage them."""

    serializer_class = CreditPoolSerializer
    filterset_fields = ["committee"]
    ordering_fields = ["period_start", "name"]
    create_service = staticmethod(pools.create_pool)
    update_service = staticmethod(pools.update_pool)

    def may_create(self, user) -> bool:
        return permissions.may_create_pools(user)

    def may_change(self, user, obj) -> bool:
        return permissions.may_manage_pools(user, obj.committee)

    def get_queryset(self):
        return CreditPool.objects.visible_to(self.request.user).select_related("account", "committee")


def _burn_since() -> datetime.datetime:
    start = timezone.localdate() - datetime.timedelta(days=selectors.BURN_WINDOW_DAYS)
    return timezone.make_aware(datetime.datetime.combine(start, datetime.time()))


class CreditAccountViewSet(viewsets.ReadOnlyModelViewSet):
    """Accounts with their balance, allocation, consumption and forecast. Read-only: credits
    move only through requests, usage, transfers, expiry and refunds."""

    serializer_class = CreditAccountSerializer
    filterset_fields = ["kind", "charter"]
    ordering_fields = ["balance", "id"]

    def get_queryset(self):
        return CreditAccount.objects.visible_to(self.request.user).with_figures(_burn_since()).order_by("pk")


class LedgerTransactionViewSet(viewsets.ReadOnlyModelViewSet):
    """The ledger, read-only: every transaction with its balanced entries and, for a usage
    debit, the usage and the rate it was charged at. `?account=<id>` narrows to one account."""

    serializer_class = LedgerTransactionSerializer
    filterset_fields = ["kind"]
    ordering_fields = ["occurred_at", "id"]

    def get_queryset(self):
        transactions = (
            LedgerTransaction.objects.visible_to(self.request.user)
            .prefetch_related(
                Prefetch("entries", queryset=LedgerEntry.objects.order_by("pk")),
                # A day's debit has up to 24 records per resource; the page reads them once.
                "usage_records",
                "reversed_by",
            )
            .order_by("-occurred_at", "-pk")
        )
        account = self.request.query_params.get("account")
        if account:
            # Only an id filters (values.parse_id: "²" passes isdigit() but is none).
            account_id = values.parse_id(account, what="account id")
            transactions = transactions.filter(
                Exists(LedgerEntry.objects.filter(transaction=OuterRef("pk"), account_id=account_id))
            )
        return transactions


class CreditRequestViewSet(ServiceModelViewSet):
    """Credit requests: POST creates a draft; /submit/, /withdraw/ for the requester; /sign/
    and /reject/ for co-chairs at or below the dual-control limit (above it, a ballot)."""

    serializer_class = CreditRequestSerializer
    filterset_fields = ["status", "charter", "resource", "pool", "requested_by"]
    ordering_fields = ["created_at", "amount"]
    create_service = staticmethod(requests.create_request)
    update_service = staticmethod(requests.update_request)

    def may_create(self, user) -> bool:
        # Whether the person may ask for this charter is the service's answer (403 with why).
        return user.is_authenticated

    def may_change(self, user, obj) -> bool:
        return permissions.may_change_request(user, obj)

    def get_queryset(self):
        return CreditRequest.objects.visible_to(self.request.user).with_related().order_by("-created_at", "-pk")

    def _answer(self, credit_request) -> Response:
        fresh = self.get_queryset().get(pk=credit_request.pk)
        return Response(self.get_serializer(fresh).data)

    @extend_schema(request=None, responses=CreditRequestSerializer)
    @action(detail=True, methods=["post"])
    def submit(self, request, pk=None):
        return self._answer(requests.submit_request(request.user, self.get_object()))

    @extend_schema(request=None, responses=CreditRequestSerializer)
    @action(detail=True, methods=["post"])
    def withdraw(self, request, pk=None):
        return self._answer(requests.withdraw_request(request.user, self.get_object()))

    @extend_schema(request=SignSerializer, responses=CreditRequestSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def sign(self, request, pk=None):
        """A co-chair's signature; the second sector's approves and allocates (409 with the
        pool's `available` amount when it cannot fund the award)."""
        credit_request = self.get_object()  # 404 first: validation must not reveal what exists
        serializer = SignSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._answer(requests.sign_request(request.user, credit_request, **serializer.validated_data))

    @extend_schema(request=RejectSerializer, responses=CreditRequestSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAuthenticated])
    def reject(self, request, pk=None):
        credit_request = self.get_object()
        serializer = RejectSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        return self._answer(requests.reject_request(request.user, credit_request, **serializer.validated_data))


class CreditTransferViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Transfers between charters' accounts: proposed by one lead, done when the other consents."""

    serializer_class = CreditTransferSerializer
    filterset_fields = ["status", "source", "target"]

    def get_queryset(self):
        return CreditTransfer.objects.visible_to(self.request.user).order_by("-created_at", "-pk")

    def perform_create(self, serializer):
        serializer.instance = transfers.propose_transfer(self.request.user, **serializer.validated_data)

    @extend_schema(request=None, responses=CreditTransferSerializer)
    @action(detail=True, methods=["post"])
    def consent(self, request, pk=None):
        return Response(self.get_serializer(transfers.consent_transfer(request.user, self.get_object())).data)

    @extend_schema(request=None, responses=CreditTransferSerializer)
    @action(detail=True, methods=["post"])
    def decline(self, request, pk=None):
        return Response(self.get_serializer(transfers.decline_transfer(request.user, self.get_object())).data)


class CreditRefundViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Refunds of usage debits after an infrastructure fault: approved by each sector's
    co-chair (applied once both have), or turned down by one."""

    serializer_class = CreditRefundSerializer
    filterset_fields = ["status", "account"]

    def get_queryset(self):
        return (
            CreditRefund.objects.visible_to(self.request.user)
            .prefetch_related("debits", "records", "approvals")
            .order_by("-created_at", "-pk")
        )

    def perform_create(self, serializer):
        serializer.instance = refunds.request_refund(self.request.user, **serializer.validated_data)

    def _decide(self, request, approve: bool) -> Response:
        refund = self.get_object()
        serializer = DecisionNoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        refund = refunds.decide_refund(request.user, refund, approve=approve, **serializer.validated_data)
        return Response(self.get_serializer(refund).data)

    @extend_schema(request=DecisionNoteSerializer, responses=CreditRefundSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, approve=True)

    @extend_schema(request=DecisionNoteSerializer, responses=CreditRefundSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, approve=False)


class LedgerReversalViewSet(
    mixins.CreateModelMixin, mixins.ListModelMixin, mixins.RetrieveModelMixin, viewsets.GenericViewSet
):
    """Corrections of the ledger: an administrator proposes to reverse a transaction; the
    mirror transaction is written once each sector's co-chair of the committee holding its
    accounts has approved (or the proposal ends when one turns it down)."""

    serializer_class = LedgerReversalSerializer
    filterset_fields = ["status", "original", "committee"]

    def get_queryset(self):
        return (
            LedgerReversal.objects.visible_to(self.request.user)
            .prefetch_related("approvals")
            .order_by("-created_at", "-pk")
        )

    def perform_create(self, serializer):
        serializer.instance = refunds.propose_reversal(self.request.user, **serializer.validated_data)

    def _decide(self, request, approve: bool) -> Response:
        proposal = self.get_object()
        serializer = DecisionNoteSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        proposal = refunds.decide_reversal(request.user, proposal, approve=approve, **serializer.validated_data)
        return Response(self.get_serializer(proposal).data)

    @extend_schema(request=DecisionNoteSerializer, responses=LedgerReversalSerializer)
    @action(detail=True, methods=["post"])
    def approve(self, request, pk=None):
        return self._decide(request, approve=True)

    @extend_schema(request=DecisionNoteSerializer, responses=LedgerReversalSerializer)
    @action(detail=True, methods=["post"])
    def reject(self, request, pk=None):
        return self._decide(request, approve=False)
