"""Login throttling, the Content-Security-Policy and the other secure headers."""

from django.core.cache import cache
from django.test import override_settings

from tests.base import PASSWORD, PortalTestCase


class LockoutTests(PortalTestCase):
    def setUp(self):
        cache.clear()

    def test_five_failed_logins_lock_the_account_even_against_the_right_password(self):
        for _ in range(5):
            self.client.post("/login/", {"username": "carla", "password": "guess"})
        response = self.client.post("/login/", {"username": "carla", "password": PASSWORD})
        self.assertEqual(response.status_code, 429)
        self.assertContains(response, "Too many failed attempts", status_code=429)
        self.assertNotIn("_auth_user_id", self.client.session)

    def test_the_lockout_covers_the_api_token_endpoint(self):
        client = self.api()
        for _ in range(5):
            client.post("/api/auth/token/", {"username": "erik", "password": "guess"}, format="json")
        response = client.post("/api/auth/token/", {"username": "erik", "password": PASSWORD}, format="json")
        self.assertEqual(response.status_code, 429)

    def test_another_person_is_not_locked_out_by_someone_elses_failures(self):
        for _ in range(5):
            self.client.post("/login/", {"username": "carla", "password": "guess"})
        response = self.client.post("/login/", {"username": "erik", "password": PASSWORD})
        self.assertEqual(response.status_code, 302)


class LockoutBehindProxiesTests(PortalTestCase):
    """Five bad passwords lock one person out from one address: a client-sent
    X-Forwarded-For neither dodges the lockout nor turns it against someone elsewhere."""

    def setUp(self):
        cache.clear()

    def fail_five_times(self, **headers):
        for n in range(5):
            self.client.post("/login/", {"username": "carla", "password": f"guess-{n}"}, **headers)

    def test_a_forged_forwarded_for_header_does_not_dodge_the_lockout(self):
        for n in range(5):
            self.client.post(
                "/login/", {"username": "carla", "password": "guess"}, HTTP_X_FORWARDED_FOR=f"203.0.113.{n}"
            )
        response = self.client.post("/login/", {"username": "carla", "password": PASSWORD})
        self.assertEqual(response.status_code, 429)

    def test_failures_from_one_address_do_not_lock_the_person_out_from_another(self):
        self.fail_five_times(REMOTE_ADDR="198.51.100.7")
        response = self.client.post("/login/", {"username": "carla", "password": PASSWORD}, REMOTE_ADDR="198.51.100.8")
        self.assertEqual(response.status_code, 302)

    @override_settings(TRUSTED_PROXY_HOPS=1)
    def test_behind_one_trusted_proxy_the_forwarded_client_is_the_one_locked_out(self):
        proxy = {"REMOTE_ADDR": "10.0.0.2"}
        self.fail_five_times(HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy)
        locked = self.client.post(
            "/login/", {"username": "carla", "password": PASSWORD}, HTTP_X_FORWARDED_FOR="198.51.100.7", **proxy
        )
        self.assertEqual(locked.status_code, 429)
        # The person signing in from elsewhere, through the same proxy, is not locked out, even
        # when the attacker's client prepends a forged address of theirs.
        elsewhere = self.client.post(
            "/login/",
            {"username": "carla", "password": PASSWORD},
            HTTP_X_FORWARDED_FOR="198.51.100.7, 192.0.2.44",
            **proxy,
        )
        self.assertEqual(elsewhere.status_code, 302)


class HeaderTests(PortalTestCase):
    def test_pages_carry_a_strict_content_security_policy(self):
        response = self.client.get("/login/")
        policy = response["Content-Security-Policy"]
        self.assertIn("script-src 'self'", policy)
        self.assertNotIn("unsafe-eval", policy)
        self.assertNotIn("script-src 'self' 'unsafe-inline'", policy)
        self.assertIn("frame-ancestors 'none'", policy)

    def test_pages_carry_the_other_secure_headers(self):
        response = self.client.get("/login/")
        self.assertEqual(response["X-Frame-Options"], "DENY")
        self.assertEqual(response["X-Content-Type-Options"], "nosniff")
        self.assertEqual(response["Referrer-Policy"], "same-origin")
        self.assertEqual(response["Cross-Origin-Opener-Policy"], "same-origin")

    def test_no_page_of_ours_has_inline_script(self):
        self.client.force_login(self.public_chair)
        for url in ("/", "/login/", "/committees/", f"/committees/{self.committee.pk}/", "/organizations/"):
            html = self.client.get(url).content.decode()
            for chunk in html.split("<script")[1:]:
                tag = chunk.split(">", 1)[0]
                self.assertTrue("src=" in tag or 'type="application/json"' in tag, f"inline script on {url}")

    def test_the_session_cookie_is_http_only_and_ends_with_the_browser(self):
        response = self.client.post("/login/", {"username": "carla", "password": PASSWORD})
        cookie = response.cookies["sessionid"]
        self.assertTrue(cookie["httponly"])
        self.assertEqual(cookie["expires"], "")
