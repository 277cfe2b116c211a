from django.urls import path

from charters import views

app_name = "charters"
urlpatterns = [
    path("", views.index, name="index"),
]
