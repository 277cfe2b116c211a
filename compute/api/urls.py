from django.urls import path
from rest_framework.routers import DefaultRouter

from compute.api import metrics_views

router = DefaultRouter()
router.register("metric-sources", metrics_views.MetricSourceViewSet, basename="metricsource")
router.register("security-reports", metrics_views.SecurityReportViewSet, basename="securityreport")

urlpatterns = [
    path("metrics/ingest/", metrics_views.MetricIngestView.as_view(), name="metrics-ingest"),
    path("metrics/series/", metrics_views.MetricSeriesView.as_view(), name="metrics-series"),
    *router.urls,
]
