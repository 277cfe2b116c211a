from django.urls import path

from compute import credit_views, metrics_views, views

app_name = "compute"
urlpatterns = [
    path("", views.index, name="index"),
    # Credits
    path("credits/", credit_views.credits_overview, name="credits"),
    path("resources/", credit_views.resource_list, name="resource-list"),
    path("requests/", credit_views.request_list, name="request-list"),
    path("requests/new/", credit_views.request_create, name="request-create"),
    path("requests/quote/", credit_views.request_quote, name="request-quote"),
    path("requests/awaiting/", credit_views.requests_awaiting, name="requests-awaiting"),
    path("requests/<int:pk>/", credit_views.request_detail, name="request-detail"),
    path("requests/<int:pk>/<slug:act>/", credit_views.request_action, name="request-action"),
    path("accounts/<int:pk>/", credit_views.account_detail, name="account-detail"),
    path("accounts/<int:pk>/transfer/", credit_views.account_transfer, name="account-transfer"),
    path("accounts/<int:pk>/refund/", credit_views.account_refund, name="account-refund"),
    path("transfers/<int:pk>/<slug:act>/", credit_views.transfer_action, name="transfer-action"),
    path("refunds/<int:pk>/<slug:act>/", credit_views.refund_action, name="refund-action"),
    path("pools/", credit_views.pool_list, name="pool-list"),
    path("pools/<int:pk>/", credit_views.pool_detail, name="pool-detail"),
    path("oversubscription/", credit_views.oversubscription, name="oversubscription"),
]

# Dashboards of the metrics half of the app.
urlpatterns += [
    path("dashboards/", metrics_views.utilization, name="dashboard-utilization"),
    path("dashboards/usage/", metrics_views.usage, name="dashboard-usage"),
    path("dashboards/security/", metrics_views.security_posture, name="dashboard-security"),
    path("dashboards/security/upload/", metrics_views.upload_report, name="security-upload"),
]
