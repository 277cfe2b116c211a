from django.urls import path

from compute import views
from compute.views import credits, metrics

app_name = "compute"
urlpatterns = [
    path("", views.index, name="index"),
    # Credits
    path("credits/", credits.credits_overview, name="credits"),
    path("resources/", credits.resource_list, name="resource-list"),
    path("requests/", credits.request_list, name="request-list"),
    path("requests/new/", credits.request_create, name="request-create"),
    path("requests/quote/", credits.request_quote, name="request-quote"),
    path("requests/awaiting/", credits.requests_awaiting, name="requests-awaiting"),
    path("requests/<int:pk>/", credits.request_detail, name="request-detail"),
    path("requests/<int:pk>/<slug:act>/", credits.request_action, name="request-action"),
    path("accounts/<int:pk>/", credits.account_detail, name="account-detail"),
    path("accounts/<int:pk>/transfer/", credits.account_transfer, name="account-transfer"),
    path("accounts/<int:pk>/refund/", credits.account_refund, name="account-refund"),
    path("transfers/<int:pk>/<slug:act>/", credits.transfer_action, name="transfer-action"),
    path("refunds/<int:pk>/<slug:act>/", credits.refund_action, name="refund-action"),
    path("reversals/<int:pk>/<slug:act>/", credits.reversal_action, name="reversal-action"),
    path("pools/", credits.pool_list, name="pool-list"),
    path("pools/<int:pk>/", credits.pool_detail, name="pool-detail"),
    path("oversubscription/", credits.oversubscription, name="oversubscription"),
]

# Dashboards of the metrics half of the app.
urlpatterns += [
    path("dashboards/", metrics.utilization, name="dashboard-utilization"),
    path("dashboards/table/", metrics.utilization_table, name="dashboard-table"),
    path("dashboards/usage/", metrics.usage, name="dashboard-usage"),
    path("dashboards/security/", metrics.security_posture, name="dashboard-security"),
    path("dashboards/security/upload/", metrics.upload_report, name="security-upload"),
]
