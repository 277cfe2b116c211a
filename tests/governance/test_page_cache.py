"""Signed-in pages are served again only while no writer has committed since
(governance/page_cache.py): the same person, the same page, the same database snapshot.

Transactional tests: inside a test's open transaction nothing is kept (its own writes are in
no snapshot), so these commit as the portal does."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.test import Client, TransactionTestCase, override_settings
from django.test.utils import CaptureQueriesContext

from governance import page_cache
from tests.base import make_body
from tests.governance.ballot_support import FAST_HASHING, BallotTestCase

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


def served_again(client: Client, url: str, tries: int = 50):
    """The page as the cache serves it. The snapshot is the whole server's: another session's
    commit (a parallel test's) between two visits rightly renders the page afresh, so visit
    until two in a row saw none."""
    for _ in range(tries):
        response = client.get(url)
        if response.get("X-Page-Cache") == "hit":
            return response
    return response


@FAST_HASHING
@override_settings(SIGNED_IN_PAGE_CACHE_SECONDS=60)
class SignedInPageCacheTests(TransactionTestCase):
    motion = BallotTestCase.motion

    def setUp(self):
        for name, value in vars(make_body()).items():
            setattr(self, name, value)
        cache.clear()
        self.motion("Adopt the meeting calendar")
        self.client = Client()
        self.client.force_login(self.public_member)

    def test_a_page_is_served_again_while_nothing_is_written(self):
        first = self.client.get("/ballots/")
        self.assertNotIn("X-Page-Cache", first)
        served_again(self.client, "/ballots/")
        # The queries of one hit: a parallel test's commit between two visits renders the page
        # afresh (rightly), and the queries of that render are not the hit's.
        for _ in range(50):
            with CaptureQueriesContext(connection) as kept:
                again = self.client.get("/ballots/")
            if again.get("X-Page-Cache") == "hit":
                break
        self.assertEqual(again["X-Page-Cache"], "hit")
        self.assertContains(again, "Adopt the meeting calendar")
        # The session, the person, two-factor and the snapshot: nothing of the page.
        self.assertLessEqual(len(kept), 4)
        self.assertFalse(any("governance_ballot" in q["sql"] for q in kept))

    def test_any_write_renders_the_page_afresh_with_what_was_written(self):
        self.assertEqual(served_again(self.client, "/ballots/")["X-Page-Cache"], "hit")
        self.motion("Approve the travel budget")
        page = self.client.get("/ballots/")
        self.assertNotIn("X-Page-Cache", page)
        self.assertContains(page, "Approve the travel budget")

    def test_a_page_kept_for_one_person_is_never_served_to_another(self):
        self.assertEqual(served_again(self.client, "/ballots/")["X-Page-Cache"], "hit")
        other = Client()
        other.force_login(self.private_member)
        page = other.get("/ballots/")
        self.assertNotIn("X-Page-Cache", page)
        self.assertContains(page, self.private_member.get_full_name() or self.private_member.username)

    def test_a_kept_page_carries_a_token_of_the_persons_own_that_posts(self):
        client = Client(enforce_csrf_checks=True)
        client.force_login(self.public_member)
        page = served_again(client, "/ballots/")
        self.assertEqual(page["X-Page-Cache"], "hit")
        content = page.content.decode()
        self.assertNotIn(page_cache.CSRF_PLACEHOLDER, content)
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', content).group(1)
        response = client.post("/logout/", {"csrfmiddlewaretoken": token})
        self.assertEqual(response.status_code, 302)

    def test_a_waiting_flash_is_shown_once_and_never_kept(self):
        # A refused vote writes nothing; its flash waits in a cookie for the ballot's page.
        ballot = self.motion("Approve the travel budget")
        url = f"/ballots/{ballot.pk}/"
        self.assertEqual(served_again(self.client, url)["X-Page-Cache"], "hit")
        self.client.post(f"{url}vote/", {"choice": "maybe"})
        shown = self.client.get(url)
        self.assertContains(shown, "Choose yes, no or abstain.")
        self.assertNotIn("X-Page-Cache", shown)
        self.assertNotContains(served_again(self.client, url), "Choose yes, no or abstain.")

    def test_a_person_held_at_the_code_page_never_reaches_a_kept_page(self):
        from django_otp.plugins.otp_totp.models import TOTPDevice

        self.assertEqual(served_again(self.client, "/ballots/")["X-Page-Cache"], "hit")
        TOTPDevice.objects.create(user=self.public_member, name="phone", confirmed=True)
        held = self.client.get("/ballots/")
        self.assertEqual(held.status_code, 302)
        self.assertIn("/account/two-factor/verify/", held["Location"])

    def test_nothing_is_kept_inside_an_open_transaction(self):
        from django.db import transaction

        with transaction.atomic():
            self.client.get("/ballots/")
            self.motion("Approve the travel budget")  # not committed: in no snapshot yet
            page = self.client.get("/ballots/")
        self.assertNotIn("X-Page-Cache", page)
        self.assertContains(page, "Approve the travel budget")

    def test_nothing_is_kept_without_a_cache_outside_the_database(self):
        with override_settings(CACHES={"default": {"BACKEND": "django.core.cache.backends.db.DatabaseCache"}}):
            self.assertFalse(page_cache.enabled())
        with override_settings(SIGNED_IN_PAGE_CACHE_SECONDS=0):
            self.assertFalse(page_cache.enabled())
