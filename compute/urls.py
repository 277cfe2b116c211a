from django.urls import path

from compute import metrics_views, views

app_name = "compute"
urlpatterns = [
    path("", views.index, name="index"),
]

# Dashboards of the metrics half of the app.
urlpatterns += [
    path("dashboards/", metrics_views.utilization, name="dashboard-utilization"),
    path("dashboards/usage/", metrics_views.usage, name="dashboard-usage"),
    path("dashboards/security/", metrics_views.security_posture, name="dashboard-security"),
    path("dashboards/security/upload/", metrics_views.upload_report, name="security-upload"),
]
