"""CSRF on every form and API write made with a session, session expiry, and secrets kept out
of the logs and the audit log: passwords, API tokens, push tokens, bearer tokens, TOTP secrets."""

from __future__ import annotations

import datetime
import json
import logging
import re

from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client, override_settings
from django.urls import URLPattern, URLResolver, get_resolver
from django.utils import timezone

from compute.models import Resource
from compute.services.metrics import sources
from governance.models import AuditEvent
from tests.base import PASSWORD, PortalTestCase
from tests.otp import totp

# Page views that may take a POST without a CSRF token: none.
# The record's public endpoints: anonymous, GET only, and they change nothing.
CSRF_EXEMPT_PAGES: set[str] = {
    "/transparency/checkpoint",
    "/transparency/keys",
    "/transparency/proof/inclusion",
    "/transparency/proof/consistency",
    "/transparency/entries",
}


def page_routes() -> list[tuple[str, object]]:
    """Every URL pattern outside /api/ and /admin/ with sample arguments filled in."""
    found = []

    def walk(patterns, prefix: str) -> None:
        for entry in patterns:
            route = str(entry.pattern)
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, prefix + route)
            elif isinstance(entry, URLPattern):
                path = prefix + route
                if path.startswith(("api/", "admin/", "static/")):
                    continue
                sample = re.sub(r"<int:\w+>", "1", path)
                sample = re.sub(r"<(?:slug|str):\w+>", "x", sample)
                found.append(("/" + sample, entry.callback))

    walk(get_resolver().url_patterns, "")
    return found


class LogCapture(logging.Handler):
    """Every record any logger emits, formatted with its arguments and exception."""

    def __init__(self):
        super().__init__(level=logging.DEBUG)
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
        self.lines: list[str] = []

    def emit(self, record):
        self.lines.append(self.format(record))

    def __enter__(self):
        root = logging.getLogger()
        self.level_before = root.level
        root.addHandler(self)
        root.setLevel(logging.DEBUG)
        return self

    def __exit__(self, *exc):
        root = logging.getLogger()
        root.removeHandler(self)
        root.setLevel(self.level_before)

    @property
    def text(self) -> str:
        return "\n".join(self.lines)


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class CSRFTests(PortalTestCase):
    def test_no_page_view_is_exempt_from_csrf(self):
        exempt = {path for path, view in page_routes() if getattr(view, "csrf_exempt", False)}
        self.assertEqual(exempt, CSRF_EXEMPT_PAGES)

    def test_every_page_refuses_a_post_without_a_csrf_token(self):
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.admin)
        events_before = AuditEvent.objects.count()
        routes = page_routes()
        self.assertGreater(len(routes), 50)
        for path, _view in routes:
            with self.subTest(path=path):
                response = client.post(path, {"title": "forged"})
                self.assertEqual(response.status_code, 403, f"{path} took a POST without a CSRF token")
        self.assertEqual(AuditEvent.objects.count(), events_before, "nothing was changed")

    def test_the_login_form_needs_its_token_too(self):
        client = Client(enforce_csrf_checks=True)
        response = client.post("/login/", {"username": "carla", "password": PASSWORD})
        self.assertEqual(response.status_code, 403)
        self.assertNotIn("_auth_user_id", client.session)

    def test_an_api_write_with_a_session_needs_the_csrf_token_and_one_with_a_token_does_not(self):
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.admin)
        body = {"name": "Forged Org", "sector": "public"}
        response = client.post("/api/organizations/", body, content_type="application/json")
        self.assertEqual(response.status_code, 403)
        self.assertIn("CSRF", response.json()["detail"])
        token = self.api().post("/api/auth/token/", {"username": "admin", "password": PASSWORD}).json()["token"]
        response = Client(enforce_csrf_checks=True).post(
            "/api/organizations/", body, content_type="application/json", HTTP_AUTHORIZATION=f"Token {token}"
        )
        self.assertEqual(response.status_code, 201, response.content)


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class SecretsAreNeverLoggedTests(PortalTestCase):
    def assert_nowhere(self, secret: str, logs: LogCapture) -> None:
        self.assertNotIn(secret, logs.text, "a secret reached the logs")
        for event in AuditEvent.objects.all():
            recorded = json.dumps([event.changes, event.object_repr, event.actor_repr], default=str)
            self.assertNotIn(secret, recorded, f"audit event {event.verb}")

    def test_passwords_and_api_tokens_stay_out_of_the_logs(self):
        wrong = "Wrong-Horse-Battery-9"
        with LogCapture() as logs:
            client = self.api()
            for _ in range(3):
                client.post("/api/auth/token/", {"username": "carla", "password": wrong})
            self.client.post("/login/", {"username": "carla", "password": wrong})
            token = client.post("/api/auth/token/", {"username": "carla", "password": PASSWORD}).json()["token"]
            client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
            client.get("/api/ballots/")
            client.get("/api/ballots/999999/")  # a 404, which django.request logs
            client.post("/api/organizations/", {"name": "X", "sector": "public"})  # a 403, logged too
        self.assertIn("Not Found: /api/ballots/999999/", logs.text, "the capture sees django.request")
        for secret in (wrong, PASSWORD, token):
            self.assert_nowhere(secret, logs)

    def test_metric_source_tokens_stay_out_of_the_logs_and_the_audit_log(self):
        cluster = Resource.objects.create(name="Edge GPU rack", kind="gpu_cluster", capacity=4, jurisdiction="EU")
        bearer = "prometheus-bearer-5f2a9c"
        with LogCapture() as logs:
            push = sources.create_source(self.admin, name="Edge agent", kind="push", resource=cluster)
            pull = sources.create_source(
                self.admin,
                name="Cluster Prometheus",
                kind="prometheus",
                resource=cluster,
                url="http://127.0.0.1:9/",
                bearer_token=bearer,
            )
            sources.update_source(self.admin, pull, bearer_token=bearer + "-rotated")
            response = self.api().generic(
                "POST",
                "/api/metrics/ingest/",
                json.dumps({"samples": [{"metric": "x", "time": "not a time", "value": 1}]}),
                content_type="application/json",
                HTTP_AUTHORIZATION=f"Bearer {push.plain_token}",
            )
            self.assertEqual(response.status_code, 400)
            listed = self.api(self.admin).get(f"/api/metric-sources/{pull.pk}/").json()
        self.assertNotIn("bearer_token", listed)
        for secret in (push.plain_token, bearer, bearer + "-rotated"):
            self.assertNotIn(secret, json.dumps(listed))
            self.assert_nowhere(secret, logs)

    def test_a_totp_secret_stays_out_of_the_logs_and_the_audit_log(self):
        with LogCapture() as logs:
            self.client.force_login(self.public_chair)
            html = self.client.get("/account/two-factor/").content.decode()
            secret = re.search(r'id="totp-secret">([A-Z2-7=]+)<', html).group(1)
            code = totp(secret)
            self.client.post("/account/two-factor/", {"code": code})
        self.assertTrue(AuditEvent.objects.filter(verb="two_factor.enrolled").exists())
        self.assert_nowhere(secret, logs)


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class SessionExpiryTests(PortalTestCase):
    def test_a_session_ends_with_the_browser_and_after_eight_hours_on_the_server(self):
        response = self.client.post("/login/", {"username": "carla", "password": PASSWORD})
        self.assertRedirects(response, "/")
        cookie = response.cookies["sessionid"]
        self.assertEqual((cookie["expires"], cookie["max-age"]), ("", ""), "a session cookie, gone with the browser")
        self.assertTrue(cookie["httponly"])
        session = Session.objects.get(session_key=cookie.value)
        self.assertAlmostEqual(
            (session.expire_date - timezone.now()).total_seconds(), settings.SESSION_COOKIE_AGE, delta=60
        )
        self.assertEqual(settings.SESSION_COOKIE_AGE, 8 * 60 * 60)
        self.assertEqual(self.client.get("/").status_code, 200)

        Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - datetime.timedelta(seconds=1))
        self.assertRedirects(self.client.get("/charters/"), "/login/?next=/charters/")
        self.assertEqual(self.client.get("/api/ballots/").status_code, 401)
