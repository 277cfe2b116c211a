from django.urls import path
from rest_framework.routers import DefaultRouter

from compute.api.views import credits, metrics

router = DefaultRouter()
# Credits
router.register("resources", credits.ResourceViewSet, basename="resource")
router.register("credit-pools", credits.CreditPoolViewSet, basename="creditpool")
router.register("credit-accounts", credits.CreditAccountViewSet, basename="creditaccount")
router.register("credit-transactions", credits.LedgerTransactionViewSet, basename="credittransaction")
router.register("credit-requests", credits.CreditRequestViewSet, basename="creditrequest")
router.register("credit-transfers", credits.CreditTransferViewSet, basename="credittransfer")
router.register("credit-refunds", credits.CreditRefundViewSet, basename="creditrefund")
router.register("ledger-reversals", credits.LedgerReversalViewSet, basename="ledgerreversal")
# Metrics and security posture
router.register("metric-sources", metrics.MetricSourceViewSet, basename="metricsource")
router.register("security-reports", metrics.SecurityReportViewSet, basename="securityreport")

urlpatterns = [
    path("metrics/ingest/", metrics.MetricIngestView.as_view(), name="metrics-ingest"),
    path("metrics/series/", metrics.MetricSeriesView.as_view(), name="metrics-series"),
    *router.urls,
]
