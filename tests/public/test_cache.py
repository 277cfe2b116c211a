"""Public pages are cached for anonymous visitors, and a publication makes them stale at once."""

from __future__ import annotations

from django.core.cache import cache
from django.db import connection
from django.test import Client, override_settings
from django.test.utils import CaptureQueriesContext

from governance import services
from governance.public.cache import invalidate
from tests.governance.ballot_support import BallotTestCase


@override_settings(PUBLIC_CACHE_SECONDS=300, PUBLIC_RATE_LIMIT="100000/min")
class PublicCacheTests(BallotTestCase):
    def setUp(self):
        super().setUp()
        cache.clear()

    def test_a_cached_page_is_served_again_until_something_is_published(self):
        first = self.motion("First motion")
        self.votes(first, public_chair="yes", public_member="yes", private_chair="yes", private_member="yes")
        services.close_ballot(self.public_chair, first)
        page = Client().get("/public/decisions/")
        self.assertContains(page, "First motion")
        self.assertEqual(page["Cache-Control"], "public, max-age=60")

        second = self.motion("Second motion")
        self.votes(second, public_chair="yes", public_member="yes", private_chair="yes", private_member="yes")
        services.close_ballot(self.public_chair, second)
        # Closing the ballot appended events to the log: the cached page is stale.
        self.assertContains(Client().get("/public/decisions/"), "Second motion")

    def test_derived_data_without_an_event_invalidates_the_pages_itself(self):
        Client().get("/public/usage/")
        with CaptureQueriesContext(connection) as warm:
            Client().get("/public/usage/")
        invalidate()
        with CaptureQueriesContext(connection) as cold:
            Client().get("/public/usage/")
        self.assertLess(len(warm), len(cold))

    def test_signed_in_people_get_their_own_header_never_a_cached_anonymous_page(self):
        Client().get("/public/")
        client = Client()
        client.force_login(self.public_chair)
        self.assertContains(client.get("/public/"), "Log out")

    def test_a_visitor_with_a_session_never_gets_the_shared_cache(self):
        Client().get("/public/charters/")  # cached now for visitors without a session
        with_session = Client()
        with_session.cookies["sessionid"] = "someone-elses"
        with CaptureQueriesContext(connection) as fresh:
            with_session.get("/public/charters/")
        with CaptureQueriesContext(connection) as shared:
            Client().get("/public/charters/")
        self.assertTrue(any("charters_charter" in q["sql"] for q in fresh))
        self.assertFalse(any("charters_charter" in q["sql"] for q in shared))
