"""Single sign-on URLs: allauth's OpenID Connect sign-in and callback, and nothing else of
allauth (no local sign-up, no password pages); under /accounts/."""

from django.urls import path

from identity import views

urlpatterns = [
    path("oidc/<str:provider_id>/login/", views.login, name="openid_connect_login"),
    path("oidc/<str:provider_id>/login/callback/", views.callback, name="openid_connect_callback"),
    path("cancelled/", views.cancelled, name="socialaccount_login_cancelled"),
]
