"""Optional two-factor sign-in: a co-chair enrols an authenticator, and from then on the
password alone does not open the portal. Codes are computed here from the secret the page
shows, with RFC 6238 itself (HMAC-SHA1, 30-second steps, six digits), as an app would."""

from __future__ import annotations

import datetime
import re
import time

from django.test import override_settings
from django.utils import timezone

from governance.models import AuditEvent, Membership
from tests.base import PASSWORD, PortalTestCase
from tests.otp import totp


@override_settings(PASSWORD_HASHERS=["django.contrib.auth.hashers.MD5PasswordHasher"])
class TwoFactorTests(PortalTestCase):
    def enrol(self, user) -> str:
        self.client.force_login(user)
        page = self.client.get("/account/two-factor/")
        self.assertEqual(page.status_code, 200)
        html = page.content.decode()
        self.assertIn("<svg", html)
        self.assertNotRegex(html, r"<script(?![^>]*\bsrc=)", "the page has no inline script")
        secret = re.search(r'id="totp-secret">([A-Z2-7=]+)<', html).group(1)
        response = self.client.post("/account/two-factor/", {"code": totp(secret)})
        self.assertRedirects(response, "/account/two-factor/")
        self.assertContains(self.client.get("/account/two-factor/"), "Two-factor sign-in is on")
        self.client.logout()
        return secret

    def log_in_with_password(self, user):
        return self.client.post("/login/", {"username": user.username, "password": PASSWORD})

    def test_the_header_offers_two_factor_sign_in_to_co_chairs_and_follows_their_seat(self):
        link = 'href="/account/two-factor/"'
        self.client.force_login(self.public_member)
        self.assertNotContains(self.client.get("/meetings/"), link)
        self.client.force_login(self.public_chair)
        self.assertContains(self.client.get("/meetings/"), link)
        # The seat's term ended yesterday: the very next page no longer offers it.
        yesterday = timezone.localdate() - datetime.timedelta(days=1)
        Membership.objects.filter(user=self.public_chair, role="chair").update(term_end=yesterday)
        self.assertNotContains(self.client.get("/meetings/"), link)

    def test_a_co_chair_enrols_and_then_needs_a_code_after_the_password(self):
        secret = self.enrol(self.public_chair)
        self.assertTrue(AuditEvent.objects.filter(verb="two_factor.enrolled").exists())

        self.log_in_with_password(self.public_chair)
        home = self.client.get("/")
        self.assertRedirects(home, "/account/two-factor/verify/?next=/", fetch_redirect_response=False)
        self.assertEqual(self.client.get("/api/ballots/").status_code, 403)

        # The enrolment spent this 30-second step's code, and a code is never accepted twice:
        # the app's next code (one step of clock drift is allowed) opens the session.
        right = self.client.post("/account/two-factor/verify/", {"code": totp(secret, time.time() + 30), "next": "/"})
        self.assertRedirects(right, "/", fetch_redirect_response=False)
        self.assertEqual(self.client.get("/").status_code, 200)
        self.assertEqual(self.client.get("/api/ballots/").status_code, 200)

    def test_a_wrong_code_keeps_the_portal_closed(self):
        secret = self.enrol(self.private_chair)
        self.log_in_with_password(self.private_chair)
        wrong = self.client.post(
            "/account/two-factor/verify/",
            {"code": "000000" if totp(secret, time.time() + 30) != "000000" else "111111"},
        )
        self.assertContains(wrong, "That code is not the current one")
        self.assertEqual(self.client.get("/").status_code, 302)

    def test_a_wrong_code_does_not_turn_two_factor_on(self):
        self.client.force_login(self.admin)
        self.client.get("/account/two-factor/")
        response = self.client.post("/account/two-factor/", {"code": "12345"})
        self.assertContains(response, "Enter the six digits")
        self.client.logout()
        self.log_in_with_password(self.admin)
        self.assertEqual(self.client.get("/").status_code, 200)

    def test_people_without_a_device_sign_in_with_their_password_alone(self):
        self.log_in_with_password(self.public_member)
        self.assertEqual(self.client.get("/").status_code, 200)

    def test_only_co_chairs_and_administrators_are_offered_enrolment(self):
        self.client.force_login(self.public_member)
        self.assertEqual(self.client.get("/account/two-factor/").status_code, 403)
        self.assertNotContains(self.client.get("/"), 'href="/account/two-factor/"')
        for person in (self.public_chair, self.admin):
            self.client.force_login(person)
            self.assertContains(
                self.client.get("/"), '<a href="/account/two-factor/">Two-factor sign-in</a>', html=True
            )

    def test_the_code_page_never_sends_a_person_to_another_site(self):
        secret = self.enrol(self.private_chair)
        self.log_in_with_password(self.private_chair)
        response = self.client.post(
            "/account/two-factor/verify/", {"code": totp(secret, time.time() + 30), "next": "https://evil.example/"}
        )
        self.assertRedirects(response, "/", fetch_redirect_response=False)
