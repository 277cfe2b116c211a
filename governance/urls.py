"""Root URLs: the pages of each app, the API under /api/, the admin."""

from django.contrib import admin
from django.contrib.auth import views as auth_views
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerSplitView

from governance import page_urls, two_factor
from governance.api.schema_view import CachedSchemaView
from governance.api.views import obtain_token, powers
from governance.transparency import pages as transparency_pages
from governance.views import account, errors, people, substitutes
from identity import views as identity_views

api_patterns = [
    path("auth/token/", obtain_token, name="api-token"),
    path("powers/", powers, name="api-powers"),
    path("schema/", CachedSchemaView.as_view(), name="api-schema"),
    # The split view serves its start-up script as a file, so the strict CSP holds here too.
    path("docs/", SpectacularSwaggerSplitView.as_view(url_name="api-schema"), name="api-docs"),
    path("", include("governance.api.urls")),
    path("", include("charters.api.urls")),
    path("", include("compute.api.urls")),
    path("", include("roadmap.api.urls")),
]

urlpatterns = [
    path("", people.home, name="home"),
    path("login/", identity_views.LoginView.as_view(), name="login"),
    # Single sign-on: allauth's OpenID Connect sign-in and callback only (identity/urls.py).
    path("accounts/", include("identity.urls")),
    path("logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("account/", account.account, name="account"),
    path("account/delivery/", account.delivery, name="notification-delivery"),
    path("substitutes/", substitutes.substitutes, name="substitutes"),
    path("substitutes/<int:pk>/withdraw/", substitutes.withdraw, name="substitute-withdraw"),
    path("account/password/", account.PasswordChange.as_view(), name="password-change"),
    path("account/sign-out-everywhere/", account.sign_out_everywhere, name="sign-out-everywhere"),
    path("account/api-token/", account.issue_api_token, name="issue-api-token"),
    path("account/two-factor/", two_factor.enrol, name="two-factor"),
    path("account/two-factor/verify/", two_factor.verify, name="two-factor-verify"),
    path("healthz/", errors.healthz, name="healthz"),
    path("", include("governance.page_urls")),
    path("ballots/", include((page_urls.ballot_patterns, "ballots"))),
    path("meetings/", include((page_urls.meeting_patterns, "meetings"))),
    path("sops/", include((page_urls.sop_patterns, "sops"))),
    path("charters/", include("charters.urls")),
    path("compute/", include("compute.urls")),
    path("roadmap/", include("roadmap.urls")),
    path("api/", include(api_patterns)),
    path("transparency/", include("governance.transparency.urls")),
    path("public/", include("governance.public.urls")),
    path("audit/", transparency_pages.audit_log, name="audit-log"),
    path("audit/verify/", transparency_pages.audit_verify, name="audit-verify"),
    path("audit/events.csv", transparency_pages.audit_csv, name="audit-csv"),
    path("admin/", admin.site.urls),
]

handler400 = "governance.views.errors.bad_request"
handler403 = "governance.views.errors.permission_denied"
handler404 = "governance.views.errors.page_not_found"
handler500 = "governance.views.errors.server_error"
