from django.urls import path
from rest_framework.routers import DefaultRouter

from compute.api import metrics_views, views

router = DefaultRouter()
# Credits
router.register("resources", views.ResourceViewSet, basename="resource")
router.register("credit-pools", views.CreditPoolViewSet, basename="creditpool")
router.register("credit-accounts", views.CreditAccountViewSet, basename="creditaccount")
router.register("credit-transactions", views.LedgerTransactionViewSet, basename="credittransaction")
router.register("credit-requests", views.CreditRequestViewSet, basename="creditrequest")
router.register("credit-transfers", views.CreditTransferViewSet, basename="credittransfer")
router.register("credit-refunds", views.CreditRefundViewSet, basename="creditrefund")
# Metrics and security posture
router.register("metric-sources", metrics_views.MetricSourceViewSet, basename="metricsource")
router.register("security-reports", metrics_views.SecurityReportViewSet, basename="securityreport")

urlpatterns = [
    path("metrics/ingest/", metrics_views.MetricIngestView.as_view(), name="metrics-ingest"),
    path("metrics/series/", metrics_views.MetricSeriesView.as_view(), name="metrics-series"),
    *router.urls,
]
