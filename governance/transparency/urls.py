"""/transparency/… (DESIGN §3): exact paths, no trailing slash, answered directly."""

from django.urls import path

from governance.transparency import views

app_name = "transparency"

urlpatterns = [
    path("checkpoint", views.checkpoint, name="checkpoint"),
    path("keys", views.keys, name="keys"),
    path("proof/inclusion", views.inclusion, name="inclusion"),
    path("proof/consistency", views.consistency, name="consistency"),
    path("entries", views.entries, name="entries"),
]
